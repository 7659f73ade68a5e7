// Who is typing in the room (rooms/static/rooms/presence.js), without a
// DOM: the typing line's text, and how long a typist is shown, on the
// fakes' timers. Run with `node --test tests/js/`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { TYPING_SHOWN_MS, Typists, typingText } from "../../rooms/static/rooms/presence.js";
import { ManualTimers } from "./fakes.mjs";

test("the typing line names one or two typists, then only says several", () => {
  assert.equal(typingText([]), "");
  assert.equal(typingText(["bob"]), "bob is typing…");
  assert.equal(typingText(["bob", "carol"]), "bob and carol are typing…");
  assert.equal(typingText(["bob", "carol", "dave"]), "Several people are typing…");
});

describe("typists", () => {
  function setup() {
    const timers = new ManualTimers();
    const seen = [];
    const typists = new Typists({ timers, changed: (names) => seen.push(names) });
    return { timers, seen, typists };
  }

  test("a typist is shown for a few seconds after their last typing frame", () => {
    const { timers, seen, typists } = setup();
    typists.typed("bob");
    timers.advance(TYPING_SHOWN_MS - 1000);
    typists.typed("bob"); // typing on: shown longer
    timers.advance(TYPING_SHOWN_MS - 1);
    assert.deepEqual(typists.names(), ["bob"]);
    timers.advance(1);
    assert.deepEqual(typists.names(), []);
    assert.deepEqual(seen, [["bob"], ["bob"], []]);
  });

  test("a typist stops when their message arrives, and all stop when the connection changes", () => {
    const { timers, seen, typists } = setup();
    typists.typed("bob");
    typists.typed("carol");
    typists.stop("bob");
    typists.stop("nobody"); // not typing: nothing changes
    assert.deepEqual(typists.names(), ["carol"]);
    typists.stopAll();
    assert.deepEqual(seen.at(-1), []);
    assert.equal(timers.queue.size, 0, "no timer is left behind");
  });
});
