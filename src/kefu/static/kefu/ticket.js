// The ticket page: small behaviours on top of htmx. No inline scripts or styles (CSP).
(function () {
  "use strict";

  // Forms marked data-kf-swap-errors answer 4xx with themselves, errors inline (422 validation,
  // 409 conflict, 413/415 files). htmx 2 does not swap error responses by default: let those in.
  // Empty 4xx bodies (403/404 with a toast) are still not swapped.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    const d = ev.detail;
    const status = d.xhr ? d.xhr.status : 0;
    if (status < 400 || status >= 500 || !d.xhr.responseText) return;
    const elt = d.requestConfig ? d.requestConfig.elt : d.elt;
    if (elt && elt.closest && elt.closest("[data-kf-swap-errors]")) {
      d.shouldSwap = true;
      d.isError = false;
    }
  });

  // A form that swaps itself takes the keyboard focus with it: after the swap, focus the first
  // invalid control, else the composer's text area, else the form's submit button — instead of
  // leaving keyboard users at the top of the page.
  let swappingForm = null;
  document.addEventListener("htmx:beforeRequest", function (ev) {
    const elt = ev.detail && ev.detail.elt;
    swappingForm = elt && elt.matches && elt.matches("form[data-kf-swap-errors][id]") ? elt.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!swappingForm) return;
    const form = document.getElementById(swappingForm);
    swappingForm = null;
    const active = document.activeElement;
    if (!form || (active && active !== document.body && document.contains(active))) return;
    const target =
      form.querySelector("[aria-invalid=true]") ||
      form.querySelector("[data-kf-composer] textarea, textarea[name=body]") ||
      form.querySelector("button[type=submit]");
    if (target) target.focus();
  });

  // Ctrl/⌘ + Enter in the composer sends it.
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter" || !(ev.ctrlKey || ev.metaKey)) return;
    const form = ev.target.closest ? ev.target.closest("form[data-kf-composer]") : null;
    if (!form) return;
    ev.preventDefault();
    form.requestSubmit();
  });

  // The composer's text area looks like a note while "internal note" is chosen (also after the
  // r / n shortcuts of app.js, which set the radio without a change event).
  function syncComposer(form) {
    const note = form.querySelector("input[name=kind][value=note]");
    const area = form.querySelector("textarea");
    if (area) area.classList.toggle("bg-warning-subtle", Boolean(note && note.checked));
  }

  // Transfer: offer only the teams of the chosen department.
  function filterTeams(form) {
    const dept = form.querySelector("select[name=department]");
    const team = form.querySelector("select[name=team]");
    if (!dept || !team) return;
    team.querySelectorAll("option[data-department]").forEach(function (opt) {
      const other = Boolean(dept.value) && opt.dataset.department !== dept.value;
      opt.hidden = other;
      opt.disabled = other;
    });
    const chosen = team.options[team.selectedIndex];
    if (chosen && chosen.disabled) team.value = "";
  }

  document.addEventListener("change", function (ev) {
    const form = ev.target.form;
    if (!form) return;
    if (ev.target.name === "kind" && form.matches("[data-kf-composer]")) syncComposer(form);
    if (ev.target.name === "department" && form.matches("[data-kf-transfer]")) filterTeams(form);
  });

  document.addEventListener("focusin", function (ev) {
    const form = ev.target.closest ? ev.target.closest("form[data-kf-composer]") : null;
    if (form) syncComposer(form);
  });

  function init(root) {
    root.querySelectorAll("form[data-kf-transfer]").forEach(filterTeams);
    root.querySelectorAll("form[data-kf-composer]").forEach(syncComposer);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (ev) {
    const elt = ev.detail && ev.detail.elt;
    if (elt && elt.querySelectorAll) init(elt.parentElement || elt);
  });
})();
