// The room page's message list (room-page.js): which messages are on
// screen, in seq order whatever order they arrive in, each drawn by
// message-view.js and redrawn when it changes, with the quotes of its
// replies; consecutive messages of one author share a header. And where the
// reader is: held at the bottom while they are there, kept still while older
// messages go in above, the "N new messages ↓" button while they read
// further up. The client owns the messages; this module only shows them.

import { messageItem, renderMessage, renderQuote } from "./message-view.js";
import { interpolate, ngettext } from "./i18n.js";

export const GROUP_WINDOW_MS = 5 * 60 * 1000;
const NEAR_BOTTOM_PX = 64;
// The list is the page's role="log": a screen reader reads out what is
// added to it. Whatever is not news (the first screen, older pages, a
// window moved, redraws) goes in while it is aria-busy, until this long
// after the last such change.
const QUIET_MS = 1000;

/** Whether `next` goes under the header of `previous`, the message shown
 * before it: {author, at (ISO time), system, quoted (shows a quote)} each.
 * Consecutive messages of one author within a few minutes share a header;
 * a system message or a reply starts its own. */
export function sharesHeader(previous, next) {
  return (
    !next.system &&
    !previous.system &&
    !next.quoted &&
    previous.author === next.author &&
    new Date(next.at) - new Date(previous.at) < GROUP_WINDOW_MS
  );
}

/** The jump button's text for `count` messages below the view. */
export const unseenLabel = (count) =>
  interpolate(ngettext("%(count)s new message ↓", "%(count)s new messages ↓", count), { count });

/** What sharesHeader() needs to know of a shown <li>. */
const headerOf = (item) => ({
  author: item.dataset.author,
  at: item.dataset.at,
  system: item.classList.contains("msg--system"),
  quoted: Boolean(item.querySelector(".msg-quote:not([hidden])")),
});

/**
 * The list in `elements.list` inside `elements.scroller`, with
 * `elements.jump` (the "new messages" button). `page` is what
 * message-view.js knows of the reader ({me, canModerate, readOnly});
 * `handlers` are the message's actions (messageItem()). Told:
 * `onShown(message)` for each message put on screen, `onQuoteChanged(seq,
 * message)` when a message others may quote was redrawn, `viewed()` when
 * the reader's view moved (what is read may have changed).
 */
export function createTimeline({ client, slug, page, elements, handlers, onShown, onQuoteChanged, viewed }) {
  const { scroller, list, jump } = elements;
  const shown = new Map(); // seq -> <li>
  const repliesTo = new Map(); // seq -> Set of seqs of shown messages quoting it
  let gapMarker = null; // the <li> that marks messages not loaded (placeGap)
  let unseen = 0;
  let quietTimer = null;
  const log = list.closest('[role="log"]') ?? list;

  /** A change that is not news: the log is busy (not read out) for a while. */
  function quiet() {
    log.setAttribute("aria-busy", "true");
    clearTimeout(quietTimer);
    quietTimer = setTimeout(() => {
      quietTimer = null;
      log.removeAttribute("aria-busy");
    }, QUIET_MS);
  }

  const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM_PX;
  const toBottom = () => {
    scroller.scrollTop = scroller.scrollHeight;
    unseen = 0;
    jump.hidden = true;
  };

  /** Redraw the quotes of the shown messages that reply to `seq`. */
  function refreshQuotesOf(seq) {
    const original = client.message(slug, seq);
    for (const replySeq of repliesTo.get(seq) ?? []) {
      const item = shown.get(replySeq);
      if (item) renderQuote(item, seq, original);
    }
    onQuoteChanged(seq, original);
  }

  function render(message) {
    const item = shown.get(message.seq);
    if (!item) return;
    renderMessage(item, message, page);
    renderQuote(item, message.reply_to, message.reply_to == null ? null : client.message(slug, message.reply_to));
    if (message.deleted) item.querySelector(".msg-editor")?.dispatchEvent(new Event("cancel"));
    refreshQuotesOf(message.seq);
  }

  function group(item) {
    if (!item) return;
    const previous = item.previousElementSibling;
    const continued = previous && sharesHeader(headerOf(previous), headerOf(item));
    item.classList.toggle("msg--continued", Boolean(continued));
  }

  /** Put messages in seq order; a seq already shown is skipped. Returns
   * the <li> of each message added. Unless they are `news` (live, from
   * others), they go in quietly. */
  function insert(messages, { news = false } = {}) {
    if (!news) quiet();
    const added = [];
    for (const message of messages) {
      if (shown.has(message.seq)) continue;
      const item = messageItem(message, page, handlers);
      const last = list.lastElementChild;
      if (last && Number(last.dataset.seq) > message.seq) {
        let next = list.firstElementChild;
        while (next && Number(next.dataset.seq) < message.seq) next = next.nextElementSibling;
        list.insertBefore(item, next);
      } else {
        list.append(item);
      }
      shown.set(message.seq, item);
      if (message.reply_to != null) {
        if (!repliesTo.has(message.reply_to)) repliesTo.set(message.reply_to, new Set());
        repliesTo.get(message.reply_to).add(message.seq);
      }
      onShown(message);
      added.push(item);
    }
    for (const item of added) {
      render(client.message(slug, Number(item.dataset.seq)) ?? { seq: Number(item.dataset.seq) });
      group(item);
      group(item.nextElementSibling);
    }
    return added;
  }

  // On touch screens there is no hover: a tap on a message shows its actions.
  list.addEventListener("click", (event) => {
    if (event.target.closest("button, a, input, textarea, .picker")) return;
    const item = event.target.closest(".msg");
    for (const each of list.querySelectorAll(".msg--active")) if (each !== item) each.classList.remove("msg--active");
    item?.classList.toggle("msg--active");
  });
  scroller.addEventListener("scroll", () => {
    if (nearBottom()) {
      unseen = 0;
      jump.hidden = true;
    }
    viewed();
  });
  jump.addEventListener("click", () => timeline.showLatest());

  const timeline = {
    has: (seq) => shown.has(seq),
    item: (seq) => shown.get(seq),
    seqs: () => [...shown.keys()],
    get size() {
      return shown.size;
    },
    /** The seq of the first message on screen, or null. */
    firstSeq() {
      const first = list.querySelector(".msg");
      return first ? Number(first.dataset.seq) : null;
    },
    insert,
    /** Whether what is added now is read out: the log is not busy. */
    announces: () => quietTimer == null,
    /** Insert older messages above, keeping the view still. */
    insertOlder(messages) {
      const height = scroller.scrollHeight;
      const top = scroller.scrollTop;
      insert(messages);
      scroller.scrollTop = top + (scroller.scrollHeight - height);
    },
    /** Take messages off the screen (an old window replaced by another). */
    drop(seqs) {
      quiet();
      for (const seq of seqs) {
        shown.get(seq)?.remove();
        shown.delete(seq);
        for (const replies of repliesTo.values()) replies.delete(seq);
      }
    },
    render,
    /** Redraw every message (what the reader may do changed). */
    renderAll() {
      quiet();
      for (const seq of shown.keys()) render(client.message(slug, seq));
    },
    /** `message` changed: redraw it, staying at the bottom if there. */
    changed(message) {
      quiet();
      const stick = nearBottom();
      render(message);
      if (stick) toBottom();
    },
    /** Put `marker` (the <li> saying newer messages are not loaded) between
     * the messages up to `gap.after` and those from `gap.before`, or take it
     * out when `gap` is null. */
    placeGap(marker, gap) {
      quiet();
      const below = marker.isConnected ? marker.nextElementSibling : null;
      gapMarker = marker;
      if (gap) {
        // Its seq sorts it between the window and the tail in insert().
        marker.dataset.seq = String(gap.after + 0.5);
        let above = list.firstElementChild;
        while (above && (above === marker || Number(above.dataset.seq) < gap.before)) above = above.nextElementSibling;
        list.insertBefore(marker, above);
      } else {
        marker.remove();
      }
      // A header is shared across the gap's old place, never across the gap.
      group(below);
      group(marker.isConnected ? marker.nextElementSibling : null);
    },
    nearBottom,
    toBottom,
    /** To the newest message, as the reader asked (the jump button). */
    showLatest() {
      toBottom();
      viewed();
    },
    /** `count` messages of others came in below the view. */
    countUnseen(count) {
      if (!count) return;
      unseen += count;
      jump.textContent = unseenLabel(unseen);
      jump.hidden = false;
    },
    /** The focus to the list: its current message (message-focus.js). */
    focus() {
      (list.querySelector(':scope > [tabindex="0"]') ?? scroller).focus({ preventScroll: true });
    },
    /** My last own text message that can still be edited, newest first. */
    lastEditable() {
      for (let item = list.lastElementChild; item; item = item.previousElementSibling) {
        if (item.dataset.author !== page.me || item.classList.contains("msg--system")) continue;
        const message = client.message(slug, Number(item.dataset.seq));
        if (message && !message.deleted) return message.seq;
      }
      return null;
    },
    /** The seq of the newest message in view, or null. */
    newestInView() {
      const bottom = scroller.getBoundingClientRect().bottom;
      let item = list.lastElementChild;
      while (item && (item === gapMarker || item.getBoundingClientRect().top >= bottom - 8)) {
        item = item.previousElementSibling;
      }
      return item ? Number(item.dataset.seq) : null;
    },
  };
  return timeline;
}
