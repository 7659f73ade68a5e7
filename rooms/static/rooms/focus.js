// Focus for keyboard users, shared by the pages: where a single-key
// shortcut may act (not while the reader types), a modal <dialog> that
// keeps Tab inside it, closes with Escape and gives the focus back to what
// opened it, and where a small popup goes beside its opener. The pure parts
// are tested with node (tests/js/focus.test.mjs).

/** What may take the focus with Tab (hidden, disabled and tabindex=-1
 * elements are filtered out by tabbable()). */
export const FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]";

/** Whether `target` is where the reader types: a letter pressed there is text, not a shortcut. */
export const typingIn = (target) =>
  Boolean(target?.closest?.("input, textarea, select, [contenteditable]:not([contenteditable='false'])"));

/** Whether the key `event` is the single-key shortcut `key` ("/", "?"):
 * no Ctrl, Alt or Meta, not while composing or typing in a field, and not
 * from inside an open dialog (which has keys of its own). */
export function isShortcut(event, key) {
  if (event.key !== key || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return false;
  return !typingIn(event.target) && !event.target?.closest?.("dialog[open]");
}

/** Where Tab (`backwards`: Shift+Tab) goes from `active` among the
 * tabbable `items` of a dialog so that it wraps around inside it: the
 * first after the last, the last before the first; null where the
 * browser's own move stays inside. */
export function wrapTarget(items, active, backwards) {
  if (items.length === 0) return null;
  const index = items.indexOf(active);
  if (backwards) return index <= 0 ? items[items.length - 1] : null;
  return index === -1 || index === items.length - 1 ? items[0] : null;
}

/** Where a popup of `size` ({width, height}) goes beside `anchor` (a
 * DOMRect-like {top, bottom, left, right}) inside `viewport` ({width,
 * height}): below the anchor, right edges aligned, else above it; never
 * past the viewport's edges (`margin` from them). */
export function placeNear(anchor, size, viewport, margin = 8) {
  const gap = 4;
  let top = anchor.bottom + gap;
  if (top + size.height > viewport.height - margin && anchor.top - gap - size.height >= margin) {
    top = anchor.top - gap - size.height;
  }
  top = Math.max(margin, Math.min(top, viewport.height - margin - size.height));
  const left = Math.max(margin, Math.min(anchor.right - size.width, viewport.width - margin - size.width));
  return { top, left };
}

/** The elements inside `root` that Tab reaches now, in order. */
export function tabbable(root) {
  return [...root.querySelectorAll(FOCUSABLE)].filter(
    (element) => element.tabIndex >= 0 && !element.disabled && element.getClientRects().length > 0,
  );
}

/**
 * Whether the focus went somewhere of its own since `dialog` closed, other
 * than back to `before` (where the browser puts it back): the `close` event
 * comes a task after the closing, and by then the person may have clicked or
 * typed elsewhere, which must not be undone.
 */
function focusMoved(dialog, before) {
  const active = document.activeElement;
  return Boolean(active) && active !== document.body && active !== before && !dialog.contains(active);
}

/**
 * Show `dialog` modally (the page behind it inert), keeping Tab inside it;
 * Escape closes it (the browser's `cancel`). When it closes, the focus goes
 * back to `opener` (the element focused before, by default) if it is still
 * on the page and the focus has not gone elsewhere since, unless
 * `onClose({moved})` returns false (it moved the focus itself).
 */
export function openModal(dialog, { opener = document.activeElement, onClose = () => true } = {}) {
  if (dialog.open) return;
  const before = document.activeElement;
  const onKey = (event) => {
    if (event.key !== "Tab" || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = wrapTarget(tabbable(dialog), document.activeElement, event.shiftKey);
    if (!target) return;
    event.preventDefault();
    target.focus();
  };
  dialog.addEventListener("keydown", onKey);
  dialog.addEventListener(
    "close",
    () => {
      dialog.removeEventListener("keydown", onKey);
      const moved = focusMoved(dialog, before);
      if (onClose({ moved }) !== false && !moved && opener?.isConnected && typeof opener.focus === "function") opener.focus();
    },
    { once: true },
  );
  dialog.showModal();
}
