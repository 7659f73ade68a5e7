// The protocol client when things go wrong (issue 12): a socket that goes
// silent, frames the server could not store for now, and the close codes of
// docs/protocol.md. Timers and the clock are the fakes' (fakes.mjs), so time only
// passes when a test says so. Run with `node --test tests/js/`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { FakeSocket, connectAndJoin, delivered, message, setup } from "./fakes.mjs";

const hello = (ctx) => ctx.socket().deliver({ type: "hello", protocol: 2, user: "alice" });
const joined = (ctx, since, head = since) =>
  ctx.socket().deliver({ type: "joined", room: "lobby", head, since, truncated: false });
const live = (ctx, seq) => ctx.socket().deliver({ type: "message", room: "lobby", message: message(seq) });
const ack = (ctx, item, seq) =>
  ctx.socket().deliver({ type: "ack", ref: item.client_id, room: "lobby", seq, client_id: item.client_id, duplicate: false });
const error = (ctx, item, code, extra = {}) =>
  ctx.socket().deliver({ type: "error", code, message: `${code}!`, ref: item.client_id, ...extra });
const statuses = (ctx) => ctx.events.filter((event) => event.type === "status");
const sentIds = (socket, type = "send") => socket.frames(type).map((frame) => frame.client_id);

describe("a silent socket", () => {
  const options = { pingInterval: 25_000, pingTimeout: 10_000, random: () => 1 };

  test("no frame within pingTimeout of a ping: closed, replaced, every room re-joined with since", () => {
    const ctx = setup(options);
    connectAndJoin(ctx);
    ctx.client.join("other", { since: 7 });
    ctx.socket().deliver({ type: "joined", room: "other", head: 7, since: 7, truncated: false });
    live(ctx, 1);
    live(ctx, 2);
    const first = ctx.socket();

    ctx.timers.advance(25_000);
    assert.equal(first.frames("ping").length, 1);
    ctx.timers.advance(9_999);
    assert.equal(first.closed, false);
    assert.equal(ctx.client.state, "connected");

    ctx.timers.advance(1);
    assert.equal(first.closed, true, "the silent socket is closed");
    assert.deepEqual(
      { state: ctx.client.state, reason: statuses(ctx).at(-1).reason },
      { state: "reconnecting", reason: "timeout" },
    );
    assert.equal(FakeSocket.instances.length, 1, "not at once: after the backoff delay");
    // A frame that straggles in on the old socket is ignored.
    first.deliver({ type: "message", room: "lobby", message: message(3) });
    assert.deepEqual(delivered(ctx.events), [1, 2]);

    ctx.timers.advance(statuses(ctx).at(-1).delay);
    assert.equal(FakeSocket.instances.length, 2);
    hello(ctx);
    assert.deepEqual(ctx.socket().frames("join"), [
      { type: "join", room: "lobby", ref: "join:lobby", since: 2 },
      { type: "join", room: "other", ref: "join:other", since: 7 },
    ]);
    joined(ctx, 2, 3);
    ctx.socket().deliver({ type: "backfill", room: "lobby", messages: [message(3)] });
    assert.deepEqual(delivered(ctx.events), [1, 2, 3]);
  });

  test("any frame after a ping, not only the pong, proves the socket alive", () => {
    const ctx = setup(options);
    connectAndJoin(ctx);
    const socket = ctx.socket();
    ctx.timers.advance(25_000);
    ctx.timers.advance(5_000);
    live(ctx, 1); // a busy socket whose pong is still queued behind frames
    ctx.timers.advance(20_000 + 9_000); // the next ping has gone out; its wait runs
    socket.deliver({ type: "pong", heads: { lobby: 1 } });
    ctx.timers.advance(15_000); // up to just before the third ping
    assert.equal(socket.closed, false);
    assert.equal(ctx.client.state, "connected");
    assert.equal(socket.frames("ping").length, 2);
    assert.equal(FakeSocket.instances.length, 1);
  });

  test("the wait is injectable, and 0 turns it off", () => {
    const quick = setup({ ...options, pingTimeout: 2_000 });
    connectAndJoin(quick);
    quick.timers.advance(25_000 + 2_000);
    assert.equal(quick.client.state, "reconnecting");

    const never = setup({ ...options, pingTimeout: 0 });
    connectAndJoin(never);
    never.timers.advance(10 * 60_000);
    assert.equal(never.client.state, "connected");
  });

  test("a socket that never says hello is given up after helloTimeout", () => {
    const ctx = setup({ ...options, helloTimeout: 20_000 });
    ctx.client.connect();
    ctx.timers.advance(19_999);
    assert.equal(ctx.socket().closed, false);
    ctx.timers.advance(1);
    assert.equal(FakeSocket.instances[0].closed, true);
    assert.equal(statuses(ctx).at(-1).reason, "timeout");
  });

  test("a socket dropped by the page (offline) is not watched any more", () => {
    const ctx = setup(options);
    connectAndJoin(ctx);
    ctx.timers.advance(25_000);
    ctx.client.disconnect("offline");
    ctx.timers.advance(60_000);
    assert.equal(ctx.client.state, "offline");
    assert.equal(FakeSocket.instances.length, 1);
  });

  test("a socket that keeps dying silently backs off further each time", () => {
    const ctx = setup({ ...options, helloTimeout: 20_000 });
    ctx.client.connect();
    const delays = [];
    for (let i = 0; i < 4; i++) {
      ctx.timers.advance(20_000);
      delays.push(statuses(ctx).at(-1).delay);
      ctx.timers.advance(statuses(ctx).at(-1).delay);
    }
    assert.deepEqual(delays, [500, 1000, 2000, 4000]);
  });
});

describe("the outbox retries what the server could not store for now", () => {
  test("server_error: the same frame goes out again after a growing backoff, never marked failed", () => {
    const ctx = setup({ random: () => 1 });
    connectAndJoin(ctx);
    const item = ctx.client.send("lobby", "hi");
    const waits = [];
    for (let i = 0; i < 4; i++) {
      error(ctx, item, "server_error");
      assert.equal(ctx.client.outbox.get(item.client_id).status, "pending");
      waits.push(...ctx.timers.delays());
      ctx.timers.advance(ctx.timers.delays()[0]);
    }
    assert.deepEqual(waits, [500, 1000, 2000, 4000]);
    assert.deepEqual(sentIds(ctx.socket()), Array(5).fill(item.client_id));
    ack(ctx, item, 1);
    assert.deepEqual(ctx.client.outbox.all(), []);
    assert.deepEqual(ctx.timers.delays(), []);
  });

  test("unavailable is retried too, after its retry_after when it has one", () => {
    const ctx = setup({ random: () => 1 });
    connectAndJoin(ctx);
    const item = ctx.client.send("lobby", "hi");
    error(ctx, item, "unavailable", { retry_after: 3 });
    assert.deepEqual(ctx.timers.delays(), [3000]);
    ctx.timers.advance(2_999);
    assert.equal(ctx.socket().frames("send").length, 1);
    ctx.timers.advance(1);
    assert.equal(ctx.socket().frames("send").length, 2);
    error(ctx, item, "unavailable");
    assert.deepEqual(ctx.timers.delays(), [500]);
  });

  test("an error code this client does not know is treated as temporary", () => {
    const ctx = setup();
    connectAndJoin(ctx);
    const item = ctx.client.send("lobby", "hi");
    error(ctx, item, "overloaded");
    assert.equal(ctx.client.outbox.get(item.client_id).status, "pending");
    ctx.timers.runAll();
    assert.equal(ctx.socket().frames("send").length, 2);
  });

  for (const code of ["invalid", "forbidden", "read_only", "not_found"]) {
    test(`${code} is final: a send is failed, a change rejected, nothing is retried`, () => {
      const ctx = setup({ user: "alice" });
      connectAndJoin(ctx);
      ctx.socket().deliver({ type: "backfill", room: "lobby", messages: [message(1, { author: "alice" })] });
      const send = ctx.client.send("lobby", "hi");
      const edit = ctx.client.edit("lobby", 1, "changed");
      error(ctx, send, code);
      error(ctx, edit, code);
      assert.deepEqual(
        ctx.client.outbox.all().map((item) => [item.client_id, item.status, item.code]),
        [[send.client_id, "failed", code]],
      );
      const rejected = ctx.events.filter((event) => event.type === "rejected");
      assert.deepEqual(rejected.map((event) => [event.item.client_id, event.code]), [[edit.client_id, code]]);
      assert.deepEqual(ctx.timers.delays(), []);
    });
  }

  test("rate_limited waits retry_after, and items that wait go out together in the order made", () => {
    const ctx = setup();
    connectAndJoin(ctx);
    const [a, b, c, d] = ["a", "b", "c", "d"].map((body) => ctx.client.send("lobby", body));
    const ids = (...items) => items.map((item) => item.client_id);
    error(ctx, a, "rate_limited", { retry_after: 1 }); // due at 1000
    ctx.timers.advance(300);
    error(ctx, c, "server_error"); // due within 300 + 500: goes with a
    error(ctx, b, "rate_limited", { retry_after: 0.5 }); // due at 800: goes with a
    assert.equal(ctx.timers.delays().length, 1);
    ctx.timers.advance(699);
    assert.deepEqual(sentIds(ctx.socket()), ids(a, b, c, d));
    ctx.timers.advance(1);
    assert.deepEqual(sentIds(ctx.socket()).slice(4), ids(a, b, c));
    // A later due date moves the whole plan: nothing overtakes.
    error(ctx, a, "rate_limited", { retry_after: 1 });
    error(ctx, b, "rate_limited", { retry_after: 2 });
    ctx.timers.advance(1999);
    assert.equal(sentIds(ctx.socket()).length, 7);
    ctx.timers.advance(1);
    assert.deepEqual(sentIds(ctx.socket()).slice(7), ids(a, b));
  });

  test("a reconnect sends waiting items with the next joined, once, and drops the timer", () => {
    const ctx = setup();
    connectAndJoin(ctx);
    const item = ctx.client.send("lobby", "hi");
    error(ctx, item, "server_error");
    ctx.socket().drop(1006);
    ctx.timers.runAll(); // the reconnect; the resend timer is gone
    hello(ctx);
    joined(ctx, 0);
    assert.deepEqual(sentIds(ctx.socket()), [item.client_id]);
    ctx.timers.advance(60_000);
    assert.deepEqual(sentIds(ctx.socket()), [item.client_id]);
  });

  test("a re-join on the same socket leaves an item waiting for its resend alone", () => {
    const ctx = setup();
    connectAndJoin(ctx);
    const item = ctx.client.send("lobby", "hi");
    error(ctx, item, "server_error");
    live(ctx, 2); // a gap: the client re-joins
    joined(ctx, 0, 2);
    assert.equal(ctx.socket().frames("send").length, 1);
    ctx.timers.runAll();
    assert.equal(ctx.socket().frames("send").length, 2);
  });

  test("an earlier change is not resent after a later one of the same message: it would undo it", () => {
    const ctx = setup({ user: "alice" });
    connectAndJoin(ctx);
    ctx.socket().deliver({ type: "backfill", room: "lobby", messages: [message(1, { author: "alice" })] });
    const first = ctx.client.edit("lobby", 1, "first");
    const second = ctx.client.edit("lobby", 1, "second");
    const like = ctx.client.react("lobby", 1, "👍", true);
    const unlike = ctx.client.react("lobby", 1, "👍", false);
    error(ctx, first, "server_error");
    error(ctx, like, "server_error");
    // `second` is still unacknowledged when the resend is due: `first` is dropped.
    ctx.timers.runAll();
    assert.deepEqual(sentIds(ctx.socket(), "edit"), [first.client_id, second.client_id]);
    assert.deepEqual(sentIds(ctx.socket(), "react"), [like.client_id, unlike.client_id]);
    assert.deepEqual(
      ctx.client.outbox.all().map((item) => item.client_id),
      [second.client_id, unlike.client_id],
    );
    assert.equal(ctx.client.message("lobby", 1).body, "second");
  });

  test("an ack of a later change drops the earlier one waiting for its resend", () => {
    const ctx = setup({ user: "alice" });
    connectAndJoin(ctx);
    ctx.socket().deliver({ type: "backfill", room: "lobby", messages: [message(1, { author: "alice" })] });
    const edit = ctx.client.edit("lobby", 1, "edited");
    const reply = ctx.client.send("lobby", "and a message", { replyTo: 1 });
    const gone = ctx.client.delete("lobby", 1);
    error(ctx, edit, "server_error");
    error(ctx, reply, "server_error");
    ack(ctx, gone, 2);
    ctx.timers.runAll();
    assert.deepEqual(sentIds(ctx.socket(), "edit"), [edit.client_id], "not resent");
    assert.deepEqual(sentIds(ctx.socket(), "send"), [reply.client_id, reply.client_id], "a send is never dropped");
    assert.deepEqual(ctx.client.outbox.all().map((item) => item.client_id), [reply.client_id]);
  });

  test("a join refused for now (rate_limited, server_error) is sent again", () => {
    const ctx = setup({ random: () => 1 });
    ctx.client.connect();
    hello(ctx);
    ctx.client.join("lobby", { since: 0 });
    ctx.socket().deliver({ type: "error", code: "rate_limited", message: "later", retry_after: 2, ref: "join:lobby" });
    assert.deepEqual(ctx.timers.delays(), [2000]);
    ctx.timers.advance(2000);
    ctx.socket().deliver({ type: "error", code: "server_error", message: "oops", ref: "join:lobby" });
    ctx.timers.advance(1000);
    assert.equal(ctx.socket().frames("join").length, 3);
    joined(ctx, 0);
    assert.equal(ctx.client.rooms.get("lobby").joined, true);
    // A room that does not exist is not asked for again.
    ctx.client.join("nowhere", {});
    ctx.socket().deliver({ type: "error", code: "not_found", message: "No such room.", ref: "join:nowhere" });
    assert.deepEqual(ctx.timers.delays(), []);
    assert.equal(ctx.events.filter((event) => event.type === "error").at(-1).code, "not_found");
  });

  test("a join planned again is called off when the room's `joined` arrives meanwhile", () => {
    const ctx = setup({ random: () => 1 });
    ctx.client.connect();
    hello(ctx);
    ctx.client.join("lobby", { since: 0 });
    ctx.socket().deliver({ type: "error", code: "rate_limited", message: "later", retry_after: 2, ref: "join:lobby" });
    joined(ctx, 0);
    assert.deepEqual(ctx.timers.delays(), []);
    ctx.timers.advance(2000);
    assert.equal(ctx.socket().frames("join").length, 1);
  });
});

describe("close codes", () => {
  for (const [code, reason] of [
    [4408, "backlog"],
    [4503, "unavailable"],
    [1001, "going-away"],
    [1012, "restarting"],
    [1006, "disconnected"],
  ]) {
    test(`${code}: reconnect after a backoff and resume every room with since`, () => {
      const ctx = setup({ random: () => 1 });
      connectAndJoin(ctx);
      live(ctx, 1);
      live(ctx, 2);
      ctx.socket().drop(code);
      const status = statuses(ctx).at(-1);
      assert.deepEqual([status.state, status.code, status.reason], ["reconnecting", code, reason]);
      // A server dropping everyone at once (1001, 1012, 4503): at least a second's spread.
      assert.equal(status.delay, [1001, 1012, 4503].includes(code) ? 1000 : 500);
      assert.equal(status.retryAt, ctx.timers.now + status.delay);
      ctx.timers.advance(status.delay);
      hello(ctx);
      assert.deepEqual(ctx.socket().frames("join"), [{ type: "join", room: "lobby", ref: "join:lobby", since: 2 }]);
    });
  }

  test("4429 (too many sockets): a longer backoff, and the reason for the page to show", () => {
    const ctx = setup({ random: () => 1 });
    ctx.client.connect();
    const delays = [];
    for (let i = 0; i < 5; i++) {
      ctx.socket().deliver({ type: "error", code: "rate_limited", message: "At most 32 open sockets per user." });
      ctx.socket().drop(4429);
      const status = statuses(ctx).at(-1);
      assert.equal(status.reason, "too-many-sockets");
      delays.push(status.delay);
      ctx.timers.advance(status.delay);
    }
    assert.deepEqual(delays, [10_000, 20_000, 40_000, 60_000, 60_000]);
    // While it connects again the status still says why it waited.
    assert.deepEqual(
      [statuses(ctx).at(-1).state, statuses(ctx).at(-1).reason],
      ["reconnecting", "too-many-sockets"],
    );
    hello(ctx);
    assert.equal(ctx.client.state, "connected");
  });

  test("the longer backoff of 4429 is injectable", () => {
    const ctx = setup({ random: () => 1, crowdedBackoff: { base: 100, max: 200 } });
    ctx.client.connect();
    ctx.socket().drop(4429);
    assert.equal(statuses(ctx).at(-1).delay, 100);
  });

  test("4401: signed out, and nothing brings the socket back by itself", () => {
    const ctx = setup({ pingInterval: 25_000, helloTimeout: 20_000 });
    connectAndJoin(ctx);
    ctx.client.send("lobby", "kept for later");
    ctx.socket().deliver({ type: "error", code: "auth_required", message: "The session has ended." });
    ctx.socket().drop(4401);
    assert.deepEqual(
      [ctx.client.state, statuses(ctx).at(-1).reason],
      ["signed-out", "signed-out"],
    );
    ctx.client.reconnectNow(); // the browser came back online
    ctx.timers.advance(10 * 60_000);
    assert.equal(FakeSocket.instances.length, 1);
    assert.equal(ctx.client.outbox.all().length, 1, "the outbox waits for the next login");
  });
});
