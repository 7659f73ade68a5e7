// What the room page (room-page.js) loads besides the stream: older pages
// ("Load older messages", and enough of them for a first screen), and a
// message far back opened by its address (`#seq-N`: a search result, a
// notification) or a quote: the messages around it are loaded as a window,
// and the messages not loaded between there and the newest are marked as a
// gap that can be filled from below (history-window.js plans the requests).
// The messages go into the timeline (timeline.js).

import { button, el } from "./dom.js";
import { aroundRequest, gapBetween, loadDown, newerRequest, planOpen } from "./history-window.js";
import { gettext } from "./i18n.js";

const FIRST_SCREEN = 20; // load history until at least this many messages show
const PAGE = 50; // messages per page of older history
const MAX_PAGES = 5; // pages loaded in one go, at most (a first screen, a jump)

/** The message `#seq-N` of an address's hash names, or null. */
export function seqInHash(hash) {
  const match = /^#seq-(\d+)$/.exec(hash);
  return match ? Number(match[1]) : null;
}

/**
 * Scrollback for room `slug` into `timeline`. `elements`: the "Load older
 * messages" button (`older`) and the line saying the room starts here
 * (`start`). `target()` is the seq the address asks to open at, or null;
 * `showNotice(text)` tells the reader something went wrong.
 */
export function startScrollback({ client, slug, timeline, elements, target, showNotice }) {
  const { older: olderButton, start: historyStart } = elements;
  let hasOlder = false;
  let joinedOnce = false;
  let firstHead = null; // the head when first joined: the first screen is complete at it
  let firstScreenIn = false;
  // Seqs {after, before} (both exclusive) not loaded between a window opened
  // at an old message and the newest messages, or null: the list never hides
  // that it skips them.
  let gap = null;
  const history = (before, limit) => client.history(slug, before, limit);

  const gapItem = el("li", "history-gap");
  const gapText = el("p", "history-gap-text", gettext("Newer messages are not loaded here."));
  const newerButton = button("button button--ghost small", gettext("Load newer messages"));
  const latestButton = button("button button--ghost small", gettext("Jump to the latest ↓"));
  gapItem.append(gapText, el("div", "history-gap-actions"));
  gapItem.lastElementChild.append(newerButton, latestButton);
  newerButton.addEventListener("click", async () => {
    await loadNewer();
    if (!gap) timeline.focus(); // the button went with the gap
  });
  latestButton.addEventListener("click", () => timeline.showLatest());
  olderButton.addEventListener("click", loadOlder);

  function showGap(next) {
    gap = next;
    timeline.placeGap(gapItem, gap);
  }

  function updateOlder() {
    olderButton.hidden = !hasOlder;
    historyStart.hidden = hasOlder || !joinedOnce;
  }

  /** One page of older messages; false when it could not be loaded. */
  async function loadOlder() {
    olderButton.disabled = true;
    try {
      const before = timeline.firstSeq() ?? (client.lastSeq(slug) ?? 0) + 1;
      const { messages, has_more } = await client.history(slug, before, PAGE);
      timeline.insertOlder(messages);
      hasOlder = has_more;
      return true;
    } catch {
      return false; // not connected: try again later
    } finally {
      olderButton.disabled = false;
      updateOlder();
    }
  }

  /** The first screen: the join brought the newest 50 entries, which may be
   * mostly edits and reactions; fill up with older messages. */
  async function fillFirstScreen() {
    for (let pages = 0; timeline.size < FIRST_SCREEN && hasOlder && pages < MAX_PAGES; pages++) {
      if (!(await loadOlder())) break;
    }
    timeline.toBottom();
    firstScreenIn = true;
    if (target() != null) jumpTo(target());
  }

  /** Show the messages around `seq`, in place of an earlier window. */
  async function openWindow(seq) {
    const tailFrom = gap ? gap.before : (timeline.firstSeq() ?? (client.lastSeq(slug) ?? 0) + 1);
    const request = aroundRequest(seq);
    let page;
    try {
      page = await loadDown(history, request);
    } catch {
      return; // not connected: the notice says the message is not there
    }
    if (!page.messages.length) return;
    if (gap) timeline.drop(timeline.seqs().filter((each) => each < gap.before));
    timeline.insert(page.messages);
    hasOlder = page.hasOlder;
    updateOlder();
    showGap(gapBetween(request.before - 1, tailFrom));
  }

  /** One step filling the gap from below; false when it could not be loaded. */
  async function loadNewer() {
    if (!gap) return true;
    newerButton.disabled = true;
    const request = newerRequest(gap);
    try {
      const page = await loadDown(history, request);
      timeline.insert(page.messages);
      showGap(gapBetween(request.before - 1, gap.before));
      return true;
    } catch {
      return false;
    } finally {
      newerButton.disabled = false;
    }
  }

  /** Scroll to message `seq` and flash it: paging when it is near what is
   * loaded, else loading the messages around it (history-window.js). */
  async function jumpTo(seq) {
    const plan = planOpen(seq, { isShown: timeline.has(seq), first: timeline.firstSeq(), gap });
    if (plan === "older") {
      for (let pages = 0; !timeline.has(seq) && hasOlder && pages < MAX_PAGES; pages++) {
        if (!(await loadOlder())) break;
      }
    } else if (plan === "newer") {
      for (let pages = 0; !timeline.has(seq) && gap && seq < gap.before && pages < MAX_PAGES; pages++) {
        if (!(await loadNewer())) break;
      }
    } else if (plan === "window") {
      await openWindow(seq);
    }
    const item = timeline.item(seq);
    if (!item) {
      showNotice(gettext("That message is not available: it was deleted or is no longer kept."));
      return;
    }
    item.scrollIntoView({ block: "center" });
    item.classList.remove("msg--highlight");
    void item.offsetWidth; // restart the animation
    item.classList.add("msg--highlight");
    item.tabIndex = -1;
    item.focus({ preventScroll: true });
  }

  return {
    jumpTo,
    /** The room was joined (`frame`): the first join says whether there is
     * older history and where the first screen is complete. */
    joined(frame) {
      if (!joinedOnce) {
        hasOlder = frame.since > 0;
        firstHead = frame.head;
      }
      joinedOnce = true;
      updateOlder();
      if (firstHead != null && frame.head === frame.since) {
        firstHead = null;
        fillFirstScreen();
      }
    },
    /** Entries arrived: the first screen is filled once they reach the head. */
    entries() {
      if (firstHead == null || (client.lastSeq(slug) ?? 0) < firstHead) return;
      firstHead = null;
      fillFirstScreen();
    },
    /** The address changed: a link to another message of this room, followed
     * once the first screen is in, opens it there. */
    followTarget() {
      if (firstScreenIn && target() != null) jumpTo(target());
    },
  };
}
