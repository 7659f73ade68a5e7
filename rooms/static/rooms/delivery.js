// Getting the outbox (outbox.js) to the server, for the protocol client
// (client.js): a send or a change is in the outbox (and storage) before it
// goes out, goes out when its room is joined, and again after every
// reconnect with its original client_id, so the server stores it once (G4,
// docs/protocol.md), also across page reloads. What the server answers
// decides what follows: an `ack` takes it out; an error it could not help
// (server_error, unavailable, rate_limited) sends it again on a timer; only
// errors a resend cannot fix are final. A join the server could not serve
// for now is asked again the same way. DOM-free; timers, clock and
// randomness are injected.

import { actionOf, newClientId, outboxFrame, supersedes } from "./outbox.js";
import { backoffDelay } from "./connection.js";

// Errors after which re-sending the same frame cannot succeed: a send is
// shown as failed, a change is dropped with a `rejected` event. (bad_frame,
// unknown_type and too_large cannot happen to a frame this client builds, and
// would not go away on a resend either.)
const FINAL_ERRORS = new Set([
  "invalid",
  "forbidden",
  "read_only",
  "not_found",
  "bad_frame",
  "unknown_type",
  "too_large",
]);
// Errors after which the frame goes out again with the room's next `joined`.
const AFTER_JOIN_ERRORS = new Set(["not_joined", "auth_required"]);
// Every other error (server_error, unavailable, rate_limited, a code this
// client does not know yet) is temporary: the frame is sent again after
// `retry_after`, or after a backoff delay. Its client_id makes that safe (G4).

/** What an error code means for the frame it answers: "final",
 * "after-join" (it goes out again with the next `joined`) or "temporary". */
export function errorOutcome(code) {
  if (FINAL_ERRORS.has(code)) return "final";
  if (AFTER_JOIN_ERRORS.has(code)) return "after-join";
  return "temporary";
}

/** The wait an error frame asks for, in ms, or null when it names none. */
export function retryAfter(frame) {
  const seconds = frame.retry_after;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) return null;
  return Math.max(100, seconds * 1000);
}

export class OutboxDelivery {
  /**
   * @param {Outbox} outbox
   * @param {object} options
   * @param {object} options.timers, options.random, options.now, options.backoff  as the connection's
   * @param {Function} options.transmit  (frame) -> whether it went out
   * @param {Function} options.isJoined  (room) -> whether the room is joined now
   * @param {Function} options.emit      (type, detail): the client's events
   * @param {Function} options.changed   (room, seq): message seq looks different now
   */
  constructor(outbox, { timers, random, now, backoff, transmit, isJoined, emit, changed }) {
    this.outbox = outbox;
    this.timers = timers;
    this.random = random;
    this.now = now;
    this.backoff = backoff;
    this.transmit = transmit;
    this.isJoined = isJoined;
    this.emit = emit;
    this.changed = changed;
    this.retries = new Map(); // room -> {timer, due, ids}: outbox items to send again
    this.retryCounts = new Map(); // client_id -> temporary errors so far
    this.joinRetries = new Map(); // room -> timer of a join to send again
  }

  /** Sends and changes share one outbox, so they go out in the order made.
   * An item made with `status` "uploading" waits (flush sends only pending
   * items) until update() makes it pending: a send whose files are not
   * uploaded yet (attachments.js). */
  enqueue(room, fields, status = "pending") {
    const item = { client_id: newClientId(this.random), room, ...fields, status, at: Date.now() };
    this.outbox.add(item);
    this.emit("outbox", { room });
    if (item.seq != null) this.changed(room, item.seq);
    this.flush(room, [item]);
    return item;
  }

  /** Send a failed item again (the page's Retry button). */
  retry(clientId) {
    const item = this.outbox.get(clientId);
    if (!item) return;
    this.retries.get(item.room)?.ids.delete(clientId);
    this.outbox.update(clientId, { status: "pending", error: null });
    this.emit("outbox", { room: item.room });
    this.flush(item.room, [{ ...item, status: "pending" }]);
  }

  /** Change item `clientId` (a held send's status, error or attachments),
   * and send it if that makes it pending. */
  update(clientId, changes) {
    const item = this.outbox.get(clientId);
    if (!item) return;
    this.outbox.update(clientId, changes);
    this.emit("outbox", { room: item.room });
    this.flush(item.room, [{ ...item, ...changes }]);
  }

  discard(clientId) {
    const item = this.outbox.get(clientId);
    this.forget(clientId);
    if (item && this.outbox.remove(clientId)) this.emit("outbox", { room: item.room });
  }

  /** Send the pending items of `room` (all of them after a `joined`), in
   * the order they were made; those waiting for a planned resend wait. */
  flush(room, items = this.outbox.forRoom(room)) {
    if (!this.isJoined(room)) return;
    const waiting = this.retries.get(room)?.ids;
    for (const item of items) {
      if (item.status === "pending" && !waiting?.has(item.client_id)) this.transmit(outboxFrame(item));
    }
  }

  /** The `ack` of item `clientId`: out of the outbox, with the earlier
   * changes it makes pointless. Returns the item, or null when it was not
   * (or no longer) there. */
  acked(clientId) {
    const item = clientId ? this.outbox.get(clientId) : null;
    if (!item) return null;
    const items = this.outbox.forRoom(item.room);
    const index = items.findIndex((each) => each.client_id === clientId);
    this.forget(clientId);
    if (!this.outbox.remove(clientId)) return null;
    // An earlier change still waiting to be resent would now undo this one.
    for (const earlier of items.slice(0, index)) {
      if (supersedes(item, earlier)) {
        this.forget(earlier.client_id);
        this.outbox.remove(earlier.client_id);
      }
    }
    return item;
  }

  /** The error `frame` answered `item` (its ref is the client_id). */
  failed(item, frame) {
    const outcome = errorOutcome(frame.code);
    const id = item.client_id;
    if (outcome === "temporary") {
      this.resendLater(item, frame);
    } else if (outcome === "after-join") {
      // not_joined: it goes out again after the next `joined`.
    } else if (actionOf(item) !== "send") {
      // A change that cannot be made (its message was deleted meanwhile, or
      // the user lost the right): drop it and say so.
      this.forget(id);
      this.outbox.remove(id);
      this.emit("outbox", { room: item.room });
      this.changed(item.room, item.seq);
      this.emit("rejected", { room: item.room, item, code: frame.code, message: frame.message });
    } else {
      this.forget(id);
      this.outbox.update(id, { status: "failed", error: frame.message, code: frame.code });
      this.emit("outbox", { room: item.room });
    }
  }

  /** The server could not store `item` for now: send it again after the
   * error's retry_after, or after a backoff delay that grows with each of
   * its temporary errors. Items of one room that wait go out together, in
   * the order they were made, on one timer. */
  resendLater(item, frame) {
    const { room, client_id: id } = item;
    let retry = this.retries.get(room);
    if (!retry) this.retries.set(room, (retry = { timer: null, due: 0, ids: new Set() }));
    retry.ids.add(id);
    let wait = retryAfter(frame);
    if (wait == null) {
      const count = this.retryCounts.get(id) ?? 0;
      this.retryCounts.set(id, count + 1);
      wait = backoffDelay(count, this.backoff, this.random);
    }
    const due = this.now() + wait;
    if (retry.timer != null) {
      if (due <= retry.due) return; // it goes with the resend already planned
      this.timers.clearTimeout(retry.timer);
    }
    retry.due = due;
    retry.timer = this.timers.setTimeout(() => this.resend(room), wait);
  }

  /** The planned resend of `room`: each waiting item that is still pending,
   * in order, unless a later change in the outbox supersedes it. */
  resend(room) {
    const retry = this.retries.get(room);
    if (!retry) return;
    this.retries.delete(room);
    if (!this.isJoined(room)) return; // the next `joined` sends them
    const items = this.outbox.forRoom(room);
    items.forEach((item, index) => {
      if (!retry.ids.has(item.client_id) || item.status !== "pending") return;
      if (items.slice(index + 1).some((later) => supersedes(later, item))) this.drop(item);
      else this.transmit(outboxFrame(item));
    });
  }

  /** Remove a change item that a later one made pointless. */
  drop(item) {
    this.forget(item.client_id);
    if (!this.outbox.remove(item.client_id)) return;
    this.emit("outbox", { room: item.room });
    this.changed(item.room, item.seq);
  }

  forget(clientId) {
    this.retryCounts.delete(clientId);
    for (const retry of this.retries.values()) retry.ids.delete(clientId);
  }

  /** A join of `room` the server could not serve for now: `rejoin()`
   * after the error's retry_after, or after a backoff delay that grows with
   * the join errors of `log` (the room's RoomLog) since its last `joined`. */
  joinLater(room, log, frame, rejoin) {
    if (this.joinRetries.has(room)) return;
    const count = log.joinErrors ?? 0;
    log.joinErrors = count + 1;
    const wait = retryAfter(frame) ?? backoffDelay(count, this.backoff, this.random);
    this.joinRetries.set(
      room,
      this.timers.setTimeout(() => {
        this.joinRetries.delete(room);
        rejoin();
      }, wait),
    );
  }

  /** `room` is joined: no join waits to be sent again. */
  joined(room) {
    if (this.joinRetries.has(room)) this.timers.clearTimeout(this.joinRetries.get(room));
    this.joinRetries.delete(room);
  }

  /** The socket ended: planned resends and re-joins are off (the next
   * `joined` sends the outbox again anyway). */
  clear() {
    for (const retry of this.retries.values()) this.timers.clearTimeout(retry.timer);
    this.retries.clear();
    for (const timer of this.joinRetries.values()) this.timers.clearTimeout(timer);
    this.joinRetries.clear();
  }
}
