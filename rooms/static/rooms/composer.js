// The room page's send box (room-page.js): the body with its length counter
// and limit, Enter to send, ↑ in an empty box to edit one's last message,
// the "Replying to …" bar, @ suggestions (mention-complete.js), `typing`
// frames, files to send with the message (attach-composer.js). And what was
// sent from it but is not in the timeline yet: the outbox's sends, pending,
// waiting for their files, or failed (with Retry and Discard), and sends
// acked whose message has not arrived yet.

import { codePoints } from "./dom.js";
import { gettext, interpolate } from "./i18n.js";
import { replyBar } from "./message-actions.js";
import { pendingItem } from "./message-view.js";
import { mentionCompleter } from "./mention-complete.js";
import { actionOf } from "./outbox.js";
import { startAttachments } from "./attach-composer.js";

const MAX_HEIGHT_PX = 200;

/** What the composer shows for the text `value` with `files` staged (one
 * of them failed: `blocked`): the counter's text (from 80 % of the limit
 * on), whether the text is over the limit, whether Send is off, and the
 * placeholder. With files, the text may be empty. */
export function composerState(value, { maxBody, readOnly, slug, files = 0, blocked = false }) {
  const length = codePoints(value);
  return {
    counter: length >= maxBody * 0.8 ? `${length} / ${maxBody}` : "",
    over: length > maxBody,
    sendDisabled: readOnly || length > maxBody || (!value.trim() && !files) || blocked,
    placeholder: readOnly ? gettext("This room is read-only.") : interpolate(gettext("Message %(name)s"), { name: `#${slug}` }),
  };
}

/** Whether the key `event` in the box holding `value` asks to edit one's
 * last message: ↑ alone in an empty box. */
export const editsLast = (event, value) =>
  event.key === "ArrowUp" && value === "" && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey;

/**
 * The composer of room `slug` for `page` ({me, readOnly}: read when it
 * draws). `elements`: form, input, send, counter, replyBar, mentionList,
 * pending (the list of messages not yet sent), and for files chat, attach,
 * picker, staged (attach-composer.js). `names()` are the people to
 * suggest; `edit(seq, returnFocus)` opens the editor of a message;
 * `announce(text)` reads text out; `showNotice(text)` says what went wrong.
 */
export function startComposer(options) {
  const { client, slug, page, maxBody, maxUpload, timeline, elements, names, edit, announce, showNotice } = options;
  const { form, input, counter } = elements;
  const me = page.me;
  const mineShown = new Set(); // client_ids of my messages on screen
  const known = new Map(); // client_id -> outbox send, kept until its message shows
  const acked = new Map(); // client_id -> send acked but whose message has not arrived yet

  const reply = replyBar(elements.replyBar, {
    lookup: (seq) => client.message(slug, seq),
    onStart: () => input.focus(),
    onCancel: () => input.focus(),
  });

  const completer = mentionCompleter(input, elements.mentionList, { names, me, announce });
  const files = startAttachments({
    client,
    slug,
    page,
    maxBytes: maxUpload ?? null,
    elements,
    changed: () => update(),
    showNotice,
  });

  function update() {
    const state = composerState(input.value, { maxBody, readOnly: page.readOnly, slug, ...files.state() });
    counter.textContent = state.counter;
    counter.classList.toggle("counter--over", state.over);
    input.setAttribute("aria-invalid", String(state.over));
    input.disabled = page.readOnly;
    input.placeholder = state.placeholder;
    elements.send.disabled = state.sendDisabled;
    files.setReadOnly(page.readOnly);
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, MAX_HEIGHT_PX)}px`;
    if (page.readOnly) reply.cancel(false);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = input.value;
    if (composerState(body, { maxBody, readOnly: page.readOnly, slug, ...files.state() }).sendDisabled) return;
    files.uploads.send(body, { replyTo: reply.seq });
    reply.cancel(false);
    input.value = "";
    update();
    timeline.toBottom();
  });
  input.addEventListener("keydown", (event) => {
    if (event.isComposing || completer.handleKey(event)) return;
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    } else if (editsLast(event, input.value)) {
      const seq = page.readOnly ? null : timeline.lastEditable();
      if (seq == null) return;
      event.preventDefault();
      timeline.item(seq).scrollIntoView({ block: "nearest" });
      edit(seq, input);
    } else if (event.key === "Escape" && reply.seq != null) {
      event.preventDefault();
      reply.cancel();
    }
  });
  input.addEventListener("input", () => {
    update();
    if (input.value.trim()) client.typing(slug);
  });

  /** Draw the sends not in the timeline yet, staying at the bottom if there. */
  function renderPending() {
    const stick = timeline.nearBottom();
    const items = new Map();
    const sends = client.outbox.forRoom(slug).filter((item) => actionOf(item) === "send");
    for (const item of [...sends, ...acked.values()]) {
      if (mineShown.has(item.client_id) || items.has(item.client_id)) continue;
      items.set(item.client_id, item);
      known.set(item.client_id, item);
    }
    const connected = client.state === "connected";
    const rows = [...items.values()].map((item) =>
      pendingItem(item, {
        me,
        connected,
        original: item.reply_to == null ? null : client.message(slug, item.reply_to),
        files: files.filesFor(item),
        retry: () => files.uploads.retryMessage(item.client_id),
        discard: () => files.uploads.discardMessage(item.client_id),
      }),
    );
    elements.pending.replaceChildren(...rows);
    if (stick) timeline.toBottom();
  }

  return {
    reply,
    update,
    renderPending,
    focus: () => input.focus(),
    /** `message` is on screen now: if it is one of mine, it is sent. */
    shown(message) {
      if (message.author !== me || !message.client_id) return;
      mineShown.add(message.client_id);
      known.delete(message.client_id);
      acked.delete(message.client_id);
    },
    /** An `ack` of room `slug`. */
    acked(frame) {
      if (mineShown.has(frame.client_id)) return;
      const item = known.get(frame.client_id);
      // Acked but not on screen yet: keep it as "sent" until its message arrives.
      if (item && frame.seq > (client.lastSeq(slug) ?? 0)) {
        acked.set(frame.client_id, { ...item, status: "sent" });
      }
      renderPending();
    },
  };
}
