// Polls an export's progress on the request page and reloads once the ZIP is ready.
(function () {
  "use strict";
  var box = document.querySelector(".export-progress[data-progress-url]");
  if (!box) return;
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]");
  function poll() {
    fetch(box.getAttribute("data-progress-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        bar.value = data.percent;
        bar.textContent = data.percent + "%";
        text.textContent = data.rows_done + " / " + data.rows_total;
        if (data.state === "ready" || data.state === "failed") { window.location.reload(); return; }
        window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
