// The protocol client's socket on its own (rooms/static/rooms/connection.js):
// the backoff between reconnects, the silence watch that gives up a socket
// no frame comes from, and the states the page is told. The WebSocket and
// timers are the fakes' (fakes.mjs); what the frames mean is the protocol
// client's (client.test.mjs, resilience.test.mjs). Run with `node --test tests/js/`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Connection, backoffDelay } from "../../rooms/static/rooms/connection.js";
import { FakeSocket, ManualTimers } from "./fakes.mjs";

/** A connection on fakes, recording what the protocol client would be told. */
function setup(options = {}) {
  FakeSocket.instances = [];
  const timers = new ManualTimers();
  const told = { frames: [], statuses: [], drops: 0 };
  const connection = new Connection(
    {
      url: "ws://test/ws/",
      WebSocket: FakeSocket,
      timers,
      now: () => timers.now,
      random: () => 1,
      pingInterval: 0,
      helloTimeout: 0,
      ...options,
    },
    {
      frame: (frame) => told.frames.push(frame),
      status: (state, extra) => told.statuses.push({ state, ...extra }),
      dropped: () => (told.drops += 1),
    },
  );
  const socket = () => FakeSocket.instances.at(-1);
  const lastStatus = () => told.statuses.at(-1);
  return { connection, timers, told, socket, lastStatus };
}

/** Open a socket and let the server greet it. */
function greeted(ctx) {
  ctx.connection.connect();
  ctx.socket().deliver({ type: "hello", protocol: 2, user: "alice" });
  ctx.connection.greeted({ user: "alice" });
}

describe("backoff", () => {
  test("delay stays within the upper half of the capped exponential", () => {
    const options = { base: 500, max: 15000 };
    for (let attempt = 0; attempt < 40; attempt++) {
      const cap = Math.min(options.max, options.base * 2 ** attempt);
      const low = backoffDelay(attempt, options, () => 0);
      const high = backoffDelay(attempt, options, () => 0.999999);
      assert.ok(low >= cap / 2 && high <= cap, `attempt ${attempt}: ${low}..${high} vs ${cap}`);
    }
    assert.equal(backoffDelay(0, options, () => 0), 250);
    assert.ok(backoffDelay(100, options, () => 1) <= 15000);
  });

  test("skipping the wait connects at once, and the planned reconnect is off", () => {
    const ctx = setup();
    ctx.connection.connect();
    ctx.socket().drop(4408);
    assert.deepEqual([ctx.lastStatus().state, ctx.lastStatus().delay], ["reconnecting", 500]);
    ctx.connection.reconnectNow();
    assert.equal(FakeSocket.instances.length, 2);
    assert.deepEqual(ctx.lastStatus(), { state: "reconnecting", retryAt: null, reason: null });
    assert.deepEqual(ctx.timers.delays(), []);
  });
});

describe("frames and states", () => {
  test("the protocol client gets each frame parsed; text that is not JSON is dropped", () => {
    const ctx = setup();
    ctx.connection.connect();
    ctx.socket().onmessage({ data: "not json" });
    ctx.socket().deliver({ type: "hello", protocol: 2, user: "alice" });
    assert.deepEqual(ctx.told.frames, [{ type: "hello", protocol: 2, user: "alice" }]);
  });

  test("nothing goes out before hello; after it, connected and frames are sent", () => {
    const ctx = setup();
    ctx.connection.connect();
    assert.equal(ctx.lastStatus().state, "connecting");
    assert.equal(ctx.connection.transmit({ type: "ping" }), false);
    ctx.connection.greeted({ user: "alice" });
    assert.deepEqual(ctx.lastStatus(), { state: "connected", retryAt: null, user: "alice" });
    assert.equal(ctx.connection.transmit({ type: "ping" }), true);
    assert.deepEqual(ctx.socket().sent, [{ type: "ping" }]);
  });

  test("every end of a socket is told once, and a replaced socket's frames are ignored", () => {
    const ctx = setup();
    greeted(ctx);
    const first = ctx.socket();
    first.drop(1006);
    assert.equal(ctx.told.drops, 1);
    ctx.timers.runAll();
    first.deliver({ type: "message", room: "lobby" });
    first.drop(1006);
    assert.equal(ctx.told.frames.length, 1, "only the first socket's hello");
    assert.equal(ctx.told.drops, 1);
    assert.equal(FakeSocket.instances.length, 2);
  });

  test("4401: signed out, no reconnect, not even when asked", () => {
    const ctx = setup();
    greeted(ctx);
    ctx.socket().drop(4401);
    assert.deepEqual([ctx.lastStatus().state, ctx.lastStatus().reason], ["signed-out", "signed-out"]);
    ctx.connection.reconnectNow();
    ctx.timers.advance(60_000);
    assert.equal(FakeSocket.instances.length, 1);
  });

  test("closed for good: the socket is closed and nothing comes back", () => {
    const ctx = setup({ pingInterval: 25_000, helloTimeout: 20_000 });
    greeted(ctx);
    ctx.connection.close();
    assert.equal(ctx.socket().closed, true);
    assert.equal(ctx.lastStatus().state, "closed");
    assert.equal(ctx.timers.queue.size, 0, "no ping, no silence watch, no reconnect");
    ctx.connection.reconnectNow();
    assert.equal(FakeSocket.instances.length, 1);
  });
});

describe("the silence watch", () => {
  const options = { pingInterval: 25_000, pingTimeout: 10_000, helloTimeout: 20_000 };

  test("a ping unanswered within pingTimeout gives the socket up and plans a new one", () => {
    const ctx = setup(options);
    greeted(ctx);
    ctx.timers.advance(25_000);
    assert.deepEqual(ctx.socket().frames("ping"), [{ type: "ping" }]);
    ctx.timers.advance(9_999);
    assert.equal(ctx.socket().closed, false);
    ctx.timers.advance(1);
    assert.equal(ctx.socket().closed, true);
    assert.deepEqual([ctx.lastStatus().state, ctx.lastStatus().reason], ["reconnecting", "timeout"]);
    assert.equal(ctx.told.drops, 1);
    ctx.timers.advance(ctx.lastStatus().delay);
    assert.equal(FakeSocket.instances.length, 2);
  });

  test("any frame ends the wait, and the next ping starts a new one", () => {
    const ctx = setup(options);
    greeted(ctx);
    ctx.timers.advance(25_000 + 9_000);
    ctx.socket().deliver({ type: "message", room: "lobby" });
    ctx.timers.advance(16_000 + 9_999); // the second ping and almost all its wait
    assert.equal(ctx.socket().closed, false);
    ctx.timers.advance(1);
    assert.equal(ctx.socket().closed, true);
  });

  test("no frame at all within helloTimeout of opening: given up", () => {
    const ctx = setup(options);
    ctx.connection.connect();
    ctx.timers.advance(19_999);
    assert.equal(ctx.socket().closed, false);
    ctx.timers.advance(1);
    assert.equal(ctx.socket().closed, true);
    assert.equal(ctx.lastStatus().reason, "timeout");
  });

  test("a connection dropped by the page is not watched any more", () => {
    const ctx = setup(options);
    greeted(ctx);
    ctx.timers.advance(25_000);
    ctx.connection.disconnect("offline");
    assert.equal(ctx.timers.queue.size, 0);
    assert.deepEqual(ctx.lastStatus(), { state: "offline", retryAt: null });
  });
});
