// The print view of a slip or a PIN: its button opens the browser's print dialog.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print-page]")) {
    window.print();
  }
});
