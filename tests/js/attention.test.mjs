// The room page's attention counters (rooms/static/rooms/attention.js),
// without a DOM: which messages are news, the tab's count of messages that
// came while it was hidden, and the line the live region reads out. Run
// with `node --test tests/js/`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { HiddenUnread, arrivalText, isNews } from "../../rooms/static/rooms/attention.js";
import { message } from "./fakes.mjs";

describe("unread while hidden", () => {
  test("counts the messages, and says whether one mentions the reader", () => {
    const unread = new HiddenUnread();
    assert.deepEqual(unread.badge(), { unread: 0, mentioned: false });
    unread.add(4, false);
    unread.add(5, true);
    unread.add(5, true); // the same message twice counts once
    assert.deepEqual(unread.badge(), { unread: 2, mentioned: true });
  });

  test("reading up to a seq forgets what is at or below it", () => {
    const unread = new HiddenUnread();
    unread.add(4, true);
    unread.add(6, false);
    unread.readThrough(5);
    assert.deepEqual(unread.badge(), { unread: 1, mentioned: false });
    unread.readThrough(6);
    assert.deepEqual(unread.badge(), { unread: 0, mentioned: false });
  });
});

describe("news", () => {
  test("another person's text or system message is news; one's own, a deleted one or a change is not", () => {
    assert.equal(isNews(message(1), "alice"), true);
    assert.equal(isNews(message(2, { kind: "system", author: null }), "alice"), true);
    assert.equal(isNews(message(3, { author: "alice" }), "alice"), false);
    assert.equal(isNews(message(4, { deleted: true }), "alice"), false);
    assert.equal(isNews({ seq: 5, kind: "edit", author: "bob" }, "alice"), false);
  });

  test("the live region reads the last message of others, as a mention if any mentions the reader", () => {
    const messages = [
      message(1, { body: "hi @alice" }),
      message(2, { author: "carol", body: "**bold**" }),
      message(3, { author: "alice" }),
    ];
    assert.equal(arrivalText(messages, "alice"), "carol mentioned you: bold");
    assert.equal(arrivalText([message(4, { body: "plain" })], "alice"), "bob: plain");
    assert.equal(arrivalText([message(5, { author: null, kind: "system", body: "joined" })], "alice"), "System: joined");
  });
});
