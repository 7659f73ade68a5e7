// In-memory stand-ins for the protocol client's tests: a WebSocket whose
// server side the test plays, storage, and timers that run only when told.
//
// Every frame the client sends through the fake socket is checked against
// docs/asyncapi.yaml's client frames (asyncapi.mjs): a test in which the
// client sent a frame the document does not describe fails.

import assert from "node:assert/strict";
import { afterEach } from "node:test";

import { RoomsClient } from "../../rooms/static/rooms/client.js";
import { problem } from "./asyncapi.mjs";

// The client's frames of the current test that did not match, with why.
const undescribed = [];

afterEach(() => {
  const found = undescribed.splice(0);
  assert.deepEqual(found, [], "the client sent frames docs/asyncapi.yaml does not describe");
});

export class FakeSocket {
  static instances = [];
  constructor(url) {
    this.url = url;
    this.sent = [];
    this.closed = false;
    FakeSocket.instances.push(this);
  }
  send(text) {
    const frame = JSON.parse(text);
    const why = problem("client", frame);
    if (why) undescribed.push({ frame, why });
    this.sent.push(frame);
  }
  close() {
    this.closed = true;
  }
  // --- the server side
  deliver(frame) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code = 1006) {
    this.onclose?.({ code });
  }
  frames(type) {
    return this.sent.filter((frame) => frame.type === type);
  }
}

export class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
}

/** Timers run only when a test says so, on a clock of their own (`now`,
 * in ms): `runAll()` fires every timeout queued (whatever its delay, the
 * clock stays), `advance(ms)` lets time pass and fires what falls due, in
 * order, intervals included. */
export class ManualTimers {
  constructor(start = 1_000_000) {
    this.queue = new Map();
    this.next = 1;
    this.now = start;
  }
  setTimeout(fn, delay = 0) {
    const id = this.next++;
    this.queue.set(id, { fn, delay, at: this.now + delay });
    return id;
  }
  clearTimeout(id) {
    this.queue.delete(id);
  }
  setInterval(fn, delay) {
    const id = this.next++;
    this.queue.set(id, { fn, delay, at: this.now + delay, every: delay });
    return id;
  }
  clearInterval(id) {
    this.queue.delete(id);
  }
  /** Fire every timeout queued now (not intervals); returns their delays. */
  runAll() {
    const due = [...this.queue].filter(([, timer]) => !timer.every);
    for (const [id] of due) this.queue.delete(id);
    for (const [, { fn }] of due) fn();
    return due.map(([, { delay }]) => delay);
  }
  /** Let `ms` pass. */
  advance(ms) {
    const end = this.now + ms;
    for (;;) {
      let next = null;
      for (const [id, timer] of this.queue) {
        if (timer.at <= end && (next == null || timer.at < next[1].at)) next = [id, timer];
      }
      if (next == null) break;
      const [id, timer] = next;
      this.now = timer.at;
      if (timer.every) timer.at += timer.every;
      else this.queue.delete(id);
      timer.fn();
    }
    this.now = end;
  }
  /** The delays of the timeouts queued now. */
  delays() {
    return [...this.queue.values()].filter((timer) => !timer.every).map((timer) => timer.delay);
  }
}

/** Numbers in [0, 1) that differ call to call, the same every run (client
 * ids made in one millisecond must still differ). */
export function sequence() {
  let n = 0;
  return () => (++n * 0.6180339887) % 1;
}

/** A client on fakes. Pings and the silence watch are off unless `options`
 * (more client options) turn them on. */
export function setup({ storage = new MemoryStorage(), random = sequence(), user, ...options } = {}) {
  FakeSocket.instances = [];
  const timers = new ManualTimers();
  const client = new RoomsClient({
    url: "ws://test/ws/",
    WebSocket: FakeSocket,
    storage,
    outboxKey: "outbox:alice",
    timers,
    now: () => timers.now,
    random,
    pingInterval: 0,
    helloTimeout: 0,
    user,
    ...options,
  });
  const events = [];
  for (const type of ["messages", "change", "rejected", "status", "outbox", "joined", "error"]) {
    client.on(type, (detail) => events.push({ type, ...detail }));
  }
  const socket = () => FakeSocket.instances.at(-1);
  return { client, timers, storage, events, socket };
}

/** A message entry (docs/protocol.md v2) in its current state. */
export const message = (seq, extra = {}) => ({
  seq,
  room: "lobby",
  kind: "text",
  author: "bob",
  body: `m${seq}`,
  created_at: "2026-01-01T00:00:00Z",
  client_id: null,
  reply_to: null,
  edited_at: null,
  deleted: false,
  reactions: {},
  ...extra,
});

const change = (kind, seq, target, extra) => ({
  seq,
  room: "lobby",
  kind,
  author: "bob",
  created_at: `2026-01-01T00:${String(seq).padStart(2, "0")}:00Z`,
  client_id: null,
  target,
  ...extra,
});

/** Change entries: edit, delete and reaction of message `target`. */
export const edit = (seq, target, body, extra = {}) => change("edit", seq, target, { body, ...extra });
export const del = (seq, target, extra = {}) => change("delete", seq, target, extra);
export const reaction = (seq, target, emoji, on, extra = {}) =>
  change("reaction", seq, target, { emoji, on, ...extra });

/** Connect, say hello, and answer the join of "lobby" with `since`. */
export function connectAndJoin(ctx, since = 0) {
  ctx.client.connect();
  ctx.socket().deliver({ type: "hello", protocol: 2, user: "alice" });
  if (!ctx.client.rooms.has("lobby")) ctx.client.join("lobby", { since: 0, limit: 50 });
  ctx.socket().deliver({ type: "joined", room: "lobby", head: since, since, truncated: false });
}

/** The seqs of the new messages the client told listeners about, in order. */
export const delivered = (events) =>
  events.filter((event) => event.type === "messages").flatMap((event) => event.messages.map((m) => m.seq));

