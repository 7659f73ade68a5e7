// Keyboard focus without a DOM: where a single-key shortcut acts
// (focus.js), where Tab wraps inside a dialog, where a popup goes beside
// its opener, and how the message list's keys move (message-focus.js).
// The pages themselves: tests/browser/test_keyboard.py. Run with
// `node --test tests/js/`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { isShortcut, placeNear, typingIn, wrapTarget } from "../../rooms/static/rooms/focus.js";
import { altArrow, step } from "../../rooms/static/rooms/message-focus.js";

/** An element whose closest(selector) answers as a field, a dialog or nothing would. */
const element = ({ field = false, dialog = false } = {}) => ({
  closest: (selector) => {
    if (selector.includes("textarea")) return field ? {} : null;
    if (selector.includes("dialog")) return dialog ? {} : null;
    return null;
  },
});
const key = (name, extra = {}) => ({ key: name, target: element(), ...extra });

describe("single-key shortcuts", () => {
  test("act on the page, not in a field, a dialog, or with a modifier", () => {
    assert.equal(isShortcut(key("?"), "?"), true);
    assert.equal(isShortcut(key("?", { target: element({ field: true }) }), "?"), false);
    assert.equal(isShortcut(key("?", { target: element({ dialog: true }) }), "?"), false);
    for (const modifier of ["ctrlKey", "metaKey", "altKey", "isComposing"]) {
      assert.equal(isShortcut(key("?", { [modifier]: true }), "?"), false, modifier);
    }
    assert.equal(isShortcut(key("/"), "?"), false);
  });

  test("a field is an input, a textarea, a select or an editable element", () => {
    assert.equal(typingIn(element({ field: true })), true);
    assert.equal(typingIn(element()), false);
    assert.equal(typingIn(null), false);
  });
});

describe("Tab inside a dialog", () => {
  const [a, b, c] = ["a", "b", "c"];

  test("wraps from the last to the first, and back", () => {
    assert.equal(wrapTarget([a, b, c], c, false), a);
    assert.equal(wrapTarget([a, b, c], a, true), c);
  });

  test("leaves the moves in between to the browser", () => {
    assert.equal(wrapTarget([a, b, c], a, false), null);
    assert.equal(wrapTarget([a, b, c], c, true), null);
  });

  test("from outside the list (the dialog itself) goes to an end", () => {
    assert.equal(wrapTarget([a, b, c], "dialog", false), a);
    assert.equal(wrapTarget([a, b, c], "dialog", true), c);
    assert.equal(wrapTarget([], "dialog", false), null);
  });
});

describe("a popup beside its opener", () => {
  const viewport = { width: 400, height: 800 };
  const size = { width: 252, height: 150 };

  test("goes below, right edges aligned", () => {
    const anchor = { top: 100, bottom: 130, left: 300, right: 332 };
    assert.deepEqual(placeNear(anchor, size, viewport), { top: 134, left: 80 });
  });

  test("goes above when there is no room below", () => {
    const anchor = { top: 700, bottom: 730, left: 300, right: 332 };
    assert.deepEqual(placeNear(anchor, size, viewport), { top: 546, left: 80 });
  });

  test("stays inside the viewport, on a narrow screen too", () => {
    const anchor = { top: 100, bottom: 130, left: 10, right: 40 };
    assert.deepEqual(placeNear(anchor, size, viewport), { top: 134, left: 8 });
    // Wider than the screen: its start edge stays on it.
    assert.deepEqual(placeNear({ top: 5, bottom: 20, left: 0, right: 300 }, size, { width: 200, height: 400 }), {
      top: 24,
      left: 8,
    });
  });
});

describe("the message list's keys", () => {
  test("↑ and ↓ move one message, stopping at the ends", () => {
    assert.equal(step(3, "ArrowUp", 10), 2);
    assert.equal(step(3, "ArrowDown", 10), 4);
    assert.equal(step(0, "ArrowUp", 10), 0);
    assert.equal(step(9, "ArrowDown", 10), 9);
  });

  test("Home and End go to the first and the last; other keys do not move", () => {
    assert.equal(step(5, "Home", 10), 0);
    assert.equal(step(5, "End", 10), 9);
    assert.equal(step(5, "Enter", 10), null);
    assert.equal(step(0, "ArrowUp", 0), null);
  });

  test("Alt with an arrow, and nothing else, moves from inside a message", () => {
    assert.equal(altArrow({ key: "ArrowUp", altKey: true }), true);
    assert.equal(altArrow({ key: "ArrowDown", altKey: true }), true);
    assert.equal(altArrow({ key: "ArrowUp", altKey: true, shiftKey: true }), false);
    assert.equal(altArrow({ key: "ArrowUp" }), false);
    assert.equal(altArrow({ key: "Home", altKey: true }), false);
  });
});
