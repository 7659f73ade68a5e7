// How many rooms one page joins (docs/ui.md, How much a page joins). A user
// with a thousand rooms or conversations would have a page join them all on
// one socket, past the frame budget and the server's cap on joined rooms:
// a page joins at most a bounded number, the most recently active first
// (the server ranks them: selectors.rooms_to_join, direct_conversations),
// and the others stay listed and are joined on demand. DOM-free.

/** Which rooms to join and which to leave so that the page holds at most
 * `max`: `first` (rooms new to the page, which a `rooms` frame just
 * announced), then `ranked` (the most recently active first). A room
 * already joined stays joined while it is among those; the others are left.
 * `joined`, `first` and `ranked` are slugs. */
export function joinPlan({ joined, ranked, first = [], max }) {
  const wanted = new Set();
  for (const slug of [...first, ...ranked]) {
    if (wanted.size >= max) break;
    wanted.add(slug);
  }
  const had = new Set(joined);
  return {
    join: [...wanted].filter((slug) => !had.has(slug)),
    leave: [...had].filter((slug) => !wanted.has(slug)),
  };
}

/** The slugs of `rooms` (each `{slug, last_activity}`, as GET /api/rooms
 * gives them), the most recently active first. One without any entry yet
 * comes before them all: for a conversation that is one just started, whose
 * first message is still to come. */
export function byActivity(rooms) {
  const at = (room) => room.last_activity ?? "\uffff"; // fixed-width UTC text sorts as time
  return [...rooms].sort((a, b) => (at(a) < at(b) ? 1 : at(a) > at(b) ? -1 : 0)).map((room) => room.slug);
}
