// The Rooms protocol client (PROTOCOL.md): one WebSocket, many rooms.
//
// DOM-free, so the browser UI (app.js), bots and node tests share it. What it
// adds on top of the wire protocol:
//   - reconnect with jittered exponential backoff, re-joining every room with
//     `since` = the last seq it delivered (G5), so missed messages arrive once;
//   - dedupe by seq as a second line of defence, and a re-join on a seq gap;
//   - an outbox persisted in storage (localStorage in browsers): a send is
//     kept until its `ack`, re-sent after every reconnect with its original
//     client_id, so the server stores it once (G4), also across page reloads.
// The WebSocket constructor, storage and timers are injected for testability.

import { Outbox, newClientId } from "./outbox.js";

export { Outbox };

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
   */
  constructor(options) {
    this.url = options.url;
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.timers = options.timers ?? globalThis;
    this.random = options.random ?? Math.random;
    this.backoff = options.backoff ?? { base: 500, max: 15000 };
    this.pingInterval = options.pingInterval ?? 25000;
    this.outbox = new Outbox(options.storage, options.outboxKey ?? "rooms.outbox");
    this.rooms = new Map(); // slug -> {lastSeq, joined, options, lastRead}
    this.listeners = new Map();
    this.pending = new Map(); // ref -> {resolve, reject} for history
    this.state = "idle";
    this.attempt = 0;
    this.socket = null;
    this.retryAt = null;
    this.user = null;
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
    for (const { reject } of this.pending.values()) reject(new Error(reason));
    this.pending.clear();
  }

  // --- rooms ------------------------------------------------------------------

  /** Join `room`. The first join uses `options` ({since, limit}); every
   * re-join after a reconnect uses since = the last seq delivered. */
  join(room, options = {}) {
    const state = this.rooms.get(room) ?? { lastSeq: null, joined: false, lastRead: 0 };
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

  /** Messages with seq > lastSeq, in order; anything else is a duplicate.
   * A gap (which G2 rules out) triggers a re-join from the last seq. */
  accept(room, messages) {
    const state = this.rooms.get(room);
    if (!state) return [];
    const fresh = [];
    for (const message of messages) {
      if (state.lastSeq != null && message.seq <= state.lastSeq) continue;
      if (state.lastSeq != null && message.seq > state.lastSeq + 1) {
        this.sendJoin(room);
        break;
      }
      state.lastSeq = message.seq;
      fresh.push(message);
    }
    return fresh;
  }

  // --- sending ----------------------------------------------------------------

  /** Queue a message: it is in the outbox (and storage) before this returns,
   * and goes out now if the room is joined, else after the next join. */
  send(room, body) {
    const item = { client_id: newClientId(this.random), room, body, status: "pending", at: Date.now() };
    this.outbox.add(item);
    this.emit("outbox", { room });
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
      if (item.status !== "pending") continue;
      const { client_id, body } = item;
      this.transmit({ type: "send", room, body, client_id, ref: client_id });
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

  /** Older messages before `before`: resolves with {messages, has_more}. */
  history(room, before, limit = 50) {
    const ref = `history:${++this.refCounter}`;
    const frame = { type: "history", room, limit, ref };
    if (before != null) frame.before = before;
    return new Promise((resolve, reject) => {
      if (!this.transmit(frame)) {
        reject(new Error("not connected"));
        return;
      }
      this.pending.set(ref, { resolve, reject });
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
    this.flush(frame.room);
  }

  on_backfill(frame) {
    const messages = this.accept(frame.room, frame.messages);
    if (messages.length) this.emit("messages", { room: frame.room, messages, live: false });
  }

  on_message(frame) {
    const messages = this.accept(frame.room, [frame.message]);
    if (messages.length) this.emit("messages", { room: frame.room, messages, live: true });
  }

  on_ack(frame) {
    if (frame.client_id && this.outbox.remove(frame.client_id)) {
      this.emit("outbox", { room: frame.room });
    }
    this.emit("ack", frame);
  }

  on_error(frame) {
    const ref = frame.ref ?? "";
    if (this.pending.has(ref)) {
      this.pending.get(ref).reject(Object.assign(new Error(frame.message), { code: frame.code }));
      this.pending.delete(ref);
      return;
    }
    const item = ref ? this.outbox.get(ref) : null;
    if (item) {
      if (frame.code === "rate_limited") {
        const wait = Math.max(0.1, Number(frame.retry_after) || 1) * 1000;
        this.timers.setTimeout(() => this.flush(item.room, [item]), wait);
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
    this.pending.delete(frame.ref);
    waiter?.resolve({ messages: frame.messages, has_more: frame.has_more });
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

  on_redact(frame) {
    this.emit("redact", frame);
  }

  on_room(frame) {
    this.emit("room", frame);
  }

  on_left(frame) {
    this.emit("left", frame);
  }
}
