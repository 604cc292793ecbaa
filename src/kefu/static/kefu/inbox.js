// kefu inbox: filters that apply as you choose them, select-all, bulk-action fields, and a live list
// that keeps the user's place. No inline scripts (CSP); htmx does the requests.
//
// Live refresh: the list's poller asks the server every 20 s with a digest of what is on screen;
// the server answers 204 (no swap) when nothing changed. When it did change, the list is swapped and
// this file carries the checked boxes and the keyboard-selected row (by ticket id) over the swap.
(function () {
  "use strict";

  const LIST = "kf-inbox-list";
  let snapshot = null;
  let searchTimer = null;

  function checks() {
    return Array.from(document.querySelectorAll("#" + LIST + " [data-kf-check]"));
  }

  function rows() {
    return Array.from(document.querySelectorAll("[data-kf-row]"));
  }

  function selectedRowId() {
    const row = document.querySelector("[data-kf-row].kf-row-selected");
    return row ? row.dataset.kfRow : null;
  }

  // Same effect as app.js's selection, but found by ticket id rather than by position.
  function selectRow(id) {
    const all = rows();
    const index = all.findIndex((r) => r.dataset.kfRow === id);
    if (index < 0) return;
    all.forEach((r) => {
      r.classList.remove("kf-row-selected");
      r.removeAttribute("aria-selected");
    });
    all[index].classList.add("kf-row-selected");
    all[index].setAttribute("aria-selected", "true");
    document.body.dataset.kfSelected = String(index);
  }

  function updateSelection() {
    const all = checks();
    const on = all.filter((c) => c.checked);
    const head = document.querySelector("[data-kf-check-all]");
    if (head) {
      head.checked = all.length > 0 && on.length === all.length;
      head.indeterminate = on.length > 0 && on.length < all.length;
    }
    const count = document.querySelector("[data-kf-selected-count]");
    if (count && count.dataset.kfTemplate) {
      count.textContent = count.dataset.kfTemplate.replace("{n}", String(on.length));
    }
  }

  function showBulkFields() {
    const action = document.getElementById("kf-bulk-action");
    if (!action) return;
    document.querySelectorAll("[data-kf-bulk-for]").forEach((el) => {
      el.classList.toggle("d-none", el.dataset.kfBulkFor !== action.value);
    });
  }

  // Only offer the teams of the chosen department when transferring.
  function filterTeams() {
    const dept = document.getElementById("kf-bulk-department");
    const team = document.getElementById("kf-bulk-team");
    if (!dept || !team) return;
    team.querySelectorAll("option[data-kf-department]").forEach((o) => {
      const other = o.dataset.kfDepartment !== dept.value;
      o.hidden = other;
      o.disabled = other;
      if (other && o.selected) team.value = "";
    });
    team.querySelectorAll("optgroup").forEach((g) => {
      g.hidden = !g.querySelector("option:not([disabled])");
    });
  }

  function poller() {
    return document.querySelector("[data-kf-poll]");
  }

  function refresh() {
    const p = poller();
    if (p && window.htmx) window.htmx.trigger(p, "kf-refresh");
  }

  document.addEventListener("change", function (ev) {
    const t = ev.target;
    if (!(t instanceof HTMLElement)) return;
    if (t.matches("[data-kf-check-all]")) {
      checks().forEach((c) => { c.checked = t.checked; });
      updateSelection();
    } else if (t.matches("[data-kf-check]")) {
      updateSelection();
    } else if (t.matches("#kf-filters [data-kf-autosubmit]")) {
      t.form.requestSubmit();
    } else if (t.id === "kf-bulk-action") {
      showBulkFields();
    } else if (t.id === "kf-bulk-department") {
      filterTeams();
    }
  });

  // Search as you type (debounced); Enter submits at once.
  document.addEventListener("input", function (ev) {
    const t = ev.target;
    if (!(t instanceof HTMLElement) || !t.matches("#kf-filters [data-kf-search]")) return;
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => t.form.requestSubmit(), 400);
  });
  document.addEventListener("submit", function (ev) {
    if (ev.target && ev.target.id === "kf-filters") clearTimeout(searchTimer);
  }, true);

  // Don't poll a hidden tab; catch up as soon as it is visible again.
  document.addEventListener("htmx:beforeRequest", function (ev) {
    if (document.hidden && ev.target && ev.target.matches && ev.target.matches("[data-kf-poll]")) {
      ev.preventDefault();
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refresh();
  });

  document.addEventListener("htmx:beforeSwap", function (ev) {
    const d = ev.detail;
    const targetId = d.target && d.target.id;
    // The server answers bad input with 4xx and a partial that says what is wrong: show it.
    if (d.xhr && [403, 409, 422].includes(d.xhr.status) && (targetId === LIST || targetId === "kf-bulk-results")) {
      d.shouldSwap = true;
      d.isError = false;
    }
    if (targetId === LIST && d.shouldSwap) {
      snapshot = {
        checked: new Set(checks().filter((c) => c.checked).map((c) => c.value)),
        row: selectedRowId(),
      };
    }
  });

  document.addEventListener("htmx:afterSwap", function (ev) {
    const target = ev.detail.target;
    if (!target || target.id !== LIST) return;
    if (snapshot) {
      checks().forEach((c) => {
        if (snapshot.checked.has(c.value)) c.checked = true;
      });
      if (snapshot.row) selectRow(snapshot.row);
      snapshot = null;
    }
    updateSelection();
  });

  // After a bulk action (HX-Trigger from the server): untick what succeeded and refresh the list.
  document.addEventListener("kf-bulk-done", function (ev) {
    const ok = new Set(((ev.detail || {}).ok || []).map(String));
    checks().forEach((c) => {
      if (ok.has(c.value)) c.checked = false;
    });
    updateSelection();
    refresh();
  });

  document.addEventListener("DOMContentLoaded", function () {
    showBulkFields();
    filterTeams();
    updateSelection();
  });
})();
