// The room page's send box (rooms/static/rooms/composer.js), without a
// DOM: the counter and the limit, when Send is off, and which key edits
// one's last message. Run with `node --test tests/js/`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { composerState, editsLast } from "../../rooms/static/rooms/composer.js";

describe("the composer's state", () => {
  const room = { maxBody: 10, readOnly: false, slug: "lobby" };

  test("the counter shows from 80 % of the limit, counting code points as the server does", () => {
    assert.equal(composerState("1234567", room).counter, "");
    assert.equal(composerState("12345678", room).counter, "8 / 10");
    assert.equal(composerState("👍👍👍👍👍👍👍👍", room).counter, "8 / 10");
  });

  test("over the limit: marked, and Send is off", () => {
    const state = composerState("12345678901", room);
    assert.deepEqual([state.over, state.sendDisabled], [true, true]);
    assert.deepEqual([composerState("1234567890", room).over, composerState("1234567890", room).sendDisabled], [false, false]);
  });

  test("blank text cannot be sent", () => {
    assert.equal(composerState("", room).sendDisabled, true);
    assert.equal(composerState(" \n ", room).sendDisabled, true);
  });

  test("a read-only room says so, and nothing can be sent", () => {
    const state = composerState("hi", { ...room, readOnly: true });
    assert.deepEqual([state.sendDisabled, state.placeholder], [true, "This room is read-only."]);
    assert.equal(composerState("hi", room).placeholder, "Message #lobby");
  });
});

test("↑ alone in an empty box edits one's last message; with text or a modifier it does not", () => {
  const key = (extra) => ({ key: "ArrowUp", shiftKey: false, altKey: false, ctrlKey: false, metaKey: false, ...extra });
  assert.equal(editsLast(key(), ""), true);
  assert.equal(editsLast(key(), "draft"), false);
  for (const modifier of ["shiftKey", "altKey", "ctrlKey", "metaKey"]) {
    assert.equal(editsLast(key({ [modifier]: true }), ""), false, modifier);
  }
  assert.equal(editsLast(key({ key: "ArrowDown" }), ""), false);
});
