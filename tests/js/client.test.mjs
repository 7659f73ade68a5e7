// Unit tests of the protocol client (rooms/static/rooms/client.js) with node's
// built-in runner: `node --test tests/js/`. The WebSocket, storage and timers
// are small in-memory stand-ins (fakes.mjs); the client's own logic runs for
// real. Edits, deletions and reactions: changes.test.mjs; the socket on its
// own: connection.test.mjs.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Outbox } from "../../rooms/static/rooms/outbox.js";
import { MemoryStorage, connectAndJoin, delivered, message, setup } from "./fakes.mjs";

describe("backoff", () => {
  test("reconnect attempts back off and start over once a connection has lasted", () => {
    const ctx = setup({ random: () => 1 });
    ctx.client.connect();
    const delays = [];
    for (let i = 0; i < 5; i++) {
      ctx.socket().drop();
      delays.push(...ctx.timers.runAll());
    }
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000]);
    // A server that says hello and closes at once is not hammered...
    ctx.socket().deliver({ type: "hello", protocol: 2, user: "alice" });
    ctx.timers.advance(9_999);
    ctx.socket().drop(4503);
    assert.deepEqual(ctx.timers.runAll(), [15000]);
    // ...a connection that lasted 10 s starts the backoff over.
    ctx.socket().deliver({ type: "hello", protocol: 2, user: "alice" });
    ctx.timers.advance(10_000);
    ctx.socket().drop();
    assert.deepEqual(ctx.timers.runAll(), [500]);
  });

  test("close code 4401 stops reconnecting", () => {
    const ctx = setup();
    ctx.client.connect();
    ctx.socket().drop(4401);
    assert.equal(ctx.client.state, "signed-out");
    assert.deepEqual(ctx.timers.runAll(), []);
  });
});

describe("stream", () => {
  test("first join uses the given options, a re-join uses since = last seq delivered", () => {
    const ctx = setup();
    connectAndJoin(ctx);
    assert.deepEqual(ctx.socket().frames("join")[0], {
      type: "join",
      room: "lobby",
      ref: "join:lobby",
      since: 0,
      limit: 50,
    });
    ctx.socket().deliver({ type: "backfill", room: "lobby", messages: [message(1), message(2)] });
    ctx.socket().deliver({ type: "message", room: "lobby", message: message(3) });
    ctx.socket().drop();
    ctx.timers.runAll();
    ctx.socket().deliver({ type: "hello", protocol: 2, user: "alice" });
    assert.deepEqual(ctx.socket().frames("join"), [
      { type: "join", room: "lobby", ref: "join:lobby", since: 3 },
    ]);
  });

  test("a room the user was removed from is not re-joined after a reconnect", () => {
    const ctx = setup();
    connectAndJoin(ctx);
    ctx.socket().deliver({ type: "backfill", room: "lobby", messages: [message(1)] });
    ctx.socket().deliver({ type: "left", room: "lobby", reason: "removed" });
    ctx.socket().drop();
    ctx.timers.runAll();
    ctx.socket().deliver({ type: "hello", protocol: 2, user: "alice" });
    assert.deepEqual(ctx.socket().frames("join"), []);
  });

  test("messages are delivered once each, in order, whatever the server repeats", () => {
    const ctx = setup();
    connectAndJoin(ctx);
    const s = ctx.socket();
    s.deliver({ type: "backfill", room: "lobby", messages: [message(1), message(2), message(3)] });
    s.deliver({ type: "message", room: "lobby", message: message(2) });
    s.deliver({ type: "message", room: "lobby", message: message(3) });
    s.deliver({ type: "backfill", room: "lobby", messages: [message(3), message(4)] });
    s.deliver({ type: "message", room: "lobby", message: message(5) });
    s.deliver({ type: "message", room: "lobby", message: message(5) });
    assert.deepEqual(delivered(ctx.events), [1, 2, 3, 4, 5]);
  });

  test("a gap in seq makes the client re-join from the last seq instead of skipping", () => {
    const ctx = setup();
    connectAndJoin(ctx);
    const s = ctx.socket();
    s.deliver({ type: "message", room: "lobby", message: message(1) });
    s.deliver({ type: "message", room: "lobby", message: message(3) });
    assert.deepEqual(delivered(ctx.events), [1]);
    assert.equal(s.frames("join").at(-1).since, 1);
    s.deliver({ type: "joined", room: "lobby", head: 3, since: 1, truncated: false });
    s.deliver({ type: "backfill", room: "lobby", messages: [message(2), message(3)] });
    assert.deepEqual(delivered(ctx.events), [1, 2, 3]);
  });
});

describe("outbox", () => {
  test("a message sent while disconnected is stored and sent after the join", () => {
    const ctx = setup();
    ctx.client.join("lobby", { since: 0 });
    const item = ctx.client.send("lobby", "hello");
    const saved = JSON.parse(ctx.storage.getItem("outbox:alice"));
    assert.deepEqual(
      saved.items.map((each) => [each.client_id, each.body, each.status]),
      [[item.client_id, "hello", "pending"]],
    );
    connectAndJoin(ctx);
    assert.deepEqual(ctx.socket().frames("send"), [
      { type: "send", room: "lobby", body: "hello", client_id: item.client_id, ref: item.client_id },
    ]);
    ctx.socket().deliver({ type: "ack", ref: item.client_id, room: "lobby", seq: 1, client_id: item.client_id, duplicate: false });
    assert.deepEqual(ctx.client.outbox.all(), []);
    // A later reconnect sends nothing again.
    ctx.socket().drop();
    ctx.timers.runAll();
    ctx.socket().deliver({ type: "hello", protocol: 2, user: "alice" });
    ctx.socket().deliver({ type: "joined", room: "lobby", head: 1, since: 0, truncated: false });
    assert.deepEqual(ctx.socket().frames("send"), []);
  });

  test("the outbox survives a reload: a new client sends it with the original client_id", () => {
    const storage = new MemoryStorage();
    const first = setup({ storage });
    first.client.join("lobby", { since: 0 });
    const item = first.client.send("lobby", "typed offline");
    first.client.close();

    const second = setup({ storage });
    connectAndJoin(second);
    const sends = second.socket().frames("send");
    assert.equal(sends.length, 1);
    assert.equal(sends[0].client_id, item.client_id);
    assert.equal(sends[0].body, "typed offline");
  });

  test("a send whose ack was lost is re-sent with the same client_id, once per connection", () => {
    const ctx = setup();
    connectAndJoin(ctx);
    const item = ctx.client.send("lobby", "maybe stored");
    assert.equal(ctx.socket().frames("send").length, 1);
    ctx.socket().drop();
    ctx.timers.runAll();
    ctx.socket().deliver({ type: "hello", protocol: 2, user: "alice" });
    ctx.socket().deliver({ type: "joined", room: "lobby", head: 1, since: 0, truncated: false });
    assert.deepEqual(
      ctx.socket().frames("send").map((frame) => frame.client_id),
      [item.client_id],
    );
    ctx.socket().deliver({ type: "ack", ref: item.client_id, room: "lobby", seq: 1, client_id: item.client_id, duplicate: true });
    assert.deepEqual(ctx.client.outbox.all(), []);
  });

  test("a rejected send is kept as failed; retry re-sends it, discard drops it", () => {
    const ctx = setup();
    connectAndJoin(ctx);
    const item = ctx.client.send("lobby", "x");
    ctx.socket().deliver({ type: "error", code: "forbidden", message: "Read-only.", ref: item.client_id });
    assert.equal(ctx.client.outbox.get(item.client_id).status, "failed");
    ctx.client.retry(item.client_id);
    const sends = ctx.socket().frames("send");
    assert.equal(sends.length, 2);
    assert.equal(sends[1].client_id, item.client_id);
    ctx.client.discard(item.client_id);
    assert.deepEqual(ctx.client.outbox.all(), []);
  });

  test("a rate-limited send goes out again after retry_after", () => {
    const ctx = setup();
    connectAndJoin(ctx);
    const item = ctx.client.send("lobby", "fast");
    ctx.socket().deliver({ type: "error", code: "rate_limited", message: "Slow down.", retry_after: 1.5, ref: item.client_id });
    assert.equal(ctx.client.outbox.get(item.client_id).status, "pending");
    assert.deepEqual(ctx.timers.runAll(), [1500]);
    assert.equal(ctx.socket().frames("send").length, 2);
  });

  test("a corrupt stored outbox is treated as empty", () => {
    const storage = new MemoryStorage();
    storage.setItem("k", "{not json");
    assert.deepEqual(new Outbox(storage, "k").all(), []);
  });

  test("when storage refuses to write, the outbox keeps its items in memory", () => {
    const full = new MemoryStorage();
    full.setItem = () => {
      throw new Error("QuotaExceededError");
    };
    const outbox = new Outbox(full, "k");
    outbox.add({ client_id: "a", room: "lobby", body: "1", status: "pending" });
    outbox.add({ client_id: "b", room: "lobby", body: "2", status: "pending" });
    assert.deepEqual(outbox.all().map((item) => item.client_id), ["a", "b"]);
    outbox.remove("a");
    assert.deepEqual(outbox.all().map((item) => item.client_id), ["b"]);
  });
});
