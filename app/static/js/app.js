// Pawline's own browser code, loaded by base.html. No inline script anywhere: the
// Content-Security-Policy allows scripts from this origin only, and htmx runs with
// allowEval=false, so hx-trigger filters like "[document.visibilityState==='visible']"
// cannot be used. Their one use, keeping polls quiet in hidden tabs, lives here.
(function () {
  "use strict";

  function isPoll(elt) {
    var trigger = elt && elt.getAttribute ? elt.getAttribute("hx-trigger") || "" : "";
    return /(^|,)\s*every\s/.test(trigger);
  }

  // A poll ("every 30s") that fires while the tab is hidden is skipped; the next one after
  // the tab is shown again runs as usual.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    if (document.visibilityState === "hidden" && !evt.detail.requestConfig.triggeringEvent
        && isPoll(evt.detail.elt)) {
      evt.preventDefault();
    }
  });
})();
