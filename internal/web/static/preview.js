// Live preview of an edition: when the source changes, post it (without
// saving) to the preview frame, a second after the last keystroke. The
// form's own "preview" button does the same without JavaScript.
(function () {
  "use strict";
  var source = document.getElementById("source");
  var button = document.getElementById("preview-button");
  var live = document.getElementById("live-preview");
  var form = document.getElementById("edition-form");
  if (!source || !button || !form) {
    return;
  }
  var timer = 0;
  source.addEventListener("input", function () {
    if (live && !live.checked) {
      return;
    }
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      form.requestSubmit(button);
    }, 1000);
  });
})();
