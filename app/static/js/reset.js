// Owner-issued reset links carry their token in the fragment (/reset#t=…), which browsers never
// send to a server: copy it into the form (POSTed), then drop it from the address bar and history.
(function () {
  var match = /^#t=([A-Za-z0-9_-]+)$/.exec(window.location.hash || "");
  if (!match) { return; }
  function fill() {
    var field = document.querySelector("[data-reset-token] input[name=token]");
    if (field && !field.value) { field.value = match[1]; }
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fill);
  } else {
    fill();
  }
}());
