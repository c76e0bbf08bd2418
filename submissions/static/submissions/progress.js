// Compile progress: polls the submission's small JSON status view while a compile runs and
// reloads the page when it has finished. No inline script (strict CSP); no library.
(function () {
  "use strict";
  var box = document.querySelector("[data-status-url]");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector("progress");
  var text = box.querySelector(".progress-text");
  var delay = 1500;
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || data.version === null) { return; }
        if (bar) { bar.value = data.progress || 0; }
        if (text) {
          text.textContent = data.state_label + " · " + (data.progress || 0) + "%" + (data.note ? " · " + data.note : "");
        }
        if (data.finished) { window.location.reload(); return; }
        delay = Math.min(delay * 1.3, 8000);
        window.setTimeout(poll, delay);
      })
      .catch(function () { window.setTimeout(poll, 8000); });
  }
  window.setTimeout(poll, delay);
})();
