// The room page's rules that need no DOM: which messages share a header in
// the timeline (timeline.js), the jump button's text, the message an
// address opens at (scrollback.js), and the notice for a refused change
// (room-page.js). The pages themselves: tests/browser/. Run with
// `node --test tests/js/`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { rejectionText } from "../../rooms/static/rooms/room-page.js";
import { seqInHash } from "../../rooms/static/rooms/scrollback.js";
import { GROUP_WINDOW_MS, sharesHeader, unseenLabel } from "../../rooms/static/rooms/timeline.js";

describe("the timeline", () => {
  const at = (ms) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
  const shown = (extra = {}) => ({ author: "bob", at: at(0), system: false, quoted: false, ...extra });

  test("one author's messages within a few minutes share a header", () => {
    assert.equal(sharesHeader(shown(), shown({ at: at(GROUP_WINDOW_MS - 1) })), true);
    assert.equal(sharesHeader(shown(), shown({ at: at(GROUP_WINDOW_MS) })), false);
    assert.equal(sharesHeader(shown(), shown({ author: "carol" })), false);
  });

  test("a system message and a reply start a header of their own, and end one", () => {
    assert.equal(sharesHeader(shown(), shown({ system: true })), false);
    assert.equal(sharesHeader(shown({ system: true }), shown()), false);
    assert.equal(sharesHeader(shown(), shown({ quoted: true })), false);
    assert.equal(sharesHeader(shown({ quoted: true }), shown()), true);
  });

  test("the jump button counts the messages below the view", () => {
    assert.equal(unseenLabel(1), "1 new message ↓");
    assert.equal(unseenLabel(3), "3 new messages ↓");
  });
});

test("an address opens at the message #seq-N names, and at nothing else", () => {
  assert.equal(seqInHash("#seq-42"), 42);
  for (const hash of ["", "#seq-", "#seq-4x", "#top", "#seq-42-1"]) assert.equal(seqInHash(hash), null, hash);
});

test("a refused change says what could not be done, and why", () => {
  assert.equal(rejectionText({ action: "edit" }, "Not yours."), "Could not edit the message: Not yours.");
  assert.equal(rejectionText({ action: "delete" }, "Gone."), "Could not delete the message: Gone.");
  assert.equal(rejectionText({ action: "react" }, "No."), "Could not react: No.");
  assert.equal(rejectionText({ action: "send" }, "No."), "Could not do that: No.");
});
