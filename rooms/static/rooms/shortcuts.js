// The keyboard shortcuts' help on every signed-in page (base.html): "?"
// (not while typing in a field) or a button with data-opens="shortcuts"
// opens the dialog that lists them; Escape or Close shuts it and the focus
// goes back. And the skip link: following it puts the focus on its target
// (the composer on a room page), not only the scroll position.

import { isShortcut, openModal } from "./focus.js";

const help = document.getElementById("shortcuts");

if (help) {
  document.addEventListener("keydown", (event) => {
    if (!isShortcut(event, "?")) return;
    event.preventDefault();
    openModal(help);
  });
  for (const opener of document.querySelectorAll('[data-opens="shortcuts"]')) {
    opener.addEventListener("click", () => openModal(help, { opener }));
  }
}

for (const link of document.querySelectorAll(".skip-link")) {
  link.addEventListener("click", (event) => {
    const target = document.getElementById(link.hash.slice(1));
    if (!target || target.disabled) return;
    event.preventDefault();
    if (!target.matches("a[href], button, input, select, textarea, [tabindex]")) target.tabIndex = -1;
    target.focus();
  });
}
