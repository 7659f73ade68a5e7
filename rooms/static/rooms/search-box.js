// The search box of every signed-in page (base.html): "/" puts the focus in
// it, unless the reader is typing somewhere already. On the search page the
// results' times are shown in the reader's time zone, as on the room page.

import { formatFull, formatWhen } from "./dom.js";

const box = document.getElementById("search-q");

document.addEventListener("keydown", (event) => {
  if (!box || event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  const target = event.target;
  if (target.closest?.("input, textarea, select, [contenteditable]:not([contenteditable='false']), dialog[open]")) return;
  event.preventDefault();
  box.focus();
  box.select();
});

for (const time of document.querySelectorAll("time.search-hit-time")) {
  const text = formatWhen(time.dateTime);
  if (!text) continue;
  time.title = formatFull(time.dateTime);
  time.textContent = text;
}
