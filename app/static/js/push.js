// Web Push opt-in: register the service worker (scoped to the sitter pages), subscribe this
// device with the server's VAPID public key, and hand the PushSubscription to the server.
// Permission is asked only from a tap on "Turn on notifications" (iOS requires a gesture).
(function () {
  "use strict";

  var SW_URL = "/sw.js";
  var SW_SCOPE = "/sitter";
  var SUBSCRIPTIONS_URL = "/push/subscriptions";

  function supported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function csrfToken() {
    var headers = document.body.getAttribute("hx-headers");
    try { return JSON.parse(headers)["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function registration() {
    return navigator.serviceWorker.register(SW_URL, { scope: SW_SCOPE }).then(function () {
      return navigator.serviceWorker.getRegistration(SW_SCOPE);
    }).then(function (found) { return found || navigator.serviceWorker.ready; });
  }

  function send(url, method, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (response) {
      if (!response.ok && response.status !== 204) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          throw new Error(data.error || "The server did not save it (" + response.status + ").");
        });
      }
      return response;
    });
  }

  function subscribe(holder) {
    return Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") throw new Error("Notifications are blocked for this site in the browser's settings.");
      return registration();
    }).then(function (reg) {
      return reg.pushManager.getSubscription().then(function (existing) {
        return existing || reg.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(holder.getAttribute("data-push-key")),
        });
      });
    }).then(function (subscription) {
      var body = subscription.toJSON();
      body.inbox_items = Boolean(holder.querySelector("[data-push-inbox]"));
      return send(holder.getAttribute("data-push-url"), "POST", body);
    });
  }

  function unsubscribe(holder) {
    return registration().then(function (reg) { return reg.pushManager.getSubscription(); }).then(function (subscription) {
      if (!subscription) return null;
      var endpoint = subscription.endpoint;
      return subscription.unsubscribe().then(function () {
        return send(holder.getAttribute("data-push-url"), "DELETE", { endpoint: endpoint });
      });
    });
  }

  function showError(holder, error) {
    var box = holder.querySelector("[data-push-error]");
    if (box) { box.textContent = "Notifications are not on: " + error.message; box.hidden = false; }
  }

  function currentSubscription() {
    return navigator.serviceWorker.getRegistration(SW_SCOPE).then(function (reg) {
      return reg ? reg.pushManager.getSubscription() : null;
    });
  }

  function wirePrompt(prompt) {
    if (!supported() || Notification.permission !== "default") return;
    currentSubscription().then(function (subscription) {
      if (subscription) return;
      prompt.hidden = false;
      prompt.querySelector("[data-push-enable]").addEventListener("click", function () {
        subscribe(prompt).then(function () { prompt.hidden = true; }, function (error) { showError(prompt, error); });
      });
    });
  }

  function iosBrowserTab() {
    // iOS (and iPadOS, which says "Macintosh") delivers web push only to the Home Screen app.
    var ios = /iPad|iPhone|iPod/.test(navigator.userAgent) ||
      (/Macintosh/.test(navigator.userAgent) && navigator.maxTouchPoints > 1);
    var standalone = window.navigator.standalone === true ||
      (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches);
    return ios && !standalone;
  }

  function wireCard(card) {
    // The dashboard's card: the server shows it until push or the text ping is on for this sitter.
    if (!card.getAttribute("data-push-key")) return;  // no push on this server: the settings link only
    var reveal = function (selector) { var node = card.querySelector(selector); if (node) node.hidden = false; };
    if (iosBrowserTab()) { reveal("[data-ios-steps]"); return; }
    if (!supported()) { reveal("[data-push-unsupported]"); return; }
    if (Notification.permission === "denied") {
      showError(card, new Error("Notifications are blocked for this site in the browser's settings."));
      return;
    }
    var button = card.querySelector("[data-push-enable]");
    button.hidden = false;
    button.addEventListener("click", function () {
      subscribe(card).then(function () { card.hidden = true; }, function (error) { showError(card, error); });
    });
  }

  function wireSettings(holder) {
    var status = holder.querySelector("[data-push-status]");
    var enable = holder.querySelector("[data-push-enable]");
    var disable = holder.querySelector("[data-push-disable]");
    function show(on, text) {
      status.textContent = text;
      enable.hidden = on;
      disable.hidden = !on;
    }
    if (!supported()) { status.textContent = "This browser cannot show push notifications."; return; }
    currentSubscription().then(function (subscription) {
      if (subscription) show(true, "Notifications are on for this device.");
      else if (Notification.permission === "denied") status.textContent = "Notifications are blocked for this site in the browser's settings.";
      else show(false, "Notifications are off for this device.");
    });
    enable.addEventListener("click", function () {
      subscribe(holder).then(function () { show(true, "Notifications are on for this device."); },
                             function (error) { showError(holder, error); });
    });
    disable.addEventListener("click", function () {
      unsubscribe(holder).then(function () { show(false, "Notifications are off for this device."); },
                               function (error) { showError(holder, error); });
    });
  }

  function forgetDeviceOnLogout(form) {
    // Logging out of a shared phone stops its notifications too: the server forgets this
    // device's subscription before the logout itself (which waits 3 seconds at most).
    if (!("serviceWorker" in navigator)) return;
    form.addEventListener("submit", function (event) {
      if (form.__leaving) return;
      event.preventDefault();
      form.__leaving = true;
      var sent = false;
      var done = function () { if (!sent) { sent = true; form.submit(); } };
      window.setTimeout(done, 3000);
      navigator.serviceWorker.getRegistration(SW_SCOPE).then(function (reg) {
        return reg ? reg.pushManager.getSubscription() : null;
      }).then(function (subscription) {
        if (!subscription) return null;
        return send(SUBSCRIPTIONS_URL, "DELETE", { endpoint: subscription.endpoint }).then(function () {
          return subscription.unsubscribe();
        });
      }).then(done, done);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var logout = document.querySelector("form.logout");
    if (logout) forgetDeviceOnLogout(logout);
    if ("serviceWorker" in navigator && document.body.classList.contains("sitter")) {
      // Installable app and offline page for sitters even without push.
      navigator.serviceWorker.register(SW_URL, { scope: SW_SCOPE }).catch(function () {});
    }
    var card = document.querySelector("[data-notify-card]");
    if (card) wireCard(card);
    var prompt = document.querySelector("[data-push-prompt]");
    if (prompt) wirePrompt(prompt);
    var settings = document.querySelector("[data-push-settings]");
    if (settings) wireSettings(settings);
  });
})();
