// Edits, deletions and reactions in the protocol client (docs/protocol.md v2):
// change entries applied to the messages held as idempotent assignments, and
// the user's own changes going through the outbox like sends.
// Run with `node --test tests/js/`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { applyChange, messageState, snippet } from "../../rooms/static/rooms/room-log.js";
import { MemoryStorage, connectAndJoin, del, delivered, edit, message, reaction, setup } from "./fakes.mjs";

const backfill = (ctx, entries) => ctx.socket().deliver({ type: "backfill", room: "lobby", messages: entries });
const live = (ctx, entry) => ctx.socket().deliver({ type: "message", room: "lobby", message: entry });
const ack = (ctx, item, seq, duplicate = false) =>
  ctx.socket().deliver({ type: "ack", ref: item.client_id, room: "lobby", seq, client_id: item.client_id, duplicate });
const changes = (events) => events.filter((event) => event.type === "change");
/** The parts of a message the page shows. */
const shown = (m) => ({ body: m.body, deleted: m.deleted, edited_at: m.edited_at, reactions: m.reactions });

describe("applying a change", () => {
  const base = messageState(message(1, { author: "alice", body: "hello" }));

  test("an edit sets the body and edited_at, and applying it again changes nothing", () => {
    const entry = edit(2, 1, "hello, world");
    const once = applyChange(base, entry);
    assert.equal(once.body, "hello, world");
    assert.equal(once.edited_at, entry.created_at);
    assert.equal(applyChange(once, entry), once);
    assert.equal(base.body, "hello", "the held state is not mutated");
  });

  test("reactions keep their users sorted and drop an emoji nobody holds", () => {
    let m = base;
    m = applyChange(m, reaction(2, 1, "👍", true, { author: "carol" }));
    m = applyChange(m, reaction(3, 1, "👍", true, { author: "bob" }));
    m = applyChange(m, reaction(4, 1, "👍", true, { author: "bob" })); // again: no-op
    m = applyChange(m, reaction(5, 1, "🎉", true, { author: "bob" }));
    assert.deepEqual(m.reactions, { "👍": ["bob", "carol"], "🎉": ["bob"] });
    m = applyChange(m, reaction(6, 1, "🎉", false, { author: "bob" }));
    m = applyChange(m, reaction(7, 1, "🎉", false, { author: "bob" })); // already absent
    assert.deepEqual(m.reactions, { "👍": ["bob", "carol"] });
  });

  test("a delete empties the message for good: later edits and reactions are ignored", () => {
    let m = applyChange(base, reaction(2, 1, "👍", true));
    m = applyChange(m, del(3, 1));
    assert.deepEqual(shown(m), { body: "", deleted: true, edited_at: null, reactions: {} });
    assert.equal(applyChange(m, edit(4, 1, "back")), m);
    assert.equal(applyChange(m, reaction(5, 1, "😂", true)), m);
    assert.equal(applyChange(m, del(6, 1)), m);
    assert.equal(snippet(m), "message deleted");
  });
});

describe("change entries from the server", () => {
  test("are applied to the message with seq target, each announced with the new state", () => {
    const ctx = setup();
    connectAndJoin(ctx);
    backfill(ctx, [message(1, { body: "first" }), message(2), edit(3, 1, "first, edited")]);
    assert.deepEqual(delivered(ctx.events), [1, 2]);
    // Applied within the frame: the new message is announced in its final state.
    assert.equal(ctx.events.find((e) => e.type === "messages").messages[0].body, "first, edited");
    live(ctx, reaction(4, 2, "👍", true, { author: "carol" }));
    live(ctx, del(5, 1));
    assert.deepEqual(
      changes(ctx.events).map((e) => [e.seq, shown(e.message)]),
      [
        [2, { body: "m2", deleted: false, edited_at: null, reactions: { "👍": ["carol"] } }],
        [1, { body: "", deleted: true, edited_at: "2026-01-01T00:03:00Z", reactions: {} }],
      ],
    );
    assert.deepEqual(
      ctx.client.messages("lobby").map((m) => m.seq),
      [1, 2],
    );
  });

  test("a message already in its current state stays right when its older changes follow", () => {
    const ctx = setup();
    connectAndJoin(ctx);
    // Backfill reads messages in their current state: message 1 already shows
    // both edits and the reaction that follow it in the log.
    const current = message(1, {
      body: "third",
      edited_at: "2026-01-01T00:04:00Z",
      reactions: { "👍": ["bob"] },
    });
    backfill(ctx, [current, edit(2, 1, "second"), reaction(3, 1, "👍", true), edit(4, 1, "third")]);
    assert.deepEqual(shown(ctx.client.message("lobby", 1)), {
      body: "third",
      deleted: false,
      edited_at: "2026-01-01T00:04:00Z",
      reactions: { "👍": ["bob"] },
    });
  });

  test("repeated change entries are dropped by seq, and every entry moves lastSeq", () => {
    const ctx = setup();
    connectAndJoin(ctx);
    backfill(ctx, [message(1), reaction(2, 1, "👍", true)]);
    live(ctx, reaction(2, 1, "👍", true));
    backfill(ctx, [reaction(2, 1, "👍", true), reaction(3, 1, "👍", false)]);
    live(ctx, reaction(3, 1, "👍", false));
    assert.deepEqual(changes(ctx.events).map((e) => e.message.reactions), [{}]);
    assert.equal(ctx.client.lastSeq("lobby"), 3);

    // A re-join after a reconnect resumes after the last change, not the last message (G5).
    ctx.socket().drop();
    ctx.timers.runAll();
    ctx.socket().deliver({ type: "hello", protocol: 2, user: "alice" });
    assert.equal(ctx.socket().frames("join")[0].since, 3);
  });

  test("a change whose target is not held is ignored, but its seq counts", () => {
    const ctx = setup();
    connectAndJoin(ctx, 10);
    backfill(ctx, [edit(11, 4, "not here"), del(12, 5), reaction(13, 6, "👍", true), message(14)]);
    assert.deepEqual(changes(ctx.events), []);
    assert.deepEqual(delivered(ctx.events), [14]);
    assert.equal(ctx.client.message("lobby", 4), null);
    assert.equal(ctx.client.lastSeq("lobby"), 14);
  });

  test("edits and reactions for a message held as deleted are ignored", () => {
    const ctx = setup();
    connectAndJoin(ctx);
    backfill(ctx, [message(1, { deleted: true, body: "" }), edit(2, 1, "zombie"), reaction(3, 1, "😂", true)]);
    assert.deepEqual(shown(ctx.client.message("lobby", 1)), {
      body: "",
      deleted: true,
      edited_at: null,
      reactions: {},
    });
    assert.deepEqual(changes(ctx.events), []);
  });

  test("a history page held while changes to its messages arrived is brought up to date", async () => {
    const ctx = setup();
    connectAndJoin(ctx, 5);
    const page = ctx.client.history("lobby", 6, 50);
    const request = ctx.socket().frames("history")[0];
    // Read by the server before entry 6 was stored; entry 6 overtakes it.
    live(ctx, edit(6, 2, "edited while the page was on its way"));
    ctx.socket().deliver({ type: "history", room: "lobby", ref: request.ref, messages: [message(1), message(2)], has_more: false });
    const { messages } = await page;
    assert.deepEqual(
      messages.map((m) => m.body),
      ["m1", "edited while the page was on its way"],
    );
    live(ctx, reaction(7, 1, "🎉", true));
    assert.deepEqual(ctx.client.message("lobby", 1).reactions, { "🎉": ["bob"] });
  });
});

describe("changes in the outbox", () => {
  test("edit, delete and react go out as their frames, each with its own client_id", () => {
    const ctx = setup();
    connectAndJoin(ctx);
    backfill(ctx, [message(1, { author: "alice" }), message(2)]);
    const items = [
      ctx.client.send("lobby", "re", { replyTo: 2 }),
      ctx.client.edit("lobby", 1, "new body"),
      ctx.client.react("lobby", 2, "🎉"),
      ctx.client.react("lobby", 2, "🎉", false),
      ctx.client.delete("lobby", 1),
    ];
    const ids = items.map((item) => item.client_id);
    assert.equal(new Set(ids).size, 5);
    const frames = ctx.socket().sent.filter((frame) => frame.client_id);
    assert.deepEqual(frames, [
      { type: "send", room: "lobby", body: "re", reply_to: 2, client_id: ids[0], ref: ids[0] },
      { type: "edit", room: "lobby", seq: 1, body: "new body", client_id: ids[1], ref: ids[1] },
      { type: "react", room: "lobby", seq: 2, emoji: "🎉", on: true, client_id: ids[2], ref: ids[2] },
      { type: "react", room: "lobby", seq: 2, emoji: "🎉", on: false, client_id: ids[3], ref: ids[3] },
      { type: "delete", room: "lobby", seq: 1, client_id: ids[4], ref: ids[4] },
    ]);
  });

  test("changes made offline are stored, shown as pending, and resent with the same client_id after a reload", () => {
    const storage = new MemoryStorage();
    const first = setup({ storage, user: "alice" });
    connectAndJoin(first);
    backfill(first, [message(1, { author: "alice", body: "typo" }), message(2)]);
    first.socket().drop();
    const edited = first.client.edit("lobby", 1, "fixed");
    const reacted = first.client.react("lobby", 2, "👍");
    assert.deepEqual(first.socket().frames("edit"), [], "nothing goes out while disconnected");
    const view = first.client.message("lobby", 1);
    assert.equal(view.body, "fixed");
    assert.deepEqual(view.pending, { edit: true, delete: false, reactions: [] });
    assert.deepEqual(first.client.message("lobby", 2).reactions, { "👍": ["alice"] });
    first.client.close();

    // The page is reloaded: a new client finds both in storage.
    const second = setup({ storage, user: "alice" });
    connectAndJoin(second);
    const resent = () => second.socket().sent.filter((frame) => frame.client_id);
    assert.deepEqual(
      resent().map((frame) => [frame.type, frame.client_id]),
      [
        ["edit", edited.client_id],
        ["react", reacted.client_id],
      ],
    );
    // Acks lost with the connection: sent once more, same client_ids (G4).
    second.socket().drop();
    second.timers.runAll();
    second.socket().deliver({ type: "hello", protocol: 2, user: "alice" });
    second.socket().deliver({ type: "joined", room: "lobby", head: 2, since: 0, truncated: false });
    assert.deepEqual(
      resent().map((frame) => frame.client_id),
      [edited.client_id, reacted.client_id],
    );
    ack(second, edited, 3, true);
    ack(second, reacted, 4, true);
    assert.deepEqual(second.client.outbox.all(), []);

    // Once acked, a reconnect sends nothing again.
    second.socket().drop();
    second.timers.runAll();
    second.socket().deliver({ type: "hello", protocol: 2, user: "alice" });
    second.socket().deliver({ type: "joined", room: "lobby", head: 4, since: 0, truncated: false });
    assert.deepEqual(resent(), []);
  });

  test("an acked change keeps showing until its entry arrives, then the server's state rules", () => {
    const ctx = setup({ user: "alice" });
    connectAndJoin(ctx);
    backfill(ctx, [message(1)]);
    const item = ctx.client.react("lobby", 1, "❤️");
    assert.deepEqual(ctx.client.message("lobby", 1).pending.reactions, ["❤️"]);
    ack(ctx, item, 2);
    assert.deepEqual(ctx.client.message("lobby", 1).reactions, { "❤️": ["alice"] });
    assert.equal(ctx.client.message("lobby", 1).pending, null);
    live(ctx, reaction(2, 1, "❤️", true, { author: "alice", client_id: item.client_id }));
    assert.deepEqual(ctx.client.rooms.get("lobby").acked, []);
    assert.deepEqual(ctx.client.message("lobby", 1).reactions, { "❤️": ["alice"] });
  });

  test("a change the server rejects is dropped from the outbox and reported", () => {
    const ctx = setup({ user: "alice" });
    connectAndJoin(ctx);
    backfill(ctx, [message(1, { author: "alice" })]);
    const item = ctx.client.edit("lobby", 1, "too late");
    ctx.socket().deliver({ type: "error", code: "invalid", field: "seq", message: "Deleted.", ref: item.client_id });
    assert.deepEqual(ctx.client.outbox.all(), []);
    assert.equal(ctx.client.message("lobby", 1).body, "m1");
    const rejected = ctx.events.filter((e) => e.type === "rejected");
    assert.deepEqual(rejected.map((e) => [e.code, e.item.client_id]), [["invalid", item.client_id]]);
    assert.equal(changes(ctx.events).at(-1).message.body, "m1");
  });

  test("a send kept by a page from before protocol 2 (no action) still goes out as a send", () => {
    const storage = new MemoryStorage();
    const items = [{ client_id: "c-old", room: "lobby", body: "v1 outbox", status: "pending", at: 0 }];
    storage.setItem("outbox:alice", JSON.stringify({ version: 1, items }));
    const ctx = setup({ storage });
    connectAndJoin(ctx);
    assert.deepEqual(ctx.socket().frames("send"), [
      { type: "send", room: "lobby", body: "v1 outbox", client_id: "c-old", ref: "c-old" },
    ]);
  });
});
