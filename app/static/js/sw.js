// Pawline's service worker, scoped to the sitter pages (/sitter).
// It caches only what holds no personal data (the offline page, the stylesheet, the icons):
// every sitter page, thread and poll goes to the network, so nothing a client wrote is
// ever stored on the phone by us. Push: show the notification; a tap opens its page.
"use strict";

// /sw.js prepends PAWLINE_SHELL (the shell's current, content-hashed URLs) and its version.
var CACHE = "pawline-shell-" + (self.PAWLINE_SHELL_VERSION || "v1");
var SHELL = self.PAWLINE_SHELL || ["/offline"];

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
    return Promise.all(names.filter(function (name) { return name !== CACHE; }).map(function (name) {
      return caches.delete(name);
    }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET" || request.mode !== "navigate") return;  // the network as usual
  event.respondWith(fetch(request).catch(function () {
    return caches.match("/offline");
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
