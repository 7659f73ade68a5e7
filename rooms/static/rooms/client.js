// The Rooms protocol client (docs/protocol.md): one WebSocket, many rooms.
//
// DOM-free, so the browser UI (app.js), bots and node tests share it. What it
// adds on top of the wire protocol (version 2):
//   - a socket kept open (connection.js): reconnect with jittered exponential
//     backoff after any close but 4401 (signed out), and after a socket that
//     went silent; after every `hello` each room is re-joined with `since` =
//     the last seq it received (G5), so missed entries arrive once: new
//     messages and changes alike;
//   - dedupe by seq as a second line of defence, and a re-join on a seq gap;
//   - the messages of each room in their current state: change entries
//     (edit, delete, reaction) are applied to the message they target
//     (room-log.js); a change whose target is not held is ignored;
//   - an outbox persisted in storage (localStorage in browsers), sent until
//     each item's `ack` (delivery.js); until its entry arrives an acked or
//     unsent change is shown applied (`message()`).
// The WebSocket constructor, storage and timers are injected for testability.

import { CLOSE_REASONS, Connection, backoffDelay } from "./connection.js";
import { OutboxDelivery, errorOutcome } from "./delivery.js";
import { Outbox, outboxChange } from "./outbox.js";
import { joinRef } from "./join-ref.js";
import { RoomLog } from "./room-log.js";

export { CLOSE_REASONS, Outbox, RoomLog, backoffDelay, joinRef };

export class RoomsClient {
  /**
   * @param {object} options
   * @param {string} options.url                 ws(s)://host/ws/
   * @param {Storage} [options.storage]          for the outbox (default: none, in memory)
   * @param {string} [options.outboxKey]
   * @param {string} [options.user]              the username, for showing unsent
   *                                             changes before `hello` arrives
   * and the socket's: WebSocket, timers, random, now, backoff, crowdedBackoff,
   * pingInterval, pingTimeout, helloTimeout, stableAfter (Connection).
   */
  constructor(options) {
    this.connection = new Connection(options, {
      frame: (frame) => this.receive(frame),
      status: (state, extra) => this.emit("status", { state, ...extra }),
      dropped: () => this.dropped(),
    });
    const { timers, random, now, backoff } = this.connection;
    this.outbox = new Outbox(options.storage, options.outboxKey ?? "rooms.outbox");
    this.delivery = new OutboxDelivery(this.outbox, {
      timers,
      random,
      now,
      backoff,
      transmit: (frame) => this.transmit(frame),
      isJoined: (room) => Boolean(this.rooms.get(room)?.joined),
      emit: (type, detail) => this.emit(type, detail),
      changed: (room, seq) => this.emitChange(room, seq),
    });
    this.rooms = new Map(); // slug -> RoomLog
    this.listeners = new Map();
    this.pending = new Map(); // ref -> {room, resolve, reject} for history
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

  // --- connection (connection.js) ----------------------------------------------

  /** idle (before connect()), connecting, connected, reconnecting, offline,
   * signed-out or closed. */
  get state() {
    return this.connection.state;
  }

  connect() {
    this.connection.connect();
  }

  /** Drop the connection now (the browser went offline, or a test asks). */
  disconnect(state = "offline") {
    this.connection.disconnect(state);
  }

  /** Stop for good (no reconnects). */
  close() {
    this.connection.close();
  }

  /** Skip the backoff wait. */
  reconnectNow() {
    this.connection.reconnectNow();
  }

  transmit(frame) {
    return this.connection.transmit(frame);
  }

  /** What every end of a socket undoes here: joins, planned resends and
   * re-joins (the next `joined` sends the outbox again anyway), history
   * requests in flight. */
  dropped() {
    this.delivery.clear();
    for (const room of this.rooms.values()) room.joined = false;
    this.rejectPending("disconnected");
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
    const frame = { type: "join", room, ref: joinRef(room), ...state.options };
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

  // --- sending (delivery.js) ------------------------------------------------------

  /** Queue a message (a reply when `replyTo` is the seq of a message; with
   * the ids of uploaded `attachments`): it is in the outbox (and storage)
   * before this returns, and goes out now if the room is joined, else after
   * the next join. With `uploading`, it waits until updateSend() gives it
   * its attachments and status "pending"; `files` describe them meanwhile. */
  send(room, body, { replyTo = null, attachments = [], files = null, uploading = false } = {}) {
    const fields = { action: "send", body };
    if (replyTo != null) fields.reply_to = replyTo;
    if (attachments.length) fields.attachments = attachments;
    if (files) fields.files = files;
    return this.delivery.enqueue(room, fields, uploading ? "uploading" : "pending");
  }

  /** Change a send waiting for its files: {status, error, attachments}. */
  updateSend(clientId, changes) {
    this.delivery.update(clientId, changes);
  }

  /** Replace the body of message `seq` (the user's own). */
  edit(room, seq, body) {
    return this.delivery.enqueue(room, { action: "edit", seq, body });
  }

  /** Delete message `seq` (the user's own, or any as a moderator). */
  delete(room, seq) {
    return this.delivery.enqueue(room, { action: "delete", seq });
  }

  /** Add (`on`) or take back a reaction on message `seq`. */
  react(room, seq, emoji, on = true) {
    return this.delivery.enqueue(room, { action: "react", seq, emoji, on: Boolean(on) });
  }

  /** Send a failed item again (the page's Retry button). */
  retry(clientId) {
    this.delivery.retry(clientId);
  }

  discard(clientId) {
    this.delivery.discard(clientId);
  }

  /** A join the server could not serve for now (rate_limited: the frame
   * budget or the rooms-per-socket cap; server_error): ask again later,
   * unless the room was left meanwhile. */
  rejoinLater(room, frame) {
    const state = this.rooms.get(room);
    if (!state) return;
    this.delivery.joinLater(room, state, frame, () => this.rooms.get(room) === state && this.sendJoin(room));
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

  receive(frame) {
    const handler = this[`on_${frame.type}`];
    if (typeof handler === "function") handler.call(this, frame);
  }

  on_hello(frame) {
    this.user = frame.user;
    this.connection.greeted({ user: frame.user });
    this.emit("hello", frame);
    for (const room of this.rooms.keys()) this.sendJoin(room);
  }

  on_joined(frame) {
    const state = this.rooms.get(frame.room);
    if (!state) return;
    // Every frame of the room after `joined` belongs to the new stream,
    // which starts at since + 1 (docs/protocol.md, "Re-join and leave").
    state.lastSeq = frame.since;
    state.joined = true;
    state.joinErrors = 0;
    this.delivery.joined(frame.room);
    this.emit("joined", frame);
    for (const target of state.settle()) this.emitChange(frame.room, target);
    this.delivery.flush(frame.room);
  }

  on_backfill(frame) {
    this.receiveEntries(frame.room, frame.messages ?? [], false);
  }

  on_message(frame) {
    if (frame.message) this.receiveEntries(frame.room, [frame.message], true);
  }

  on_ack(frame) {
    const item = this.delivery.acked(frame.client_id);
    if (item) {
      const change = outboxChange(item, this.user);
      // Stored, but its entry may not have arrived yet: keep showing it.
      if (change) this.rooms.get(item.room)?.acknowledge(change, frame.seq);
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
    const joinOf = ref.startsWith("join:") ? [...this.rooms.keys()].find((room) => joinRef(room) === ref) : null;
    if (joinOf != null && errorOutcome(frame.code) === "temporary") {
      this.rejoinLater(joinOf, frame);
      return;
    }
    const item = ref ? this.outbox.get(ref) : null;
    if (item) this.delivery.failed(item, frame);
    else this.emit("error", frame);
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
