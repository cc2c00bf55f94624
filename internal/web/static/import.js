// Upload progress of the import form: the file goes up with
// XMLHttpRequest so that a bar can show how much of it has been sent, then
// how the server reads it; the answer (the preview page, after a redirect)
// replaces the page. Without this script the form posts as usual. No
// inline script (the CSP forbids them): the words come in data attributes.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  var box = document.getElementById("upload-progress");
  if (!form || !box || !window.XMLHttpRequest || !window.FormData) {
    return;
  }
  var bar = document.getElementById("upload-bar");
  var label = document.getElementById("upload-label");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var button = form.querySelector("button[type=submit]");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    box.hidden = false;
    button.disabled = true;
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded * 100) / e.total);
        bar.textContent = bar.value + " %";
      }
    });
    xhr.upload.addEventListener("load", function () {
      // Sent: the server now reads the whole file; the bar has no end
      // to show until it answers.
      bar.removeAttribute("value");
      label.textContent = label.dataset.reading;
    });
    xhr.addEventListener("load", function () {
      if (xhr.status === 200 && xhr.responseURL && xhr.responseURL !== form.action) {
        window.location.assign(xhr.responseURL);
        return;
      }
      // An error page (no file, a file too big): post the form as usual
      // to show it, with its own status.
      form.submit();
    });
    xhr.addEventListener("error", function () {
      form.submit();
    });
    xhr.send(new FormData(form));
  });
})();
