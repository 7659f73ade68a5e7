// Getting the outbox to the server (rooms/static/rooms/delivery.js) on its
// own: what each error code means for the frame it answers, the wait an
// error asks for, and joins asked again after a temporary error. Through
// the protocol client: resilience.test.mjs. Run with `node --test tests/js/`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { OutboxDelivery, errorOutcome, retryAfter } from "../../rooms/static/rooms/delivery.js";
import { Outbox } from "../../rooms/static/rooms/outbox.js";
import { ManualTimers, MemoryStorage } from "./fakes.mjs";

function setup({ joined = true } = {}) {
  const timers = new ManualTimers();
  const sent = [];
  const events = [];
  const delivery = new OutboxDelivery(new Outbox(new MemoryStorage(), "outbox"), {
    timers,
    random: () => 1,
    now: () => timers.now,
    backoff: { base: 500, max: 15000 },
    transmit: (frame) => sent.push(frame) > 0,
    isJoined: () => joined,
    emit: (type, detail) => events.push({ type, ...detail }),
    changed: (room, seq) => events.push({ type: "changed", room, seq }),
  });
  return { delivery, timers, sent, events };
}

describe("errors", () => {
  test("errors a resend cannot fix are final; not_joined and auth_required wait for the next join", () => {
    for (const code of ["invalid", "forbidden", "read_only", "not_found", "bad_frame", "unknown_type", "too_large"]) {
      assert.equal(errorOutcome(code), "final", code);
    }
    assert.equal(errorOutcome("not_joined"), "after-join");
    assert.equal(errorOutcome("auth_required"), "after-join");
  });

  test("every other code, known or not, is temporary", () => {
    for (const code of ["server_error", "unavailable", "rate_limited", "overloaded", undefined]) {
      assert.equal(errorOutcome(code), "temporary", String(code));
    }
  });

  test("retry_after is in seconds, at least 100 ms; anything else names no wait", () => {
    assert.equal(retryAfter({ retry_after: 2 }), 2000);
    assert.equal(retryAfter({ retry_after: 0 }), 100);
    for (const retry_after of [undefined, -1, Number.NaN, Infinity, "3"]) {
      assert.equal(retryAfter({ retry_after }), null, String(retry_after));
    }
  });
});

describe("delivery", () => {
  test("an item is in the outbox before it goes out, and out of it once acked", () => {
    const ctx = setup();
    const item = ctx.delivery.enqueue("lobby", { action: "send", body: "hi" });
    assert.deepEqual(ctx.sent, [{ type: "send", room: "lobby", client_id: item.client_id, ref: item.client_id, body: "hi" }]);
    assert.deepEqual(ctx.events, [{ type: "outbox", room: "lobby" }]);
    assert.equal(ctx.delivery.acked(item.client_id).client_id, item.client_id);
    assert.equal(ctx.delivery.acked(item.client_id), null, "a second ack finds nothing");
    assert.deepEqual(ctx.delivery.outbox.all(), []);
  });

  test("a room not joined keeps its items until it is", () => {
    const ctx = setup({ joined: false });
    ctx.delivery.enqueue("lobby", { action: "send", body: "hi" });
    assert.deepEqual(ctx.sent, []);
  });

  test("a join asked again: once per room, after retry_after or the backoff, off once joined", () => {
    const ctx = setup();
    const log = {};
    const rejoins = [];
    ctx.delivery.joinLater("lobby", log, { code: "rate_limited", retry_after: 2 }, () => rejoins.push("lobby"));
    ctx.delivery.joinLater("lobby", log, { code: "rate_limited" }, () => rejoins.push("again"));
    assert.deepEqual(ctx.timers.delays(), [2000]);
    ctx.timers.advance(2000);
    assert.deepEqual(rejoins, ["lobby"]);
    ctx.delivery.joinLater("lobby", log, { code: "server_error" }, () => rejoins.push("later"));
    assert.deepEqual(ctx.timers.delays(), [1000], "the second join error of the room waits longer");
    ctx.delivery.joined("lobby");
    assert.deepEqual(ctx.timers.delays(), []);
  });
});
