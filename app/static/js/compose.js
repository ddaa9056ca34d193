// The compose box's extras (the box itself, drafts and sending states are in js/sitter.js):
// - quick replies put their words into the message field; they never send anything by themselves;
// - a send that starts takes the last send's notice away, so "Not sent, no connection" never sits
//   next to a stale "Queued to send." that belonged to the message before.
(function () {
  "use strict";

  function say(text) {
    var region = document.querySelector("[data-announcer]");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function insertWords(field, words) {
    var value = field.value;
    var focused = document.activeElement === field && typeof field.selectionStart === "number";
    var start = focused ? field.selectionStart : value.length;
    var end = focused ? field.selectionEnd : value.length;
    var before = value.slice(0, start);
    var after = value.slice(end);
    var glue = before && !/\s$/.test(before) ? " " : "";
    var tail = after && !/^\s/.test(after) ? " " : "";
    field.value = before + glue + words + tail + after;
    var caret = (before + glue + words).length;
    field.focus();
    field.setSelectionRange(caret, caret);
    // The draft is kept and the field fits its text through the same input handler as typing.
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-quick-reply]");
    if (!button) return;
    var box = button.closest("#compose");
    var field = box && box.querySelector("textarea");
    if (!field || field.disabled || field.readOnly) return;
    event.preventDefault();
    insertWords(field, button.getAttribute("data-quick-reply"));
    say("Added to your message: " + button.getAttribute("data-quick-reply") + ". Not sent yet.");
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail && event.detail.elt;
    if (!form || !form.matches || !form.matches("[data-compose-form]")) return;
    Array.prototype.forEach.call(form.querySelectorAll("[data-notice]"), function (notice) { notice.remove(); });
  });
})();
