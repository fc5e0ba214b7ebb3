/* Keeps the export progress bars on a request's admin page up to date until the export is finished. */
(function () {
  "use strict";
  function watch(bar) {
    var url = bar.getAttribute("data-progress-url");
    var rows = bar.parentNode.querySelector(".dsr-export-rows");
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          bar.value = data.percent;
          bar.textContent = data.percent + "%";
          if (rows) { rows.textContent = data.rows_done + " / " + data.rows_total; }
          if (data.state === "pending" || data.state === "running") { window.setTimeout(poll, 2000); }
        })
        .catch(function () {});
    }
    if (bar.value < 100) { poll(); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("progress[data-progress-url]").forEach(watch);
  });
})();
