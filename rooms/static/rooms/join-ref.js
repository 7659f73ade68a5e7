// The ref of a room's `join` frame (docs/protocol.md: a ref has at most 64
// characters), by which the client matches an error to the room it joins.

/** The ref of a join of `room`: `join:<slug>`, or, when that passes the 64
 * characters a ref may have, its start and a hash of the whole slug. */
export function joinRef(room) {
  const ref = `join:${room}`;
  if (ref.length <= 64) return ref;
  let hash = 0;
  for (const char of room) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0;
  return `${ref.slice(0, 56)}~${hash.toString(36)}`;
}
