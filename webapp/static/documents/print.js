// The print button of the printable documents. A file, not an onclick attribute, because the
// app's Content-Security-Policy allows scripts only from this site. Without it the button stays
// hidden and the toolbar's Ctrl+P hint remains.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
