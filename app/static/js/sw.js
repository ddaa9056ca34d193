// Pawline's service worker, scoped to the sitter pages (/sitter).
// The shell cache holds nothing personal (the offline page, the stylesheets, the icons, the
// offline page's script): every sitter page, thread and poll goes to the network, so nothing a
// client wrote is ever stored on the phone by us. The one exception is today's visit card
// (first name, pets, address, care notes, the office's phone; never a message): kept in its own
// cache while its window is open or about to open, so it reads at the door with no signal, and
// deleted when the window ends, at logout, and when the visit is no longer this sitter's.
// Push: show the notification; a tap opens its page.
"use strict";

// /sw.js prepends PAWLINE_SHELL (the shell's current, content-hashed URLs) and its version.
var CACHE = "pawline-shell-" + (self.PAWLINE_SHELL_VERSION || "v1");
var SHELL = self.PAWLINE_SHELL || ["/offline"];
var CARDS = "pawline-cards";  // the same name in js/offline_cards.js

function cardUrl(id) { return "/sitter/visits/" + id + "/card"; }

// Each stored card carries `expires_local` (the phone's clock plus the seconds the server said
// were left): a card past it is never shown and is deleted here, on activation and every fetch.
function dropExpiredCards() {
  return caches.open(CARDS).then(function (cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(requests.map(function (request) {
        return cache.match(request).then(function (response) {
          return response ? response.json() : null;
        }).then(function (card) {
          if (!card || !(card.expires_local > Date.now())) return cache.delete(request);
          return null;
        }, function () { return cache.delete(request); });
      }));
    });
  });
}

function storeCard(cache, id) {
  return fetch(cardUrl(id), {
    credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" },
  }).then(function (response) {
    if (response.status === 404 || response.status === 401 || response.status === 403 ||
        (response.redirected && new URL(response.url).pathname === "/login")) {
      // Not (or no longer) this sitter's, outside its span, or the session has ended.
      return cache.delete(cardUrl(id));
    }
    if (!response.ok || (response.headers.get("Content-Type") || "").indexOf("application/json") !== 0) {
      return null;  // the server is struggling or the session ended: keep what we have
    }
    return response.json().then(function (card) {
      card.expires_local = Date.now() + card.expires_in * 1000;
      return cache.put(cardUrl(id), new Response(JSON.stringify(card), {
        headers: { "Content-Type": "application/json" },
      }));
    });
  }, function () { return null; });  // no signal: keep the card we have
}

// The dashboard lists the visits whose card the phone should hold now: fetch those, drop the rest.
function keepOnlyCards(ids) {
  var wanted = ids.map(cardUrl);
  return caches.open(CARDS).then(function (cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(requests.filter(function (request) {
        return wanted.indexOf(new URL(request.url).pathname) === -1;
      }).map(function (request) { return cache.delete(request); }));
    }).then(function () {
      return Promise.all(ids.map(function (id) { return storeCard(cache, id); }));
    });
  }).then(dropExpiredCards);
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  var done;
  if (data.type === "pawline-cards" && Array.isArray(data.ids)) {
    done = keepOnlyCards(data.ids.filter(function (id) { return /^\d+$/.test(String(id)); }));
  } else if (data.type === "pawline-card-keep" && Array.isArray(data.ids)) {
    // A visit page: store (or, outside its span, delete) this one card; the others stay as they are.
    done = caches.open(CARDS).then(function (cache) {
      return Promise.all(data.ids.filter(function (id) { return /^\d+$/.test(String(id)); }).map(function (id) {
        return storeCard(cache, id);
      }));
    });
  } else if (data.type === "pawline-logout") {
    done = caches.delete(CARDS);
  } else {
    return;
  }
  event.waitUntil(done.then(function () {
    if (event.source) event.source.postMessage({ type: data.type + "-done" });
  }));
});

self.addEventListener("install", function (event) {
  // The offline page must be cached; the rest is best effort (a renamed asset must not stop the install).
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.add(SHELL[0]).then(function () {
      return Promise.all(SHELL.slice(1).map(function (url) { return cache.add(url).catch(function () {}); }));
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name !== CACHE && name !== CARDS; }).map(function (name) {
      return caches.delete(name);
    }));
  }).then(dropExpiredCards).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  event.waitUntil(dropExpiredCards());
  if (request.method !== "GET" || request.mode !== "navigate") return;  // the network as usual
  // The offline page (from the shell cache) shows the visit cards this phone holds.
  event.respondWith(fetch(request).catch(function () {
    return caches.match("/offline", { cacheName: CACHE });
  }));
});

self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {}; }
  var title = data.title || "Pawline";
  event.waitUntil(self.registration.showNotification(title, {
    body: data.body || "",
    tag: data.tag || undefined,
    renotify: Boolean(data.tag),
    icon: SHELL[SHELL.length - 1],
    badge: SHELL[SHELL.length - 1],
    data: { url: data.url || "/sitter" },
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = new URL((event.notification.data && event.notification.data.url) || "/sitter", self.location.origin);
  if (target.origin !== self.location.origin) target = new URL("/sitter", self.location.origin);
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
    for (var i = 0; i < windows.length; i++) {
      if (windows[i].url === target.href && "focus" in windows[i]) return windows[i].focus();
    }
    return self.clients.openWindow(target.href);
  }));
});
