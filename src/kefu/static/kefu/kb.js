// Knowledge-base console pages: ask before deleting (forms with data-kf-confirm).
(function () {
  "use strict";
  document.addEventListener("submit", function (ev) {
    const form = ev.target.closest && ev.target.closest("form[data-kf-confirm]");
    if (form && !window.confirm(form.dataset.kfConfirm)) ev.preventDefault();
  });
})();
