// Today's visit card on the phone (the service worker, js/sw.js, keeps it in Cache Storage).
// On sitter pages: hand the worker the visits the dashboard lists as current (it fetches their
// cards and drops every other one), and forget every card at logout. On the offline page: show
// the cards this phone holds, dropping any whose window has ended. Text only (textContent), no
// inline script: a strict Content-Security-Policy.
(function () {
  "use strict";

  var CARDS = "pawline-cards";  // the same name in js/sw.js

  function cardsSupported() { return "caches" in window; }

  // ---------------------------------------------------------------- reading what the phone holds

  function heldCards() {
    // Every card still within its window; expired ones are deleted on the way.
    if (!cardsSupported()) return Promise.resolve([]);
    return caches.open(CARDS).then(function (cache) {
      return cache.keys().then(function (requests) {
        return Promise.all(requests.map(function (request) {
          return cache.match(request).then(function (response) { return response ? response.json() : null; })
            .then(function (card) {
              if (card && card.expires_local > Date.now()) return card;
              return cache.delete(request).then(function () { return null; });
            }, function () { return cache.delete(request).then(function () { return null; }); });
        }));
      });
    }).then(function (cards) {
      return cards.filter(Boolean).sort(function (a, b) { return a.starts_at < b.starts_at ? -1 : 1; });
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function link(href, text) {
    var a = element("a", "", text);
    a.href = href;
    return a;
  }

  function renderCard(card) {
    var article = element("article", "card offline-card");
    article.setAttribute("data-offline-card", String(card.booking_id));
    var headingId = "offline-card-" + card.booking_id;
    article.setAttribute("aria-labelledby", headingId);
    var heading = element("h2", "", card.client_first_name + (card.pets ? " · " + card.pets : ""));
    heading.id = headingId;
    article.appendChild(heading);
    article.appendChild(element("p", "muted", card.when));
    if (card.address) {
      var where = element("p", "offline-address");
      where.appendChild(document.createTextNode("Address: "));
      where.appendChild(link(card.maps_url, card.address));
      article.appendChild(where);
    }
    if (card.notes.length) {
      card.notes.forEach(function (note) {
        var block = element("div", "care-note");
        block.appendChild(element("h3", "", note.kind + (note.pet ? " · " + note.pet : "")));
        block.appendChild(element("p", "message-body", note.body));
        article.appendChild(block);
      });
    } else {
      article.appendChild(element("p", "muted", "The office left no care notes for this client."));
    }
    var office = element("p", "offline-office");
    if (card.office_phone) {
      office.appendChild(document.createTextNode("The office: "));
      office.appendChild(link(card.office_phone_href, card.office_phone));
    } else {
      office.textContent = "The office has not set a phone number.";
    }
    article.appendChild(office);
    return article;
  }

  function showHeldCards(view) {
    var list = view.querySelector("[data-offline-cards-list]");
    var none = document.querySelector("[data-offline-cards-none]");
    heldCards().then(function (cards) {
      list.textContent = "";
      cards.forEach(function (card) { list.appendChild(renderCard(card)); });
      view.hidden = cards.length === 0;
      if (none) none.hidden = cards.length !== 0;
      document.documentElement.setAttribute("data-offline-cards-shown", String(cards.length));
    });
  }

  // ---------------------------------------------------------------- telling the worker

  function tellWorker(message) {
    if (!("serviceWorker" in navigator)) return Promise.reject(new Error("no service worker"));
    return navigator.serviceWorker.ready.then(function (registration) {
      var worker = registration.active;
      if (!worker) throw new Error("no active service worker");
      return new Promise(function (resolve) {
        var listener = function (event) {
          if (event.data && event.data.type === message.type + "-done") {
            navigator.serviceWorker.removeEventListener("message", listener);
            resolve();
          }
        };
        navigator.serviceWorker.addEventListener("message", listener);
        worker.postMessage(message);
      });
    });
  }

  var sentCards = null;  // the list last handed over from this page (each page load sends it again)

  function syncCards(holder) {
    var text = holder.getAttribute("data-offline-cards") || "";
    if (sentCards === text) return;
    sentCards = text;
    var ids = text.split(" ").filter(function (id) { return /^\d+$/.test(id); }).map(Number);
    tellWorker({ type: "pawline-cards", ids: ids }).then(function () {
      var status = document.querySelector("[data-offline-cards-status]");
      if (status) {
        status.textContent = ids.length === 1 ? "Today's visit card is saved on this phone: it reads with no signal."
          : ids.length ? ids.length + " visit cards are saved on this phone: they read with no signal." : "";
        status.hidden = ids.length === 0;
      }
      document.documentElement.setAttribute("data-offline-cards-synced", text);
    }, function () {});
  }

  function watchCardLists() {
    var sync = function () {
      var holder = document.querySelector("[data-offline-cards]");
      if (holder) syncCards(holder);
    };
    sync();
    // The dashboard's live part is replaced by its poll: a cancelled or reassigned visit leaves the list.
    new MutationObserver(sync).observe(document.body, { childList: true, subtree: true });
  }

  function keepPageCard(holder) {
    // The visit page (opened from a notification, say, without the dashboard): keep its card too.
    var id = holder.getAttribute("data-offline-card-keep");
    if (!/^\d+$/.test(id || "")) return;
    tellWorker({ type: "pawline-card-keep", ids: [Number(id)] }).then(function () {
      document.documentElement.setAttribute("data-offline-card-kept", id);
    }, function () {});
  }

  function forgetCardsOnLogout(form) {
    form.addEventListener("submit", function () {
      // The logout answer also says Clear-Site-Data; this covers browsers that ignore it.
      if (cardsSupported()) caches.delete(CARDS);
      tellWorker({ type: "pawline-logout" }).catch(function () {});
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var view = document.querySelector("[data-offline-cards-view]");
    if (view) { showHeldCards(view); return; }
    if (!document.body.classList.contains("sitter")) return;
    heldCards();  // a page load drops the cards whose window has ended
    var logout = document.querySelector("form.logout");
    if (logout) forgetCardsOnLogout(logout);
    watchCardLists();
    var visit = document.querySelector("[data-offline-card-keep]");
    if (visit) keepPageCard(visit);
  });
})();
