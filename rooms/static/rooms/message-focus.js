// The room page's messages for the keyboard (room-page.js): the list is one
// Tab stop that roves. One message is current (the newest, until the reader
// moves): it alone takes Tab, and so do its controls (the author's name, the
// quote, links, reactions, and its actions, shown while the focus is in it);
// the other messages' controls wait for their message to be current. On a
// message, ↑ and ↓ move to the one before and after, Home and End to the
// first and last, Escape goes back to the composer; Alt+↑ and Alt+↓ move
// from anywhere inside a message, and Alt+↑ in the composer goes to the
// newest message.

import { FOCUSABLE, typingIn } from "./focus.js";

/** The index a message-list key moves to from `index` among `count`
 * messages, or null for a key that does not move. */
export function step(index, key, count) {
  if (count === 0) return null;
  if (key === "ArrowUp") return Math.max(0, index - 1);
  if (key === "ArrowDown") return Math.min(count - 1, index + 1);
  if (key === "Home") return 0;
  if (key === "End") return count - 1;
  return null;
}

/** Whether `event` is Alt with ↑ or ↓ and nothing else. */
export const altArrow = (event) =>
  (event.key === "ArrowUp" || event.key === "ArrowDown") &&
  event.altKey === true &&
  !event.ctrlKey &&
  !event.metaKey &&
  !event.shiftKey;

const plain = (event) => !event.altKey && !event.ctrlKey && !event.metaKey && !event.shiftKey;

/** Roving focus over the <li>s of `list` (the messages and the marker of
 * a gap); `composer` is the send box. Returns {focus()}: the current
 * message takes the focus. */
export function startMessageFocus({ list, composer }) {
  let current = null;
  const items = () => [...list.children].filter((item) => !item.hidden);
  const itemOf = (node) => {
    let item = node;
    while (item && item.parentElement !== list) item = item.parentElement;
    return item;
  };

  /** Tab reaches `item` and its controls only when it is current. (The
   * picker is a modal dialog of its own and keeps its controls.) */
  function sync(item) {
    const on = item === current;
    item.tabIndex = on ? 0 : -1;
    for (const control of item.querySelectorAll(FOCUSABLE)) {
      if (!control.closest("dialog")) control.tabIndex = on ? 0 : -1;
    }
  }

  function makeCurrent(item) {
    if (item === current) return;
    const previous = current;
    current = item;
    if (previous?.isConnected) sync(previous);
    if (item) sync(item);
  }

  function move(item) {
    if (!item) return;
    makeCurrent(item);
    item.focus();
  }

  // While the reader is elsewhere, the newest message is current: Tab into
  // the list lands on it.
  function follow() {
    if (current?.isConnected && list.contains(document.activeElement)) return;
    makeCurrent(items().at(-1) ?? null);
  }

  // Messages come, change (reactions, an edit, links) and go: the controls
  // they gain follow their message's state.
  new MutationObserver((records) => {
    const touched = new Set();
    for (const record of records) {
      if (record.target === list) for (const node of record.addedNodes) touched.add(node);
      else touched.add(itemOf(record.target));
    }
    for (const item of touched) if (item?.parentElement === list) sync(item);
    follow();
  }).observe(list, { childList: true, subtree: true });

  list.addEventListener("focusin", (event) => makeCurrent(itemOf(event.target)));

  list.addEventListener("keydown", (event) => {
    const item = itemOf(event.target);
    if (!item || event.defaultPrevented) return;
    const onItem = event.target === item;
    if (onItem && event.key === "Escape" && plain(event)) {
      event.preventDefault();
      composer.focus();
      return;
    }
    if (!(onItem && plain(event)) && !(altArrow(event) && !typingIn(event.target))) return;
    const all = items();
    const next = step(all.indexOf(item), event.key, all.length);
    if (next == null) return;
    event.preventDefault();
    move(all[next]);
  });

  composer.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowUp" || !altArrow(event) || event.isComposing) return;
    event.preventDefault();
    move(items().at(-1));
  });

  return {
    focus: () => move(current ?? items().at(-1)),
  };
}
