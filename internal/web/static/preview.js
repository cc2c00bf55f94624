// Live preview of an edition: when the source (or, in the visual editor,
// the blocks: editor.js fires "bulletin:change" on the form) changes,
// post it (without saving) to the preview frame a second after the last
// change, and refresh the text version below it. The form's own "preview"
// button does the same without JavaScript. The width buttons show the
// frame as a desktop or a phone mail client would.
(function () {
  "use strict";
  var source = document.getElementById("source");
  var button = document.getElementById("preview-button");
  var live = document.getElementById("live-preview");
  var form = document.getElementById("edition-form");
  var frame = document.getElementById("html");
  var text = document.getElementById("text-preview");
  var wrap = document.getElementById("preview-wrap");
  if (!button || !form) {
    return;
  }
  var timer = 0;
  var posted = false;
  function later() {
    if (live && !live.checked) {
      return;
    }
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      posted = true;
      form.requestSubmit(button);
    }, 1000);
  }
  if (source) {
    source.addEventListener("input", later);
  }
  form.addEventListener("bulletin:change", later);

  // After a posted preview has loaded in the frame, ask the same draft's
  // text version (the form now holds the serialised document).
  if (frame && text) {
    frame.addEventListener("load", function () {
      if (!posted) {
        return;
      }
      var data = new FormData(form);
      data.delete("action");
      fetch(button.getAttribute("formaction") + "?format=text", { method: "POST", body: data, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (t) {
          if (t !== null) {
            text.textContent = t;
          }
        }, function () {});
    });
  }

  var widths = document.querySelectorAll("[data-width]");
  Array.prototype.forEach.call(widths, function (b) {
    b.addEventListener("click", function () {
      Array.prototype.forEach.call(widths, function (o) {
        o.setAttribute("aria-pressed", o === b ? "true" : "false");
      });
      if (wrap) {
        wrap.classList.toggle("phone", b.dataset.width === "phone");
      }
    });
  });
})();
