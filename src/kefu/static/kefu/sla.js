// SLA admin pages: hour hints next to minute targets, adding ladder rows, confirming deletions.
// No inline scripts (CSP); everything hangs off data-kf-* attributes.
(function () {
  "use strict";

  function hint(input) {
    const out = document.querySelector(`[data-kf-minutes-hint="${input.id}"]`);
    if (!out) return;
    const form = input.closest("[data-kf-units]");
    const [h, min] = (form ? form.dataset.kfUnits : "h|min").split("|");
    const value = Number(input.value);
    if (!input.value || !Number.isInteger(value) || value <= 0) {
      out.textContent = "";
      return;
    }
    const hours = Math.floor(value / 60);
    const rest = value % 60;
    out.textContent = "= " + [hours ? `${hours} ${h}` : "", rest ? `${rest} ${min}` : ""].filter(Boolean).join(" ");
  }

  function addStep(button) {
    const form = button.closest("form");
    const template = document.getElementById("kf-step-template");
    const body = document.getElementById("kf-steps");
    const total = form && form.querySelector("input[name$='-TOTAL_FORMS']");
    if (!template || !body || !total) return;
    const index = Number(total.value);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    body.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    const rows = body.querySelectorAll("tr[data-testid=ladder-row]");
    const first = rows[rows.length - 1] && rows[rows.length - 1].querySelector("select, input");
    if (first) first.focus();
  }

  function init() {
    document.querySelectorAll("input[data-kf-minutes]").forEach((input) => {
      hint(input);
      input.addEventListener("input", () => hint(input));
    });
    document.querySelectorAll("[data-kf-add-step]").forEach((button) => {
      button.hidden = false;
      button.addEventListener("click", () => addStep(button));
    });
  }

  document.addEventListener("submit", function (ev) {
    const form = ev.target.closest && ev.target.closest("form[data-kf-confirm]");
    if (form && !window.confirm(form.dataset.kfConfirm)) ev.preventDefault();
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
