// Live progress of a campaign: while it is scheduled, sending or paused,
// poll its status every two seconds and update the figures and the bar; when
// its state changes, reload the page so that its actions match. No inline
// script (the CSP forbids them): the page only carries data attributes.
(function () {
  "use strict";
  var panel = document.getElementById("progress");
  if (!panel || !panel.dataset.status) {
    return;
  }
  var url = panel.dataset.status;
  var state = panel.dataset.state;
  var bar = document.getElementById("progress-bar");
  var eta = document.getElementById("eta");
  var format = new Intl.NumberFormat(document.documentElement.lang || "fr");

  function set(name, value) {
    var el = panel.querySelector('[data-fig="' + name + '"]');
    if (el) {
      el.textContent = name === "percent" ? String(value) : format.format(value);
    }
  }

  function tick() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) {
          throw new Error(r.status);
        }
        return r.json();
      })
      .then(function (s) {
        ["recipients", "sent", "failed", "skipped", "pending", "percent"].forEach(function (k) {
          set(k, s[k] || 0);
        });
        bar.value = s.percent || 0;
        bar.textContent = (s.percent || 0) + " %";
        if (eta) {
          eta.textContent = s.end ? " · " + s.end : "";
        }
        if (s.state !== state) {
          // Without ?ok=…: the flash of the last action is old news.
          window.location.replace(window.location.pathname);
          return;
        }
        window.setTimeout(tick, 2000);
      })
      .catch(function () {
        window.setTimeout(tick, 10000);
      });
  }
  window.setTimeout(tick, 2000);
})();
