/* One export-progress component, for the requester's page and the staff screens alike.
   Markup: an element with data-progress-url (the export's progress JSON) that is, or holds, a <progress>,
   and optionally holds a [data-progress-text] for "rows done / rows total". It polls while the export is
   pending or running. With data-progress-reload the page reloads once the export is finished, so that the
   server renders the download link or the failure; without it the bar simply stops. */
(function () {
  "use strict";
  var EVERY_MS = 1500, AFTER_ERROR_MS = 5000;

  function watch(box) {
    var bar = box.matches("progress") ? box : box.querySelector("progress");
    var text = box.querySelector("[data-progress-text]");
    var url = box.getAttribute("data-progress-url");
    function show(data) {
      if (bar) { bar.value = data.percent; bar.textContent = data.percent + "%"; }
      if (text) { text.textContent = data.rows_done + " / " + data.rows_total; }
    }
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          show(data);
          if (data.state === "pending" || data.state === "running") { window.setTimeout(poll, EVERY_MS); }
          else if (box.hasAttribute("data-progress-reload")) { window.location.reload(); }
        })
        // The portal briefly out of reach: try again later rather than leave a frozen bar.
        .catch(function () { window.setTimeout(poll, AFTER_ERROR_MS); });
    }
    // On staff screens a full bar is a finished export; the requester's page waits for the download link.
    if (box.hasAttribute("data-progress-reload") || !bar || bar.value < 100) { window.setTimeout(poll, 1000); }
  }

  function start() { document.querySelectorAll("[data-progress-url]").forEach(watch); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
