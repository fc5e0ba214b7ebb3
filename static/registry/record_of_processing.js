// The print button opens the browser's print dialogue (which also saves as PDF); the print stylesheet
// leaves out the menus and opens every field list.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
window.addEventListener("beforeprint", () => {
  document.querySelectorAll(".ropa-activity details").forEach((d) => { d.dataset.wasOpen = d.open; d.open = true; });
});
window.addEventListener("afterprint", () => {
  document.querySelectorAll(".ropa-activity details").forEach((d) => { d.open = d.dataset.wasOpen === "true"; });
});
