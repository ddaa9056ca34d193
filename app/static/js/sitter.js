// The sitter's pages on a real phone: live lists, an incremental thread, an honest compose box.
// No inline script anywhere (a strict Content-Security-Policy): everything is wired here from
// data-* attributes. Without this file the pages still work as plain forms and links.
(function () {
  "use strict";

  var lastSuccess = Date.now();
  var offline = false;

  // ---------------------------------------------------------------- announcements and banner

  function announce(text) {
    // One polite live region, written only when something changed: polls that bring
    // nothing new say nothing to a screen reader.
    var region = document.querySelector("[data-announcer]");
    if (!region || !text) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function minutesAgo() {
    var minutes = Math.floor((Date.now() - lastSuccess) / 60000);
    return minutes < 1 ? "just now" : minutes === 1 ? "1 min ago" : minutes + " min ago";
  }

  function showOffline() {
    var banner = document.querySelector("[data-connection-banner]");
    if (!banner) return;
    offline = true;
    banner.textContent = "offline · updated " + minutesAgo();
    banner.hidden = false;
  }

  function showOnline() {
    lastSuccess = Date.now();
    if (!offline) return;
    offline = false;
    var banner = document.querySelector("[data-connection-banner]");
    if (banner) { banner.hidden = true; banner.textContent = ""; }
  }

  window.setInterval(function () { if (offline) showOffline(); }, 30000);

  // ---------------------------------------------------------------- fetching fragments

  function fetchFragment(url) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, 15000) : null;
    return fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { "HX-Request": "true" },
      signal: controller ? controller.signal : undefined,
    }).then(function (response) {
      if (timer) window.clearTimeout(timer);
      var redirect = response.headers.get("HX-Redirect");
      if (redirect) { window.location.href = redirect; return null; }
      if (response.status === 204) return { status: 204, html: "" };
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.text().then(function (html) { return { status: response.status, html: html }; });
    }, function (error) {
      if (timer) window.clearTimeout(timer);
      throw error;
    });
  }

  function process(element) {
    if (window.htmx && element) window.htmx.process(element);
  }

  // ---------------------------------------------------------------- polled regions

  function unreadChanged(container) {
    var visits = container.querySelector("[data-new-count]");
    if (!visits) return;
    var count = parseInt(visits.getAttribute("data-new-count"), 10) || 0;
    var badge = document.querySelector("[data-nav-count]");
    var before = badge ? parseInt(badge.textContent, 10) || 0 : 0;
    if (badge) { badge.textContent = count + " unread"; badge.hidden = count === 0; }
    var base = container.getAttribute("data-title-base");
    if (base) document.title = (count ? "(" + count + ") " : "") + base;
    if (count > before) announce(count === 1 ? "1 unread message" : count + " unread messages");
  }

  function pollRegion(element) {
    var url = element.getAttribute("data-poll-url");
    return fetchFragment(url).then(function (result) {
      showOnline();
      if (!result || result.status === 204) return;
      if (element.getAttribute("data-poll-swap") === "outer") {
        var holder = document.createElement("div");
        holder.innerHTML = result.html.trim();
        var replacement = holder.firstElementChild;
        if (replacement && replacement.outerHTML !== element.outerHTML) {
          element.replaceWith(replacement);
          process(replacement);  // the compose that opens with the window is the same HTMX form
          wire(replacement);
        }
        return;
      }
      if (result.html === element.__lastHtml) return;  // nothing changed: no swap, no announcement
      element.__lastHtml = result.html;
      element.innerHTML = result.html;
      process(element);
      unreadChanged(element);
    }).catch(showOffline);
  }

  function startPolling(element, run) {
    var seconds = parseInt(element.getAttribute("data-poll-seconds"), 10) || 30;
    element.__lastHtml = element.innerHTML;
    var tick = function () {
      if (!document.body.contains(element)) return;
      if (document.visibilityState === "visible") run(element);
    };
    element.__pollTimer = window.setInterval(tick, seconds * 1000);
    // Back to the tab (phone unlocked, app switched back): refresh at once.
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && document.body.contains(element)) run(element);
    });
    window.addEventListener("online", function () { if (document.body.contains(element)) run(element); });
  }

  // ---------------------------------------------------------------- the thread

  function messageList(section) { return section.querySelector(".message-list"); }

  function latestId(section) {
    var list = messageList(section);
    return list ? parseInt(list.getAttribute("data-latest-id"), 10) || 0 : 0;
  }

  function nearBottom() {
    var doc = document.documentElement;
    return doc.scrollHeight - (window.scrollY + window.innerHeight) < 200;
  }

  function showNewest() {
    // The newest message and the Send button together: scroll the compose box's end into view.
    var compose = document.getElementById("compose");
    var list = document.querySelector("#messages .message-list");
    var last = list && list.lastElementChild;
    // (To Send's line: quick replies and the report choice below it may go under the fold at 200 % zoom.)
    var sendLine = compose && (compose.querySelector(".compose-tools") || compose);
    if (sendLine) sendLine.scrollIntoView({ block: "end" });
    else if (last) last.scrollIntoView({ block: "end" });
  }

  function mergeMessages(section, html) {
    var list = messageList(section);
    var holder = document.createElement("ol");
    holder.innerHTML = html;
    var newest = latestId(section);
    var incoming = [];
    Array.prototype.slice.call(holder.children).forEach(function (item) {
      var id = parseInt(item.getAttribute("data-message-id"), 10) || 0;
      var existing = document.getElementById(item.id);
      if (existing) { existing.replaceWith(item); }  // a status that moved on (Sending… → Sent)
      else { list.appendChild(item); if (item.getAttribute("data-direction") === "inbound") incoming.push(item); }
      if (id > newest) newest = id;
    });
    list.setAttribute("data-latest-id", String(newest));
    var empty = section.querySelector("[data-no-messages]");
    if (empty && list.children.length) empty.remove();
    return incoming;
  }

  function pollThread(section) {
    var url = section.getAttribute("data-thread-poll") + "?after=" + latestId(section);
    return fetchFragment(url).then(function (result) {
      showOnline();
      if (!result || result.status === 204 || !result.html.trim()) return;
      var stick = nearBottom();
      var incoming = mergeMessages(section, result.html);
      if (incoming.length) {
        var who = incoming[incoming.length - 1].getAttribute("data-sender");
        announce(incoming.length === 1 ? "New message from " + who : incoming.length + " new messages from " + who);
      }
      if (stick) showNewest();
    }).catch(showOffline);
  }

  // ---------------------------------------------------------------- compose

  function composeParts() {
    var box = document.getElementById("compose");
    if (!box) return null;
    return {
      box: box,
      form: box.querySelector("[data-compose-form]"),
      state: box.querySelector("[data-compose-state]"),
      text: box.querySelector("textarea"),
      button: box.querySelector("[data-send-button]"),
      error: box.querySelector("[data-send-error]"),
    };
  }

  function fitTextarea(textarea) {
    // One line at rest; grows with what is typed, up to a third of the screen. Rows, not an
    // inline style: the CSP forbids style attributes (htmx copies attributes when it swaps).
    textarea.rows = 1;
    if (!textarea.value) return;  // a wrapped placeholder must not make it tall
    var line = parseFloat(window.getComputedStyle(textarea).lineHeight) || 24;
    var most = Math.max(2, Math.floor(window.innerHeight / 3 / line));
    while (textarea.scrollHeight > textarea.clientHeight + 1 && textarea.rows < most) textarea.rows += 1;
  }

  function formatLeft(seconds) {
    var minutes = Math.floor(seconds / 60);
    if (minutes < 1) return "less than a minute left";
    var hours = Math.floor(minutes / 60);
    return hours ? hours + " h " + (minutes % 60) + " min left" : minutes + " min left";
  }

  function startCountdown(box) {
    var closesIn = parseInt(box.getAttribute("data-closes-in"), 10);
    var opensIn = parseInt(box.getAttribute("data-opens-in"), 10);
    var loaded = Date.now();
    var warned = false;
    if (!isNaN(closesIn)) {
      var closesAt = box.getAttribute("data-closes-at");
      var update = function () {
        if (!document.body.contains(box)) return window.clearInterval(timer);
        var parts = composeParts();
        var left = closesIn - Math.floor((Date.now() - loaded) / 1000);
        if (left <= 0) {
          window.clearInterval(timer);
          if (parts.text) parts.text.readOnly = true;
          if (parts.button) parts.button.disabled = true;
          box.classList.remove("compose-open");
          box.classList.add("compose-closed");
          parts.state.textContent = "Messaging closed at " + closesAt + ". Your text is still in the box.";
          announce("Messaging closed at " + closesAt);
          return;
        }
        parts.state.textContent = "Messaging open until " + closesAt + " (" + formatLeft(left) + ")";
        if (left <= 600) {
          box.classList.add("compose-closing");
          if (!warned) { warned = true; announce("Messaging closes in 10 minutes, at " + closesAt); }
        }
      };
      var timer = window.setInterval(update, 1000);
      update();
    } else if (!isNaN(opensIn)) {
      // Fetch the open compose box the moment the window opens (the 30 s poll is the fallback).
      window.setTimeout(function () {
        if (document.body.contains(box) && box.getAttribute("data-poll-url")) pollRegion(box);
      }, Math.max(opensIn, 0) * 1000 + 1000);
    }
  }

  function setSending(parts, sending) {
    if (!parts || !parts.form) return;
    parts.form.classList.toggle("is-sending", sending);
    parts.form.setAttribute("aria-busy", sending ? "true" : "false");
    if (parts.button) {
      parts.button.textContent = sending ? "Sending…" : "Send";
      parts.button.disabled = sending;
    }
    if (parts.text) parts.text.readOnly = sending;
    if (sending && parts.error) parts.error.hidden = true;
  }

  function showSendError(parts, text) {
    if (!parts || !parts.error) return;
    parts.error.textContent = "";
    parts.error.appendChild(document.createTextNode(text + " "));
    var retry = document.createElement("button");
    retry.type = "submit";
    retry.className = "link retry";
    retry.textContent = "Retry";
    parts.error.appendChild(retry);
    parts.error.hidden = false;
    announce(text);
  }

  function isComposeEvent(event) {
    var target = event.detail && event.detail.elt;
    return target && target.closest && target.closest("[data-compose-form]");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (isComposeEvent(event)) setSending(composeParts(), true);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!isComposeEvent(event)) return;
    var parts = composeParts();
    if (event.detail.successful) { showOnline(); return; }  // the swap brings the fresh box
    setSending(parts, false);
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (!status) { showSendError(parts, "Not sent, no connection."); showOffline(); }
    else showSendError(parts, "Not sent: the server had a problem (" + status + ").");
  });
  document.addEventListener("htmx:timeout", function (event) {
    if (!isComposeEvent(event)) return;
    var parts = composeParts();
    setSending(parts, false);
    showSendError(parts, "Not sent, no connection.");
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "compose") return;
    var box = document.getElementById("compose");
    if (box && !box.__wired) wire(box);
  });
  document.addEventListener("htmx:load", function (event) {
    var element = event.detail && event.detail.elt;
    if (element && element.id === "compose") {
      wire(element);
      var notice = element.querySelector("[data-notice]");
      if (notice) announce(notice.textContent);
      showNewest();
    }
  });

  // ---------------------------------------------------------------- drafts
  // What the sitter typed is kept on the phone, per thread, until a send is confirmed (or logout):
  // a reload, a crash or a lost connection never loses it. Only the sitter's own words are kept,
  // with the form's one-time send key: a Retry of the same draft (even after a reload) posts the
  // same key, so a send whose answer was lost on the way back is not sent twice. A confirmed send
  // brings a fresh box with a fresh key.

  var DRAFT_PREFIX = "pawline:draft:";

  function draftKey(box) {
    var thread = box && box.getAttribute("data-thread-id");
    return thread ? DRAFT_PREFIX + thread : null;
  }

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  function sendKeyField(box) { return box.querySelector("[data-send-key]"); }

  function saveDraft(box, text) {
    var key = draftKey(box), store = storage(), field = sendKeyField(box);
    if (!key || !store) return;
    try {
      if (text) store.setItem(key, text); else store.removeItem(key);
      if (text && field && field.value) store.setItem(key + ":key", field.value);
      else store.removeItem(key + ":key");
    } catch (e) { /* full or private mode */ }
  }

  function loadDraft(box) {
    var key = draftKey(box), store = storage();
    if (!key || !store) return "";
    var text = store.getItem(key) || "";
    var sendKey = store.getItem(key + ":key"), field = sendKeyField(box);
    if (text && sendKey && field) field.value = sendKey;  // the draft's own key, not this page's
    return text;
  }

  function clearAllDrafts() {
    var store = storage();
    if (!store) return;
    for (var i = store.length - 1; i >= 0; i -= 1) {
      var key = store.key(i);
      if (key && key.indexOf(DRAFT_PREFIX) === 0) store.removeItem(key);
    }
  }

  document.addEventListener("submit", function (event) {
    if (event.target && event.target.classList && event.target.classList.contains("logout")) clearAllDrafts();
  }, true);

  function wireCompose(box) {
    if (box.__wired) return;
    box.__wired = true;
    var parts = composeParts();
    if (parts.text) {
      if (box.querySelector("[data-notice]")) saveDraft(box, "");  // the server confirmed the send
      else if (!parts.text.value && !parts.text.disabled) parts.text.value = loadDraft(box);
      else if (parts.text.value) saveDraft(box, parts.text.value);
      fitTextarea(parts.text);
      parts.text.addEventListener("input", function () { fitTextarea(parts.text); saveDraft(box, parts.text.value); });
      parts.text.addEventListener("focus", function () { box.classList.add("compose-focused"); fitTextarea(parts.text); });
      parts.text.addEventListener("blur", function () {
        // Shrink back only when empty, and after the tap that blurred it (on Send) has landed:
        // shrinking at once would move Send from under the finger.
        window.setTimeout(function () {
          if (document.activeElement !== parts.text && !parts.text.value) box.classList.remove("compose-focused");
        }, 400);
      });
    }
    startCountdown(box);
    if (box.getAttribute("data-poll-url")) startPolling(box, pollRegion);
  }

  // ---------------------------------------------------------------- wiring

  function wire(root) {
    if (!root) return;
    if (root.id === "compose") return wireCompose(root);
    var compose = root.querySelector ? root.querySelector("#compose") : null;
    if (compose) wireCompose(compose);
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-poll-url]"), function (element) {
      if (element.id !== "compose") startPolling(element, pollRegion);
    });
    wire(document);
    var thread = document.querySelector("[data-thread-poll]");
    if (thread) {
      startPolling(thread, pollThread);
      showNewest();  // a thread opens at its newest message (after compose took its size)
      window.addEventListener("load", showNewest);
    }
  });
})();
