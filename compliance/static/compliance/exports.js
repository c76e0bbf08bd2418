/* Export progress: poll each running job's JSON status every 2 s and update its <progress>.
   Without JS the page refreshes itself (a <noscript> meta refresh) instead. */
(function () {
  "use strict";
  var items = document.querySelectorAll("li.export[data-status-url]");
  Array.prototype.forEach.call(items, function (li) {
    var url = li.getAttribute("data-status-url");
    var bar = li.querySelector("progress");
    var status = li.querySelector(".status");
    var link = li.querySelector("a.download");
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (job) {
          if (!job) { return; }
          if (bar) { bar.value = job.progress; bar.textContent = job.progress + "%"; }
          if (status) { status.textContent = job.status_display; }
          if (job.status === "done" || job.status === "failed") {
            if (bar) { bar.hidden = true; }
            if (job.download_url && link) { link.href = job.download_url; link.hidden = false; }
            if (job.error) {
              var err = document.createElement("div");
              err.className = "errorlist";
              err.textContent = job.error;
              li.appendChild(err);
            }
            return;
          }
          window.setTimeout(poll, 2000);
        })
        .catch(function () { window.setTimeout(poll, 2000); });
    }
    window.setTimeout(poll, 2000);
  });
})();
