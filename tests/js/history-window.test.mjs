// Opening the room page at an old message (history-window.js): which way to
// load, the window around the message, and filling the gap to the newest
// messages without ever skipping one, also when the server's size cap cuts
// a history page short. Run with `node --test tests/js/`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  AROUND,
  aroundRequest,
  gapBetween,
  loadDown,
  newerRequest,
  planOpen,
} from "../../rooms/static/rooms/history-window.js";

/** A room's log as the server's `history` answers it: `seqs` are the seqs
 * of its messages (change entries take the others); a page keeps the newest
 * `limit` messages below `before`, or only `cap` of them (the size cap). */
function server(seqs, { cap = Infinity } = {}) {
  const calls = [];
  const history = async (before, limit) => {
    calls.push({ before, limit });
    const below = seqs.filter((seq) => seq < before);
    const page = below.slice(-Math.min(limit, cap));
    return { messages: page.map((seq) => ({ seq })), has_more: below.length > page.length };
  };
  return { history, calls };
}

const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const seqsOf = (result) => result.messages.map((message) => message.seq);

describe("choosing how to open a message", () => {
  test("a message on screen is only scrolled to", () => {
    assert.equal(planOpen(4950, { isShown: true, first: 4951, gap: null }), "show");
  });

  test("a message just above the first one shown is paged to", () => {
    assert.equal(planOpen(4920, { isShown: false, first: 4951, gap: null }), "older");
    assert.equal(planOpen(4850, { isShown: false, first: 4951, gap: null }), "window");
  });

  test("a message thousands of seqs back gets a window of its own", () => {
    assert.equal(planOpen(5, { isShown: false, first: 4951, gap: null }), "window");
  });

  test("in a gap: near its bottom it is filled, far from it a new window opens", () => {
    const gap = { after: 30, before: 4951 };
    assert.equal(planOpen(60, { isShown: false, first: 1, gap }), "newer");
    assert.equal(planOpen(3000, { isShown: false, first: 1, gap }), "window");
  });

  test("a seq inside what is loaded that shows no message is missing", () => {
    assert.equal(planOpen(4960, { isShown: false, first: 4951, gap: null }), "missing");
  });

  test("nothing shown yet: a window", () => {
    assert.equal(planOpen(7, { isShown: false, first: null, gap: null }), "window");
  });
});

describe("the window around a message", () => {
  test("one request of 50 messages brings seq 5 of 5,000 and its neighbours", async () => {
    const { history, calls } = server(range(1, 5000));
    const result = await loadDown(history, aroundRequest(5));
    assert.deepEqual(calls, [{ before: 5 + AROUND + 1, limit: 2 * AROUND }]);
    assert.deepEqual(seqsOf(result), range(1, 30));
    assert.equal(result.hasOlder, false);
  });

  test("in the middle of a long log: 25 on each side, and older ones remain", async () => {
    const { history, calls } = server(range(1, 5000));
    const result = await loadDown(history, aroundRequest(2500));
    assert.equal(calls.length, 1);
    assert.deepEqual(seqsOf(result), range(2476, 2525));
    assert.equal(result.from, 2476);
    assert.equal(result.hasOlder, true);
  });

  test("pages cut by the size cap are followed down until the message is in", async () => {
    const { history, calls } = server(range(1, 5000), { cap: 7 });
    const result = await loadDown(history, aroundRequest(2500));
    assert.ok(seqsOf(result).includes(2500));
    // Nothing skipped between the lowest seq fetched and the top of the window.
    assert.deepEqual(seqsOf(result), range(result.from, 2525));
    assert.ok(calls.length > 1 && calls.length <= 5);
  });
});

describe("the gap between the window and the newest messages", () => {
  test("exists only when the window ends below the tail", () => {
    assert.deepEqual(gapBetween(30, 4951), { after: 30, before: 4951 });
    assert.equal(gapBetween(4950, 4951), null);
    assert.equal(gapBetween(5000, 4951), null);
  });

  test("is filled from below in steps that skip no message, and closes at the tail", async () => {
    // Messages with reactions between them: not every seq is a message.
    const log = range(1, 400).filter((seq) => seq % 3 !== 0);
    const { history } = server(log);
    let gap = { after: 30, before: 301 };
    const loaded = [];
    for (let steps = 0; gap && steps < 20; steps++) {
      const request = newerRequest(gap);
      const result = await loadDown(history, request);
      assert.ok(result.from <= gap.after + 1 || !result.hasOlder, "each step reaches the window");
      loaded.push(...seqsOf(result).filter((seq) => seq > gap.after));
      gap = gapBetween(request.before - 1, gap.before);
    }
    assert.equal(gap, null);
    assert.deepEqual(
      [...new Set(loaded)].sort((a, b) => a - b),
      log.filter((seq) => seq > 30 && seq < 301),
    );
  });

  test("a step cut short by the size cap fetches the rest before the gap moves", async () => {
    const { history } = server(range(1, 1000), { cap: 4 });
    const gap = { after: 100, before: 900 };
    const request = newerRequest(gap);
    const result = await loadDown(history, request);
    assert.deepEqual(
      seqsOf(result).filter((seq) => seq > 100),
      range(101, request.before - 1),
    );
    assert.deepEqual(gapBetween(request.before - 1, gap.before), { after: 150, before: 900 });
  });

  test("a request never goes past the tail", () => {
    assert.deepEqual(newerRequest({ after: 100, before: 120 }), { before: 120, downTo: 101, limit: 50 });
  });
});
