// Photo pickers on one bar of signal:
// - photos are shrunk on the phone before they go (canvas, longest side 1600 px, JPEG 0.8); a photo
//   the browser cannot decode (HEIC on most browsers) goes as it is and the server converts it;
// - count, size and type are checked before anything is uploaded;
// - the upload shows its progress, and its timeout grows with its size;
// - a failed upload keeps the chosen photos in the form, so Retry sends them again (no new choice);
// - a too-large answer (413) is shown beside the form instead of swapping away the typed text.
(function () {
  "use strict";
  if (window.pawlinePhotoUpload) return;
  window.pawlinePhotoUpload = true;

  var LONGEST_SIDE = 1600;
  var JPEG_QUALITY = 0.8;
  var BASE_TIMEOUT_MS = 20000;
  var SLOWEST_BYTES_PER_SECOND = 12 * 1024;  // a third of one bar (about 48 KB/s up): still in time
  var LONGEST_TIMEOUT_MS = 15 * 60 * 1000;
  var PICKER = "input[type=file][data-max-files]";

  function megabytes(bytes) { return (bytes / (1024 * 1024)).toFixed(1) + " MB"; }
  function total(files) { return files.reduce(function (sum, f) { return sum + f.size; }, 0); }
  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }
  function statusFor(input) { return document.getElementById(input.getAttribute("aria-describedby")); }
  function progressFor(input) {
    var box = input.closest(".attach");
    return box ? box.querySelector(".attach-progress") : null;
  }
  function pickerIn(element) {
    if (!element || !element.querySelector) return null;
    var input = element.querySelector(PICKER);
    return input && !input.disabled && input.files && input.files.length ? input : null;
  }

  function say(input, text, problem) {
    var status = statusFor(input);
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("field-error", !!problem);
  }

  // ---------------------------------------------------------------- shrinking on the phone

  function jpegName(name) { return (name || "photo").replace(/\.[^.]*$/, "") + ".jpg"; }

  function shrink(file) {
    // Resolves to the file to send: a smaller JPEG, or the original when the browser cannot
    // decode it (HEIC) or shrinking would not make it smaller.
    if (!window.createImageBitmap || !file.type || file.type.indexOf("image/") !== 0 || file.type === "image/gif") {
      return Promise.resolve(file);
    }
    return window.createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, LONGEST_SIDE / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      var context = canvas.getContext("2d");
      context.imageSmoothingQuality = "high";
      context.fillStyle = "#fff";  // a JPEG has no transparency: white, not black, behind a PNG's
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      if (bitmap.close) bitmap.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) { resolve(file); return; }
          resolve(new File([blob], jpegName(file.name), { type: "image/jpeg", lastModified: file.lastModified }));
        }, "image/jpeg", JPEG_QUALITY);
      });
    }).catch(function () { return file; });
  }

  function replaceFiles(input, files) {
    // The form keeps the shrunk files itself, so htmx, a plain submit and Retry all send them.
    try {
      var transfer = new DataTransfer();
      files.forEach(function (f) { transfer.items.add(f); });
      input.files = transfer.files;
      return true;
    } catch (e) {
      return false;  // an old browser: the originals go, and the server resizes them
    }
  }

  function choiceProblem(input, files) {
    var maxFiles = parseInt(input.dataset.maxFiles, 10);
    if (files.length > maxFiles) return "Choose at most " + maxFiles + " photos (you chose " + files.length + ").";
    if (files.some(function (f) { return f.type && f.type.indexOf("image/") !== 0; })) return "Only photos can be attached.";
    return "";
  }

  function describe(originals, sent) {
    var shrunk = sent.filter(function (f, i) { return f !== originals[i]; }).length;
    var whole = sent.length - shrunk;
    var head = plural(sent.length, "photo", "photos") + " ready (" + megabytes(total(sent)) + ")";
    if (!whole) return head + ", made smaller on this phone from " + megabytes(total(originals)) + ".";
    if (!shrunk) return head + ", sent at full size: the server makes " + (whole === 1 ? "it" : "them") + " smaller.";
    return head + ": " + shrunk + " made smaller on this phone, " + whole + " sent at full size for the server to make smaller.";
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches(PICKER)) return;
    var files = Array.prototype.slice.call(input.files || []);
    var problem = choiceProblem(input, files);
    input.setCustomValidity(problem);
    input.__preparing = null;
    if (problem) { say(input, problem, true); input.reportValidity(); return; }
    if (!files.length) { say(input, ""); return; }
    say(input, "Preparing " + plural(files.length, "photo", "photos") + "…");
    var preparing = Promise.all(files.map(shrink)).then(function (ready) {
      if (input.__preparing !== preparing) return;  // chosen again meanwhile: that choice wins
      if (!replaceFiles(input, ready)) ready = files;
      var maxBytes = parseInt(input.dataset.maxBytes, 10);
      var tooBig = total(ready) > maxBytes
        ? "These photos are " + megabytes(total(ready)) + " together; the limit is " + megabytes(maxBytes) + "." : "";
      input.setCustomValidity(tooBig);
      say(input, tooBig || describe(files, ready), !!tooBig);
      input.__preparing = null;
    });
    input.__preparing = preparing;
  });

  // A send tapped while the photos are still being shrunk waits for them (htmx forms ask
  // htmx:confirm first; a plain form is held at its submit and submitted again).
  document.addEventListener("htmx:confirm", function (event) {
    var form = event.detail && event.detail.elt;
    var input = form && form.querySelector ? form.querySelector(PICKER) : null;
    if (!input || !input.__preparing) return;
    event.preventDefault();
    input.__preparing.then(function () { event.detail.issueRequest(true); });
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || form.hasAttribute("hx-post")) return;
    var input = form.querySelector(PICKER);
    if (!input || !input.__preparing) return;
    event.preventDefault();
    input.__preparing.then(function () { form.requestSubmit(event.submitter || undefined); });
  }, true);

  // ---------------------------------------------------------------- the upload

  document.addEventListener("htmx:configRequest", function (event) {
    var input = pickerIn(event.detail.elt);
    if (!input) return;
    var bytes = total(Array.prototype.slice.call(input.files));
    var wanted = BASE_TIMEOUT_MS + Math.ceil(bytes / SLOWEST_BYTES_PER_SECOND) * 1000;
    event.detail.timeout = Math.min(LONGEST_TIMEOUT_MS, Math.max(event.detail.timeout || 0, wanted));
  });

  document.addEventListener("htmx:beforeSend", function (event) {
    var input = pickerIn(event.detail.elt);
    var xhr = event.detail.xhr;
    if (!input || !xhr || !xhr.upload) return;
    var bar = progressFor(input);
    var count = input.files.length;
    var shown = -1;
    if (bar) { bar.value = 0; bar.max = 100; bar.hidden = false; }
    say(input, "Uploading " + plural(count, "photo", "photos") + "…");
    xhr.upload.addEventListener("progress", function (progress) {
      if (!progress.lengthComputable) return;
      var percent = Math.floor((progress.loaded / progress.total) * 100);
      if (bar) { bar.max = progress.total; bar.value = progress.loaded; }
      if (percent >= shown + 10 || percent === 100) {  // a few words, not one per packet
        shown = percent;
        say(input, "Uploading " + plural(count, "photo", "photos") + ": " + percent + " % of " + megabytes(progress.total) + ".");
      }
    });
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var input = pickerIn(event.detail.elt);
    if (!input) return;
    var bar = progressFor(input);
    if (bar) bar.hidden = true;
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (!event.detail.successful && status !== 413) {
      say(input, "Not sent. " + plural(input.files.length, "photo is", "photos are") + " still attached: "
        + "sending again sends " + (input.files.length === 1 ? "it" : "them") + " without choosing again.", true);
    }
  });

  // A send the server refused (the window closed, a blocked word) comes back as a fresh box with the
  // text kept: the chosen photos are put back in its picker too. A confirmed send starts empty.
  var keptFiles = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    var input = pickerIn(elt);
    keptFiles = input && event.detail.xhr.status !== 413 ? input.files : null;
  });
  document.addEventListener("htmx:afterSwap", function () {
    var files = keptFiles;
    keptFiles = null;
    var box = document.getElementById("compose");
    if (!files || !box || box.querySelector("[data-notice]")) return;
    var input = box.querySelector(PICKER);
    if (!input || (input.files && input.files.length)) return;
    try { input.files = files; } catch (e) { return; }
    say(input, plural(files.length, "photo is", "photos are") + " still attached (" + megabytes(total(Array.prototype.slice.call(files))) + ").");
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status !== 413) return;
    event.detail.shouldSwap = false;  // keep the form and its text as they are
    var form = event.detail.requestConfig && event.detail.requestConfig.elt;
    var input = form && form.querySelector ? form.querySelector(PICKER) : null;
    if (input) say(input, "Those photos are too large to upload together. Attach fewer at once; your text is kept.", true);
  });
})();
