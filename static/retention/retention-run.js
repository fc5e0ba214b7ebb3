/* A policy's "Dry run" and "Run now": while the run works (the page waits for its report), say so and keep the
   buttons from sending it twice. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("retention-run-form")) return;
    document.querySelectorAll(".retention-run").forEach(function (button) { button.disabled = true; });
    var status = document.getElementById("retention-run-status");
    if (status) {
      status.hidden = false;
      status.querySelector("progress").removeAttribute("value");  // indeterminate: the run reports at its end
    }
  });
})();
