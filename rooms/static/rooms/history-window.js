// Opening the room page at a message far from the newest (a search result,
// a notification, a reply's original): instead of paging back through the
// whole history, load the messages around it with one `history` request, and
// keep the seqs between that window and the live tail as a known gap that
// the reader fills or jumps over. DOM-free: scrollback.js draws it.
//
// `history(before, limit)` answers with the newest messages below `before`
// (at most `limit`, and fewer when the 256 KiB cap cuts the page, keeping
// the newest), so a page is complete *downwards from before*: every message
// with seq in [its lowest seq, before) is in it. Everything here builds on
// that one guarantee.

export const AROUND = 25; // messages asked for on each side of the target
export const NEAR = 50; // seqs: this close, one page of history reaches it

/** How to show message `seq`: "show" (on screen), "older" (page back from
 * the top of the list), "newer" (fill the gap from below), "window" (load
 * the messages around it), or "missing" (inside what is loaded, yet no
 * message: a change entry, or removed by retention).
 * `first`: the lowest seq shown (null if none); `gap`: {after, before} or null. */
export function planOpen(seq, { isShown, first, gap, near = NEAR }) {
  if (isShown) return "show";
  if (gap && seq > gap.after && seq < gap.before) return seq - gap.after <= near ? "newer" : "window";
  if (first == null || seq < first) return first != null && first - seq <= near ? "older" : "window";
  return "missing";
}

/** The messages with seq in [from, before), as pages of `history` going
 * down from `before` until they reach `downTo` or the start of the room.
 * Usually one page; more only when the size cap shortened one.
 * Resolves with {messages (ascending, each seq once), from, hasOlder}. */
export async function loadDown(history, { before, downTo, limit = 2 * AROUND }) {
  const bySeq = new Map();
  let next = before;
  for (;;) {
    const { messages, has_more: hasMore } = await history(next, limit);
    for (const message of messages) bySeq.set(message.seq, message);
    const lowest = messages.length ? Math.min(...messages.map((message) => message.seq)) : next;
    if (!hasMore || lowest <= downTo || lowest >= next) {
      const all = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
      return { messages: all, from: hasMore ? lowest : 1, hasOlder: hasMore };
    }
    next = lowest; // cut short by the size cap: what lies between is still to fetch
  }
}

/** The window around `seq`: {before, downTo, limit} for loadDown. */
export function aroundRequest(seq) {
  return { before: seq + AROUND + 1, downTo: seq, limit: 2 * AROUND };
}

/** The next step that fills `gap` from below: {before, downTo, limit}. */
export function newerRequest(gap, limit = 2 * AROUND) {
  return { before: Math.min(gap.after + 1 + limit, gap.before), downTo: gap.after + 1, limit };
}

/** The gap left once everything up to `through` is loaded below a tail that
 * is complete from seq `tailFrom` up: null when they meet. */
export function gapBetween(through, tailFrom) {
  return through + 1 >= tailFrom ? null : { after: through, before: tailFrom };
}
