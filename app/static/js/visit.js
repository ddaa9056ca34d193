// Check-in / check-out: when the sitter ticks "share how far I am", ask the browser for its
// position once, put it in the form's hidden fields and submit. The server turns it into a
// distance from the client's address and keeps only that. Refused or slow: submit without it.
(function () {
  "use strict";
  document.querySelectorAll("form[data-visit-check]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var share = form.querySelector("[data-share-location]");
      if (!share || !share.checked || form.dataset.located === "1" || !navigator.geolocation) {
        return;
      }
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      var done = function () {
        form.dataset.located = "1";
        if (button) { button.disabled = false; }
        form.requestSubmit ? form.requestSubmit(button) : form.submit();
      };
      navigator.geolocation.getCurrentPosition(function (position) {
        form.elements.latitude.value = position.coords.latitude;
        form.elements.longitude.value = position.coords.longitude;
        form.elements.accuracy.value = position.coords.accuracy;
        done();
      }, done, { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 });
    });
  });
})();
