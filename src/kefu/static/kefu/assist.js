// The ticket page's agent assist: "Insert" a standard reply (the server answers the text with its
// placeholders filled, as text/plain) into the composer at the cursor. No inline scripts (CSP).
(function () {
  "use strict";

  function insertText(area, text) {
    const start = area.selectionStart ?? area.value.length;
    const end = area.selectionEnd ?? area.value.length;
    const before = area.value.slice(0, start);
    const after = area.value.slice(end);
    // keep a blank line between what was already written and the inserted reply
    const sep = before && !before.endsWith("\n") ? "\n" : "";
    area.value = before + sep + text + after;
    const caret = (before + sep + text).length;
    area.focus();
    area.setSelectionRange(caret, caret);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("htmx:afterRequest", function (ev) {
    const d = ev.detail || {};
    const elt = d.elt;
    if (!elt || !elt.matches || !elt.matches("[data-kf-insert]") || !d.successful || !d.xhr) return;
    const area = document.getElementById("kf-composer-body");
    if (!area) return;
    insertText(area, d.xhr.responseText);
    // close the composer's picker if the reply came from it
    const toggle = elt.closest("[data-kf-picker]")?.querySelector("[data-bs-toggle=dropdown]");
    if (toggle && window.bootstrap) window.bootstrap.Dropdown.getOrCreateInstance(toggle).hide();
  });

  // The picker's search box sits inside the composer form: Enter must not send the message.
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && ev.target.matches && ev.target.matches("[data-kf-picker-q]")) ev.preventDefault();
  });
})();
