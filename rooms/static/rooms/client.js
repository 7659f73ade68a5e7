// The Rooms protocol client (PROTOCOL.md): one WebSocket, many rooms.
//
// DOM-free, so the browser UI (app.js), bots and node tests share it. What it
// adds on top of the wire protocol (version 2):
//   - reconnect with jittered exponential backoff, re-joining every room with
//     `since` = the last seq it received (G5), so missed entries arrive once:
//     new messages and changes alike; after any close but 4401 (signed out),
//     and after a socket that went silent: no frame within `pingTimeout` of a
//     ping (or `helloTimeout` of opening) and it is given up and replaced;
//   - dedupe by seq as a second line of defence, and a re-join on a seq gap;
//   - the messages of each room in their current state: change entries
//     (edit, delete, reaction) are applied to the message they target
//     (room-log.js); a change whose target is not held is ignored;
//   - an outbox persisted in storage (localStorage in browsers): a send or a
//     change is kept until its `ack`, re-sent after every reconnect with its
//     original client_id, so the server stores it once (G4), also across page
//     reloads; until its entry arrives it is shown applied (`message()`).
//     A frame the server could not store for now (server_error, unavailable,
//     rate_limited) is sent again on a timer; only errors a resend cannot fix
//     are final.
// The WebSocket constructor, storage and timers are injected for testability.

import { Outbox, actionOf, newClientId, outboxChange, outboxFrame, supersedes } from "./outbox.js";
import { RoomLog } from "./room-log.js";

export { Outbox, RoomLog };

/** Delay before reconnect attempt `attempt` (0-based): a random point in the
 * upper half of min(max, base * 2^attempt), so a crowd of clients that lost
 * the same server does not come back in lockstep. */
export function backoffDelay(attempt, { base = 500, max = 15000 } = {}, random = Math.random) {
  const cap = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return cap / 2 + random() * (cap / 2);
}

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

/** Close codes (PROTOCOL.md, "Close codes"), as `reason` in status events. */
export const CLOSE_REASONS = new Map([
  [1001, "going-away"], // the server is shutting down or restarting
  [1012, "restarting"], // the same, as uvicorn says it
  [4401, "signed-out"],
  [4408, "backlog"], // this socket did not read its frames fast enough
  [4413, "too-large"],
  [4429, "too-many-sockets"], // this user has too many open sockets
  [4503, "unavailable"], // the server cannot vouch for the stream
]);

/** The wait an error frame asks for, in ms, or null when it names none. */
function retryAfter(frame) {
  const seconds = frame.retry_after;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) return null;
  return Math.max(100, seconds * 1000);
}

export class RoomsClient {
  /**
   * @param {object} options
   * @param {string} options.url                 ws(s)://host/ws/
   * @param {Function} [options.WebSocket]       constructor (default: globalThis.WebSocket)
   * @param {Storage} [options.storage]          for the outbox (default: none, in memory)
   * @param {string} [options.outboxKey]
   * @param {object} [options.timers]            {setTimeout, clearTimeout, setInterval, clearInterval}
   * @param {Function} [options.random]
   * @param {object} [options.backoff]           {base, max} in ms
   * @param {number} [options.pingInterval]      ms between pings (0: none)
   * @param {number} [options.pingTimeout]       ms after a ping without any frame before
   *                                             the socket counts as dead (0: never)
   * @param {number} [options.helloTimeout]      ms after opening a socket without any
   *                                             frame before it counts as dead (0: never)
   * @param {number} [options.stableAfter]       ms a connection must last after `hello`
   *                                             for the reconnect backoff to start over
   * @param {object} [options.crowdedBackoff]    {base, max} in ms, after close 4429
   * @param {Function} [options.now]             the clock, ms (default Date.now)
   * @param {string} [options.user]              the username, for showing unsent
   *                                             changes before `hello` arrives
   */
  constructor(options) {
    this.url = options.url;
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.timers = options.timers ?? globalThis;
    this.random = options.random ?? Math.random;
    this.backoff = options.backoff ?? { base: 500, max: 15000 };
    this.pingInterval = options.pingInterval ?? 25000;
    this.pingTimeout = options.pingTimeout ?? 10000;
    this.helloTimeout = options.helloTimeout ?? 20000;
    this.stableAfter = options.stableAfter ?? 10000;
    this.crowdedBackoff = options.crowdedBackoff ?? { base: 10000, max: 60000 };
    this.now = options.now ?? (() => Date.now());
    this.outbox = new Outbox(options.storage, options.outboxKey ?? "rooms.outbox");
    this.rooms = new Map(); // slug -> RoomLog
    this.listeners = new Map();
    this.pending = new Map(); // ref -> {room, resolve, reject} for history
    this.state = "idle";
    this.attempt = 0;
    this.socket = null;
    this.retryAt = null;
    this.user = options.user ?? null;
    this.refCounter = 0;
    this.typingSentAt = new Map();
    this.helloAt = null; // when this socket's hello arrived
    this.reason = null; // why the last socket ended (CLOSE_REASONS, "timeout")
    this.silenceTimer = null; // gives up a socket that stays silent
    this.retries = new Map(); // room -> {timer, due, ids}: outbox items to send again
    this.retryCounts = new Map(); // client_id -> temporary errors so far
    this.joinRetries = new Map(); // room -> timer of a join to send again
  }

  // --- events ---------------------------------------------------------------

  on(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(listener);
    return () => this.listeners.get(type).delete(listener);
  }

  emit(type, detail) {
    for (const listener of this.listeners.get(type) ?? []) listener(detail);
  }

  setState(state, extra = {}) {
    this.state = state;
    this.emit("status", { state, ...extra });
  }

  // --- connection -------------------------------------------------------------

  connect() {
    this.stopped = false;
    this.clearRetry();
    if (this.socket) return;
    // While reconnecting, the status keeps saying why the last socket ended.
    const reason = this.attempt === 0 ? null : this.reason;
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting", { retryAt: null, reason });
    const socket = new this.WebSocket(this.url);
    this.socket = socket;
    socket.onmessage = (event) => this.socket === socket && this.receive(event.data);
    socket.onclose = (event) => this.socket === socket && this.closed(event.code ?? 1006);
    socket.onerror = () => {}; // a close follows every error
    // A handshake lost on a half-open route may hang for minutes.
    this.expectFrame(this.helloTimeout);
  }

  /** Drop the connection now (the browser went offline, or a test asks). */
  disconnect(state = "offline") {
    const socket = this.socket;
    this.socket = null;
    this.helloAt = null;
    this.reason = null;
    this.dropped();
    if (socket) {
      socket.onmessage = socket.onclose = null;
      try {
        socket.close();
      } catch {
        // already closing
      }
    }
    this.clearRetry();
    this.setState(state, { retryAt: null });
  }

  /** Stop for good (no reconnects). */
  close() {
    this.stopped = true;
    this.disconnect("closed");
  }

  /** Skip the backoff wait. */
  reconnectNow() {
    if (this.stopped) return;
    this.attempt = Math.max(this.attempt, 1);
    this.disconnect("reconnecting");
    this.connect();
  }

  clearRetry() {
    if (this.retryTimer != null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.retryAt = null;
  }

  /** What every end of a socket undoes: pings, the silence watch, joins,
   * planned resends (the next `joined` sends the outbox again anyway),
   * history requests in flight. */
  dropped() {
    this.stopPing();
    this.stopSilenceWatch();
    this.clearResends();
    for (const room of this.rooms.values()) room.joined = false;
    this.rejectPending("disconnected");
  }

  /** The socket closed (`code`), or went silent (code null, reason "timeout"):
   * reconnect after a backoff delay, except after 4401. */
  closed(code, reason = CLOSE_REASONS.get(code) ?? "disconnected") {
    const lived = this.helloAt == null ? null : this.now() - this.helloAt;
    this.socket = null;
    this.helloAt = null;
    this.reason = reason;
    this.dropped();
    if (code === 4401) {
      // Not authenticated (logged out, deactivated, token revoked): a
      // reconnect would be refused the same way.
      this.stopped = true;
      this.setState("signed-out", { retryAt: null, code, reason });
      return;
    }
    if (this.stopped) return;
    // Only a connection that lasted starts the backoff over: a server that
    // says hello and then closes at once (4503 while its database is down)
    // must not be hammered.
    if (lived != null && lived >= this.stableAfter) this.attempt = 0;
    // The server dropped many sockets at once (restart, lost stream): spread
    // their return over at least the first second.
    if (code === 1001 || code === 1012 || code === 4503) this.attempt = Math.max(this.attempt, 1);
    const backoff = code === 4429 ? this.crowdedBackoff : this.backoff;
    const delay = backoffDelay(this.attempt, backoff, this.random);
    this.attempt += 1;
    this.retryAt = this.now() + delay;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
    this.setState("reconnecting", { retryAt: this.retryAt, delay, code, reason });
  }

  /** Give up a socket that stopped answering: a route that died without a
   * FIN (a NAT that forgot it, a sleeping laptop, a server frozen) leaves a
   * socket that never closes by itself. Reconnect as after a close. */
  silent() {
    const socket = this.socket;
    if (!socket) return;
    socket.onmessage = socket.onclose = null;
    try {
      socket.close();
    } catch {
      // already closing
    }
    this.closed(null, "timeout");
  }

  /** Expect a frame within `ms` (unless a wait is already running). */
  expectFrame(ms) {
    if (!ms || this.silenceTimer != null) return;
    this.silenceTimer = this.timers.setTimeout(() => {
      this.silenceTimer = null;
      this.silent();
    }, ms);
  }

  stopSilenceWatch() {
    if (this.silenceTimer != null) this.timers.clearTimeout(this.silenceTimer);
    this.silenceTimer = null;
  }

  transmit(frame) {
    if (!this.socket || this.state !== "connected") return false;
    try {
      this.socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  startPing() {
    this.stopPing();
    if (!this.pingInterval) return;
    // A ping keeps idle proxies from cutting the socket, reveals a head
    // above our last seq (then we re-join with since), and proves the socket
    // alive: without any frame within pingTimeout it is given up.
    this.pingTimer = this.timers.setInterval(() => {
      if (this.transmit({ type: "ping" })) this.expectFrame(this.pingTimeout);
    }, this.pingInterval);
  }

  stopPing() {
    if (this.pingTimer != null) this.timers.clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  rejectPending(reason) {
    for (const { room, reject } of this.pending.values()) {
      this.rooms.get(room)?.historyDone();
      reject(new Error(reason));
    }
    this.pending.clear();
  }

  // --- rooms ------------------------------------------------------------------

  /** Join `room`. The first join uses `options` ({since, limit}); every
   * re-join after a reconnect uses since = the last seq delivered. */
  join(room, options = {}) {
    const state = this.rooms.get(room) ?? new RoomLog();
    state.options = options;
    this.rooms.set(room, state);
    this.sendJoin(room);
  }

  leave(room) {
    if (this.rooms.delete(room)) this.transmit({ type: "leave", room });
  }

  sendJoin(room) {
    const state = this.rooms.get(room);
    const frame = { type: "join", room, ref: `join:${room}`, ...state.options };
    if (state.lastSeq != null) {
      // A re-join resumes exactly where the stream stopped: no limit.
      frame.since = state.lastSeq;
      delete frame.limit;
    }
    this.transmit(frame);
  }

  lastSeq(room) {
    return this.rooms.get(room)?.lastSeq ?? null;
  }

  /** Take in entries of the stream (backfill or live): dedupe by seq, hold
   * new messages, apply changes, then tell listeners once per message
   * ("messages" for new ones, "change" for changed ones) and once per batch
   * ("entries": every entry received, for listeners that want the raw log). */
  receiveEntries(room, entries, live) {
    const state = this.rooms.get(room);
    if (!state) return;
    const { fresh, gap } = state.accept(entries);
    if (gap) this.sendJoin(room);
    if (!fresh.length) return;
    const { added, changed } = state.take(fresh);
    if (added.length) {
      this.emit("messages", { room, messages: added.map((seq) => this.message(room, seq)), live });
    }
    for (const seq of changed) this.emitChange(room, seq);
    this.emit("entries", { room, entries: fresh, live });
  }

  /**
   * The message `seq` of `room` as a page should show it, or null when the
   * client does not hold it: its state from the server with this user's
   * changes applied that are acked but not received yet, or still in the
   * outbox; `pending` says which are unsent (RoomLog.view).
   */
  message(room, seq) {
    const state = this.rooms.get(room);
    return state ? state.view(seq, this.outbox.forRoom(room), this.user) : null;
  }

  /** Every message of `room` the client holds, ascending by seq. */
  messages(room) {
    return (this.rooms.get(room)?.seqs() ?? []).map((seq) => this.message(room, seq));
  }

  emitChange(room, seq) {
    const message = this.message(room, seq);
    if (message) this.emit("change", { room, seq, message });
  }

  // --- sending ----------------------------------------------------------------

  /** Queue a message (a reply when `replyTo` is the seq of a message): it is
   * in the outbox (and storage) before this returns, and goes out now if the
   * room is joined, else after the next join. */
  send(room, body, { replyTo = null } = {}) {
    const fields = { action: "send", body };
    if (replyTo != null) fields.reply_to = replyTo;
    return this.enqueue(room, fields);
  }

  /** Replace the body of message `seq` (the user's own). */
  edit(room, seq, body) {
    return this.enqueue(room, { action: "edit", seq, body });
  }

  /** Delete message `seq` (the user's own, or any as a moderator). */
  delete(room, seq) {
    return this.enqueue(room, { action: "delete", seq });
  }

  /** Add (`on`) or take back a reaction on message `seq`. */
  react(room, seq, emoji, on = true) {
    return this.enqueue(room, { action: "react", seq, emoji, on: Boolean(on) });
  }

  /** Sends and changes share one outbox, so they go out in the order made. */
  enqueue(room, fields) {
    const item = { client_id: newClientId(this.random), room, ...fields, status: "pending", at: Date.now() };
    this.outbox.add(item);
    this.emit("outbox", { room });
    if (item.seq != null) this.emitChange(room, item.seq);
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

  discard(clientId) {
    const item = this.outbox.get(clientId);
    this.forget(clientId);
    if (item && this.outbox.remove(clientId)) this.emit("outbox", { room: item.room });
  }

  /** Send the pending items of `room` (all of them after a `joined`), in
   * the order they were made; those waiting for a planned resend wait. */
  flush(room, items = this.outbox.forRoom(room)) {
    if (!this.rooms.get(room)?.joined) return;
    const waiting = this.retries.get(room)?.ids;
    for (const item of items) {
      if (item.status === "pending" && !waiting?.has(item.client_id)) this.transmit(outboxFrame(item));
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
    if (!this.rooms.get(room)?.joined) return; // the next `joined` sends them
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
    this.emitChange(item.room, item.seq);
  }

  forget(clientId) {
    this.retryCounts.delete(clientId);
    for (const retry of this.retries.values()) retry.ids.delete(clientId);
  }

  clearResends() {
    for (const retry of this.retries.values()) this.timers.clearTimeout(retry.timer);
    this.retries.clear();
    for (const timer of this.joinRetries.values()) this.timers.clearTimeout(timer);
    this.joinRetries.clear();
  }

  /** A join the server could not serve for now (rate_limited: the frame
   * budget or the rooms-per-socket cap; server_error): ask again later. */
  rejoinLater(room, frame) {
    const state = this.rooms.get(room);
    if (!state || this.joinRetries.has(room)) return;
    const count = state.joinErrors ?? 0;
    state.joinErrors = count + 1;
    const wait = retryAfter(frame) ?? backoffDelay(count, this.backoff, this.random);
    this.joinRetries.set(
      room,
      this.timers.setTimeout(() => {
        this.joinRetries.delete(room);
        if (this.rooms.get(room) === state) this.sendJoin(room);
      }, wait),
    );
  }

  typing(room) {
    const now = Date.now();
    if (now - (this.typingSentAt.get(room) ?? 0) < 3000) return;
    if (this.transmit({ type: "typing", room })) this.typingSentAt.set(room, now);
  }

  read(room, seq) {
    const state = this.rooms.get(room);
    if (!state || seq <= state.lastRead) return;
    if (this.transmit({ type: "read", room, seq })) state.lastRead = seq;
  }

  /** Older messages before `before`: resolves with {messages, has_more},
   * the messages as message() shows them. The client holds them from then
   * on, so later changes to them apply. */
  history(room, before, limit = 50) {
    const ref = `history:${++this.refCounter}`;
    const frame = { type: "history", room, limit, ref };
    if (before != null) frame.before = before;
    return new Promise((resolve, reject) => {
      if (!this.transmit(frame)) {
        reject(new Error("not connected"));
        return;
      }
      this.rooms.get(room)?.historyStarted();
      this.pending.set(ref, { room, resolve, reject });
    });
  }

  // --- frames from the server ----------------------------------------------------

  receive(text) {
    // Any frame at all proves the socket alive.
    this.stopSilenceWatch();
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    const handler = this[`on_${frame.type}`];
    if (typeof handler === "function") handler.call(this, frame);
  }

  on_hello(frame) {
    this.user = frame.user;
    // The backoff starts over once this connection has lasted (closed()).
    this.helloAt = this.now();
    this.setState("connected", { retryAt: null, user: frame.user });
    this.emit("hello", frame);
    for (const room of this.rooms.keys()) this.sendJoin(room);
    this.startPing();
  }

  on_joined(frame) {
    const state = this.rooms.get(frame.room);
    if (!state) return;
    // Every frame of the room after `joined` belongs to the new stream,
    // which starts at since + 1 (PROTOCOL.md, re-join).
    state.lastSeq = frame.since;
    state.joined = true;
    state.joinErrors = 0;
    if (this.joinRetries.has(frame.room)) this.timers.clearTimeout(this.joinRetries.get(frame.room));
    this.joinRetries.delete(frame.room);
    this.emit("joined", frame);
    for (const target of state.settle()) this.emitChange(frame.room, target);
    this.flush(frame.room);
  }

  on_backfill(frame) {
    this.receiveEntries(frame.room, frame.messages ?? [], false);
  }

  on_message(frame) {
    if (frame.message) this.receiveEntries(frame.room, [frame.message], true);
  }

  on_ack(frame) {
    const item = frame.client_id ? this.outbox.get(frame.client_id) : null;
    const items = item ? this.outbox.forRoom(item.room) : [];
    const index = items.findIndex((each) => each.client_id === frame.client_id);
    if (item) this.forget(item.client_id);
    if (item && this.outbox.remove(frame.client_id)) {
      const change = outboxChange(item, this.user);
      // Stored, but its entry may not have arrived yet: keep showing it.
      if (change) this.rooms.get(item.room)?.acknowledge(change, frame.seq);
      // An earlier change still waiting to be resent would now undo this one.
      for (const earlier of items.slice(0, index)) {
        if (supersedes(item, earlier)) {
          this.forget(earlier.client_id);
          this.outbox.remove(earlier.client_id);
        }
      }
      this.emit("outbox", { room: frame.room });
      if (change) this.emitChange(item.room, item.seq);
    }
    this.emit("ack", frame);
  }

  on_error(frame) {
    const ref = typeof frame.ref === "string" ? frame.ref : "";
    if (this.pending.has(ref)) {
      const waiter = this.pending.get(ref);
      this.pending.delete(ref);
      this.rooms.get(waiter.room)?.historyDone();
      waiter.reject(Object.assign(new Error(frame.message), { code: frame.code }));
      return;
    }
    const temporary = !FINAL_ERRORS.has(frame.code) && !AFTER_JOIN_ERRORS.has(frame.code);
    const joinOf = ref.startsWith("join:") ? ref.slice(5) : null;
    if (joinOf != null && this.rooms.has(joinOf) && temporary) {
      this.rejoinLater(joinOf, frame);
      return;
    }
    const item = ref ? this.outbox.get(ref) : null;
    if (item) {
      if (temporary) {
        this.resendLater(item, frame);
      } else if (AFTER_JOIN_ERRORS.has(frame.code)) {
        // not_joined: it goes out again after the next `joined`.
      } else if (actionOf(item) !== "send") {
        // A change that cannot be made (its message was deleted meanwhile, or
        // the user lost the right): drop it and say so.
        this.forget(ref);
        this.outbox.remove(ref);
        this.emit("outbox", { room: item.room });
        this.emitChange(item.room, item.seq);
        this.emit("rejected", { room: item.room, item, code: frame.code, message: frame.message });
      } else {
        this.forget(ref);
        this.outbox.update(ref, { status: "failed", error: frame.message, code: frame.code });
        this.emit("outbox", { room: item.room });
      }
      return;
    }
    this.emit("error", frame);
  }

  on_history(frame) {
    const waiter = this.pending.get(frame.ref);
    if (!waiter) return;
    this.pending.delete(frame.ref);
    const state = this.rooms.get(frame.room);
    if (!state) {
      waiter.resolve({ messages: frame.messages, has_more: frame.has_more });
      return;
    }
    const seqs = state.holdHistory(frame.messages ?? []);
    state.historyDone();
    waiter.resolve({ messages: seqs.map((seq) => this.message(frame.room, seq)), has_more: frame.has_more });
  }

  on_pong(frame) {
    for (const [room, head] of Object.entries(frame.heads ?? {})) {
      const state = this.rooms.get(room);
      // A head above what we have, with no frame in flight for it, means
      // we missed something: re-join from the last seq.
      if (state?.joined && state.lastSeq != null && head > state.lastSeq) {
        if (state.suspectHead === head) this.sendJoin(room);
        state.suspectHead = head;
      } else if (state) {
        state.suspectHead = null;
      }
    }
  }

  on_presence(frame) {
    this.emit("presence", frame);
  }

  on_typing(frame) {
    this.emit("typing", frame);
  }

  on_read(frame) {
    const state = this.rooms.get(frame.room);
    if (state) state.lastRead = Math.max(state.lastRead, frame.seq);
    this.emit("read", frame);
  }

  on_room(frame) {
    this.emit("room", frame);
  }

  // Extension: this user's memberships changed (docs/protocol.md).
  on_rooms(frame) {
    this.emit("rooms", frame);
  }

  on_left(frame) {
    // Removed: the room is no longer this client's to re-join after a
    // reconnect (a `leave` reply needs nothing: leave() forgot it already).
    if (frame.reason === "removed") this.rooms.delete(frame.room);
    this.emit("left", frame);
  }
}
