// The interactive parts of acting on a message: the reaction picker, the
// inline editor, the delete confirmation and the composer's reply bar. Each
// is keyboard-first (Escape closes and gives focus back) and calls back into
// the page (room-page.js) with what the user chose; none talks to the server.

import { button, codePoints, el } from "./dom.js";
import { gettext, interpolate } from "./i18n.js";
import { openModal, placeNear } from "./focus.js";
import { snippet } from "./room-log.js";

export const COMMON_EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "😢"];
const MAX_EMOJI = 16; // code points (docs/protocol.md, react)

/** What the server accepts as an emoji: 1..16 code points, no whitespace. */
export const validEmoji = (text) => codePoints(text) >= 1 && codePoints(text) <= MAX_EMOJI && !/\s/u.test(text);


let openPickerAnchor = null;
let closeOpenPicker = null;

/** A small picker in `item`, beside `anchor`: common emoji and a field for
 * any other. `choose(emoji)` is called with the pick. A modal <dialog>
 * (focus.js): Tab stays in it, Escape or a click outside closes it, and the
 * focus goes back to `anchor`. Opening it from the same button again
 * closes it. */
export function openPicker(item, anchor, choose) {
  const again = openPickerAnchor === anchor;
  closeOpenPicker?.();
  if (again) return;
  const picker = el("dialog", "picker");
  picker.setAttribute("aria-label", gettext("Add a reaction"));
  const row = el("div", "picker-emojis");
  for (const emoji of COMMON_EMOJI) {
    const pick = button("picker-emoji", emoji, interpolate(gettext("React with %(emoji)s"), { emoji }));
    pick.addEventListener("click", () => done(emoji));
    row.append(pick);
  }
  const form = el("form", "picker-form");
  const field = el("input", "picker-input");
  field.type = "text";
  field.placeholder = gettext("Any emoji");
  field.setAttribute("aria-label", gettext("Any emoji"));
  field.autocomplete = "off";
  const add = el("button", "button button--small", gettext("Add"));
  add.type = "submit";
  const error = el("p", "error picker-error", gettext("One emoji, without spaces."));
  error.hidden = true;
  error.id = `picker-error-${item.dataset.seq}`;
  field.setAttribute("aria-describedby", error.id);
  form.append(field, add, error);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const emoji = field.value.trim();
    if (validEmoji(emoji)) done(emoji);
    else {
      error.hidden = false;
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  });
  picker.append(row, form);

  // A press on the backdrop (outside the picker's box) closes it.
  picker.addEventListener("pointerdown", (event) => {
    if (event.target !== picker) return;
    const box = picker.getBoundingClientRect();
    const inside =
      event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
    if (!inside) picker.close();
  });
  // Escape is the dialog's own `cancel`; stop it here so that nothing
  // around the message takes it too.
  picker.addEventListener("keydown", (event) => {
    if (event.key === "Escape") event.stopPropagation();
  });
  let chosen = null;
  function done(emoji) {
    chosen = emoji;
    picker.close();
  }
  const place = () => {
    const { top, left } = placeNear(anchor.getBoundingClientRect(), picker.getBoundingClientRect(), {
      width: document.documentElement.clientWidth,
      height: document.documentElement.clientHeight,
    });
    picker.style.top = `${top}px`;
    picker.style.left = `${left}px`;
  };

  closeOpenPicker = () => picker.close();
  openPickerAnchor = anchor;
  item.classList.add("msg--picking");
  item.append(picker);
  openModal(picker, {
    opener: anchor,
    onClose: ({ moved }) => {
      picker.remove();
      // Back to the button while the actions still show (they hide with
      // msg--picking unless the focus is in the message).
      if (anchor.isConnected && !moved) anchor.focus();
      item.classList.remove("msg--picking");
      closeOpenPicker = null;
      openPickerAnchor = null;
      if (chosen != null) choose(chosen);
      return false;
    },
  });
  place();
  row.firstElementChild.focus();
}

/**
 * Edit `message` in place in `item`: Enter saves, Shift+Enter is a new line,
 * Escape cancels. `save(body)` gets the new body; focus then goes to
 * `returnFocus`. A "cancel" event on the editor closes it (the page sends one
 * when the message is deleted meanwhile).
 */
export function openEditor(item, message, { maxBody, save, returnFocus }) {
  const existing = item.querySelector(".msg-editor textarea");
  if (existing) {
    existing.focus();
    return;
  }
  const content = item.querySelector(".msg-content");
  const form = el("form", "msg-editor");
  const area = el("textarea", "msg-editor-input");
  area.rows = 1;
  area.value = message.body;
  area.setAttribute("aria-label", gettext("Edit message"));
  const hint = el("span", "muted small", gettext("Enter saves · Escape cancels"));
  hint.id = `editor-hint-${message.seq}`;
  area.setAttribute("aria-describedby", hint.id);
  const error = el("p", "error");
  error.hidden = true;
  const saveButton = el("button", "button button--small button--primary", gettext("Save"));
  saveButton.type = "submit";
  const cancel = button("button button--small button--ghost", gettext("Cancel"));
  const foot = el("div", "msg-editor-foot");
  foot.append(hint, cancel, saveButton);
  form.append(area, error, foot);

  const fit = () => {
    area.style.height = "auto";
    area.style.height = `${Math.min(area.scrollHeight, 240)}px`;
  };
  const fail = (text) => {
    error.textContent = text;
    error.hidden = false;
    area.setAttribute("aria-invalid", "true");
  };
  function close() {
    if (!form.isConnected) return;
    const hadFocus = form.contains(document.activeElement);
    form.remove();
    content.hidden = false;
    item.classList.remove("msg--editing");
    if (hadFocus && returnFocus?.isConnected) returnFocus.focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = area.value;
    if (!body.trim()) return fail(gettext("A message cannot be empty: delete it instead."));
    if (codePoints(body) > maxBody) return fail(interpolate(gettext("At most %(count)s characters."), { count: maxBody }));
    close();
    save(body);
  });
  form.addEventListener("cancel", close);
  cancel.addEventListener("click", close);
  area.addEventListener("input", () => {
    fit();
    error.hidden = true;
    area.removeAttribute("aria-invalid");
  });
  area.addEventListener("keydown", (event) => {
    if (event.isComposing) return;
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });

  content.hidden = true;
  item.classList.add("msg--editing");
  content.after(form);
  fit();
  area.focus();
  area.setSelectionRange(area.value.length, area.value.length);
}

/** Ask before deleting, in the page's <dialog>; resolves true to delete. */
export function confirmDelete(dialog, message, me) {
  if (dialog.open) return Promise.resolve(false);
  dialog.querySelector(".dialog-text").textContent =
    message.author === me
      ? gettext("Delete your message? Everyone will see “message deleted” instead.")
      : interpolate(gettext("Delete this message by %(name)s? Everyone will see “message deleted” instead."), {
          name: message.author ?? gettext("the system"),
        });
  dialog.querySelector(".dialog-quote").textContent = snippet(message, 200);
  dialog.returnValue = "";
  openModal(dialog); // kept answered, the focus goes back to the button
  return new Promise((resolve) => {
    // A dialog's `close` event is queued: the one of an earlier opening
    // (Escape, then opened again at once) can arrive while this one is open.
    const closed = () => {
      if (dialog.open) return;
      dialog.removeEventListener("close", closed);
      resolve(dialog.returnValue === "delete");
    };
    dialog.addEventListener("close", closed);
  });
}

/**
 * The composer's "Replying to …" bar in `container`. `lookup(seq)` gives the
 * message as shown; `onStart` and `onCancel` are told. `seq` is the message
 * being replied to, or null.
 */
export function replyBar(container, { lookup, onStart, onCancel }) {
  const author = container.querySelector(".reply-bar-author");
  const text = container.querySelector(".reply-bar-text");
  const bar = {
    seq: null,
    start(seq) {
      const original = lookup(seq);
      if (!original) return;
      bar.seq = seq;
      bar.refresh(seq, original);
      container.hidden = false;
      onStart();
    },
    cancel(focus = true) {
      if (bar.seq == null) return;
      bar.seq = null;
      container.hidden = true;
      if (focus) onCancel();
    },
    /** The original changed (edited, deleted): show it as it is now. */
    refresh(seq, original) {
      if (seq !== bar.seq || !original) return;
      author.textContent = original.author ?? gettext("System");
      text.textContent = snippet(original, 160);
    },
  };
  container.querySelector(".reply-bar-cancel").addEventListener("click", () => bar.cancel());
  return bar;
}
