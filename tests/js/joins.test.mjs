// How many rooms a page joins (joins.js, docs/ui.md): at most the limit,
// rooms new to the page first, then the most recently active; a room
// already joined stays while it is among those; and a room page's watch of
// the user's other conversations (direct.js) under that rule. The server's
// ranking: tests/web/test_join_bound.py. Run with `node --test tests/js/`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { watchDirectConversations } from "../../rooms/static/rooms/direct.js";
import { byActivity, joinPlan } from "../../rooms/static/rooms/joins.js";

const slugs = (n, prefix = "room") => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

test("a page with a thousand rooms joins only the limit's worth, in their rank", () => {
  const ranked = slugs(1200);
  const plan = joinPlan({ joined: [], ranked, max: 100 });
  assert.deepEqual(plan.join, ranked.slice(0, 100));
  assert.deepEqual(plan.leave, []);
});

test("fewer rooms than the limit are all joined", () => {
  assert.deepEqual(joinPlan({ joined: [], ranked: ["a", "b"], max: 100 }).join, ["a", "b"]);
});

test("rooms a `rooms` frame brought come before the ranked ones, within the limit", () => {
  const joined = slugs(3);
  const plan = joinPlan({ joined, first: ["new"], ranked: joined, max: 3 });
  assert.deepEqual(plan.join, ["new"]);
  assert.deepEqual(plan.leave, ["room-2"]); // the least recently active gives way
});

test("rooms already joined stay joined, and only those no longer wanted are left", () => {
  const plan = joinPlan({ joined: ["a", "b", "gone"], ranked: ["b", "c", "a"], max: 3 });
  assert.deepEqual(plan.join, ["c"]);
  assert.deepEqual(plan.leave, ["gone"]);
});

test("a room named twice counts once", () => {
  const plan = joinPlan({ joined: [], first: ["a"], ranked: ["a", "b", "c"], max: 2 });
  assert.deepEqual(plan.join, ["a", "b"]);
});

test("the most recently active come first, one without any entry before them all", () => {
  const rooms = [
    { slug: "old", last_activity: "2026-01-01T10:00:00.000Z" },
    { slug: "new", last_activity: null },
    { slug: "recent", last_activity: "2026-03-01T09:30:00.000Z" },
    { slug: "older", last_activity: "2025-12-31T23:59:59.999Z" },
  ];
  assert.deepEqual(byActivity(rooms), ["new", "recent", "old", "older"]);
  assert.deepEqual(rooms[0].slug, "old"); // the list given is left as it was
});

describe("a room page's other conversations (direct.js)", () => {
  /** A client that records joins and leaves, and lets the test send events. */
  const fakeClient = () => {
    const listeners = new Map();
    return {
      joins: [],
      leaves: [],
      on(type, listener) {
        listeners.set(type, [...(listeners.get(type) ?? []), listener]);
      },
      join(slug, options) {
        this.joins.push([slug, options]);
      },
      leave(slug) {
        this.leaves.push(slug);
      },
      async emit(type, detail = {}) {
        for (const listener of listeners.get(type) ?? []) await listener(detail);
      },
    };
  };
  const conversation = (slug, last_activity, extra = {}) => ({
    slug,
    kind: "direct",
    title: slug,
    head: 4,
    unread: 0,
    last_activity,
    ...extra,
  });

  test("joins the server's first `directLimit` quietly from their heads, and re-plans on a `rooms` frame", async () => {
    globalThis.document = { getElementById: () => null };
    const client = fakeClient();
    const config = {
      user: "alice",
      room: { slug: "here" },
      directLimit: 2,
      direct: [
        { slug: "a", title: "bob", head: 7, level: "all" },
        { slug: "b", title: "carol", head: 3, level: "all" },
        { slug: "c", title: "dave", head: 1, level: "all" },
      ],
    };
    watchDirectConversations(client, config);
    assert.deepEqual(client.joins, [
      ["a", { since: 7, presence: false }],
      ["b", { since: 3, presence: false }],
    ]);

    // A conversation just started (no entry yet) takes the least active one's place.
    globalThis.fetch = async () => ({
      ok: true,
      json: async () => ({
        rooms: [
          conversation("a", "2026-03-01T10:00:00.000Z"),
          conversation("b", "2026-01-01T10:00:00.000Z"),
          conversation("c", "2025-01-01T10:00:00.000Z"),
          conversation("here", null),
          conversation("new", null, { head: 1, unread: 1 }),
          { ...conversation("lobby", null), kind: "room" },
        ],
      }),
    });
    client.joins = [];
    await client.emit("rooms");
    assert.deepEqual(client.joins, [["new", { since: 1, presence: false }]]);
    assert.deepEqual(client.leaves, ["b"]);
  });
});
