// Photo pickers: check count and size before anything is uploaded, and show a too-large
// answer (413) beside the form instead of swapping it away with the typed text.
(function () {
  if (window.pawlineAttach) { return; }
  window.pawlineAttach = true;

  function statusFor(input) {
    return document.getElementById(input.getAttribute("aria-describedby"));
  }

  function megabytes(bytes) { return (bytes / (1024 * 1024)).toFixed(1) + " MB"; }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-max-files]")) { return; }
    var files = Array.prototype.slice.call(input.files || []);
    var maxFiles = parseInt(input.dataset.maxFiles, 10);
    var maxBytes = parseInt(input.dataset.maxBytes, 10);
    var total = files.reduce(function (sum, f) { return sum + f.size; }, 0);
    var problem = "";
    if (files.length > maxFiles) {
      problem = "Choose at most " + maxFiles + " photos (you chose " + files.length + ").";
    } else if (total > maxBytes) {
      problem = "These photos are " + megabytes(total) + " together; the limit is " + megabytes(maxBytes) + ".";
    } else if (files.some(function (f) { return f.type && f.type.indexOf("image/") !== 0; })) {
      problem = "Only photos can be attached.";
    }
    input.setCustomValidity(problem);
    var status = statusFor(input);
    if (status) {
      status.textContent = problem || (files.length ? files.length + (files.length === 1 ? " photo" : " photos") +
        " ready (" + megabytes(total) + "); they are resized before sending." : "");
      status.classList.toggle("field-error", !!problem);
    }
    if (problem) { input.reportValidity(); }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status !== 413) { return; }
    event.detail.shouldSwap = false; // keep the form and its text as they are
    var form = event.detail.requestConfig && event.detail.requestConfig.elt;
    var input = form && form.querySelector ? form.querySelector("input[type=file][data-max-files]") : null;
    var status = input ? statusFor(input) : null;
    if (status) {
      status.textContent = "Those photos are too large to upload together. Attach fewer at once; your text is kept.";
      status.classList.add("field-error");
    }
  });
})();
