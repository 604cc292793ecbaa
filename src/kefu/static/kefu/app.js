// kefu console: keyboard shortcuts and small behaviours. No inline scripts (CSP).
(function () {
  "use strict";

  function typing(ev) {
    const t = ev.target;
    return t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));
  }

  function rows() {
    return Array.from(document.querySelectorAll("[data-kf-row]"));
  }

  function select(index) {
    const all = rows();
    if (!all.length) return;
    index = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((r) => {
      r.classList.remove("kf-row-selected");
      r.removeAttribute("aria-selected");
    });
    const row = all[index];
    row.classList.add("kf-row-selected");
    row.setAttribute("aria-selected", "true");
    row.scrollIntoView({ block: "nearest" });
    document.body.dataset.kfSelected = String(index);
  }

  function current() {
    return Number(document.body.dataset.kfSelected ?? -1);
  }

  function focusComposer(kind) {
    const box = document.querySelector("[data-kf-composer]");
    if (!box) return false;
    const radio = box.querySelector(`input[name=kind][value=${kind}]`);
    if (radio) radio.checked = true;
    const area = box.querySelector("textarea");
    if (area) area.focus();
    return true;
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev)) return;
    switch (ev.key) {
      case "j": select(current() + 1); break;
      case "k": select(current() - 1); break;
      case "Enter": {
        const row = rows()[current()];
        const link = row && row.querySelector("a[data-kf-open]");
        if (link) { link.click(); } else { return; }
        break;
      }
      case "r": if (!focusComposer("reply")) return; break;
      case "n": if (!focusComposer("note")) return; break;
      case "/": {
        const s = document.querySelector("[data-kf-search]");
        if (!s) return;
        s.focus();
        break;
      }
      case "?": {
        const el = document.getElementById("kf-help");
        if (el && window.bootstrap) window.bootstrap.Modal.getOrCreateInstance(el).show();
        break;
      }
      default: return;
    }
    ev.preventDefault();
  });

  // After htmx swaps the inbox list, keep the keyboard selection where it was.
  document.addEventListener("htmx:afterSwap", function () {
    const i = current();
    if (i >= 0) select(i);
  });

  // Toasts sent by the server in an HX-Trigger header: {"kf-toast": {"level": "...", "message": "..."}}
  document.addEventListener("kf-toast", function (ev) {
    const box = document.getElementById("kf-toasts");
    if (!box) return;
    const d = ev.detail || {};
    const div = document.createElement("div");
    div.className = `alert alert-${d.level || "info"} shadow-sm`;
    div.setAttribute("role", "status");
    div.textContent = d.message || "";
    box.appendChild(div);
    setTimeout(() => div.remove(), 6000);
  });
})();
