/* Admin screens: names for the fields Django admin leaves unnamed, so that screen readers can say them.
   A tabular inline labels its fields only by the column header; filter widgets put aria-label on a bare span. */
(function () {
  "use strict";

  function nameTabularFields(root) {
    root.querySelectorAll(".tabular table").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return th.textContent.replace(/\s+/g, " ").trim();
      });
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        Array.prototype.forEach.call(tr.children, function (cell, i) {
          var name = heads[i];
          if (!name) return;
          cell.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (field) {
            var labelled = field.getAttribute("aria-label") || field.getAttribute("aria-labelledby") ||
              (field.id && document.querySelector('label[for="' + field.id + '"]'));
            if (!labelled) field.setAttribute("aria-label", name);
          });
        });
      });
    });
  }

  function fixFilterIcons(root) {
    // SelectFilter2's help icon: an aria-label on a span needs a role that allows one.
    root.querySelectorAll(".help-tooltip[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }

  function run() {
    nameTabularFields(document);
    fixFilterIcons(document);
  }

  document.addEventListener("DOMContentLoaded", run);
  // Widgets built on load (the filter boxes) and inline rows added later get their names too.
  window.addEventListener("load", function () { window.setTimeout(run, 0); });
  document.addEventListener("formset:added", function () { run(); });
})();
