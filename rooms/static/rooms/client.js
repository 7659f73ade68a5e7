// The Rooms protocol client (PROTOCOL.md): one WebSocket, many rooms.
//
// DOM-free, so the browser UI (app.js), bots and node tests share it. What it
// adds on top of the wire protocol (version 2):
//   - reconnect with jittered exponential backoff, re-joining every room with
//     `since` = the last seq it received (G5), so missed entries arrive once:
//     new messages and changes alike;
//   - dedupe by seq as a second line of defence, and a re-join on a seq gap;
//   - the messages of each room in their current state: change entries
//     (edit, delete, reaction) are applied to the message they target
//     (room-log.js); a change whose target is not held is ignored;
//   - an outbox persisted in storage (localStorage in browsers): a send or a
//     change is kept until its `ack`, re-sent after every reconnect with its
//     original client_id, so the server stores it once (G4), also across page
//     reloads; until its entry arrives it is shown applied (`message()`).
// The WebSocket constructor, storage and timers are injected for testability.

import { Outbox, actionOf, newClientId, outboxChange, outboxFrame } from "./outbox.js";
import { RoomLog } from "./room-log.js";

export { Outbox, RoomLog };

/** Delay before reconnect attempt `attempt` (0-based): a random point in the
 * upper half of min(max, base * 2^attempt), so a crowd of clients that lost
 * the same server does not come back in lockstep. */
export function backoffDelay(attempt, { base = 500, max = 15000 } = {}, random = Math.random) {
  const cap = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return cap / 2 + random() * (cap / 2);
}

// Errors after which re-sending the same frame cannot succeed: shown as failed.
const FINAL_SEND_ERRORS = new Set(["invalid", "forbidden", "read_only", "not_found", "server_error"]);

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
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting", { retryAt: null });
    const socket = new this.WebSocket(this.url);
    this.socket = socket;
    socket.onmessage = (event) => this.socket === socket && this.receive(event.data);
    socket.onclose = (event) => this.socket === socket && this.closed(event.code ?? 1006);
    socket.onerror = () => {}; // a close follows every error
  }

  /** Drop the connection now (the browser went offline, or a test asks). */
  disconnect(state = "offline") {
    const socket = this.socket;
    this.socket = null;
    this.stopPing();
    for (const room of this.rooms.values()) room.joined = false;
    this.rejectPending("disconnected");
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

  closed(code) {
    this.socket = null;
    this.stopPing();
    for (const room of this.rooms.values()) room.joined = false;
    this.rejectPending("disconnected");
    if (code === 4401) {
      this.stopped = true;
      this.setState("signed-out", { retryAt: null });
      return;
    }
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt, this.backoff, this.random);
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
    this.setState("reconnecting", { retryAt: this.retryAt, delay });
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
    // A ping both keeps idle proxies from cutting the socket and reveals a
    // head above our last seq (then we re-join with since).
    this.pingTimer = this.timers.setInterval(() => this.transmit({ type: "ping" }), this.pingInterval);
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

  retry(clientId) {
    const item = this.outbox.get(clientId);
    if (!item) return;
    this.outbox.update(clientId, { status: "pending", error: null });
    this.emit("outbox", { room: item.room });
    this.flush(item.room, [{ ...item, status: "pending" }]);
  }

  discard(clientId) {
    const item = this.outbox.get(clientId);
    if (item && this.outbox.remove(clientId)) this.emit("outbox", { room: item.room });
  }

  flush(room, items = this.outbox.forRoom(room)) {
    if (!this.rooms.get(room)?.joined) return;
    for (const item of items) {
      if (item.status === "pending") this.transmit(outboxFrame(item));
    }
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
    this.attempt = 0;
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
    if (item && this.outbox.remove(frame.client_id)) {
      const change = outboxChange(item, this.user);
      // Stored, but its entry may not have arrived yet: keep showing it.
      if (change) this.rooms.get(item.room)?.acknowledge(change, frame.seq);
      this.emit("outbox", { room: frame.room });
      if (change) this.emitChange(item.room, item.seq);
    }
    this.emit("ack", frame);
  }

  on_error(frame) {
    const ref = frame.ref ?? "";
    if (this.pending.has(ref)) {
      const waiter = this.pending.get(ref);
      this.pending.delete(ref);
      this.rooms.get(waiter.room)?.historyDone();
      waiter.reject(Object.assign(new Error(frame.message), { code: frame.code }));
      return;
    }
    const item = ref ? this.outbox.get(ref) : null;
    if (item) {
      if (frame.code === "rate_limited") {
        const wait = Math.max(0.1, Number(frame.retry_after) || 1) * 1000;
        this.timers.setTimeout(() => this.flush(item.room, [item]), wait);
      } else if (FINAL_SEND_ERRORS.has(frame.code) && actionOf(item) !== "send") {
        // A change that cannot be made (its message was deleted meanwhile, or
        // the user lost the right): drop it and say so.
        this.outbox.remove(ref);
        this.emit("outbox", { room: item.room });
        this.emitChange(item.room, item.seq);
        this.emit("rejected", { room: item.room, item, code: frame.code, message: frame.message });
      } else if (FINAL_SEND_ERRORS.has(frame.code)) {
        this.outbox.update(ref, { status: "failed", error: frame.message, code: frame.code });
        this.emit("outbox", { room: item.room });
      }
      // not_joined: it goes out again after the next `joined`.
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

  on_left(frame) {
    this.emit("left", frame);
  }
}
