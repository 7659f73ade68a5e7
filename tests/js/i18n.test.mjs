// The browser client's words (rooms/static/rooms/i18n.js): English source
// text without a catalog, the page's catalog when there is one (Django's
// JavaScript catalog defines globalThis.django; a small one stands in for
// it here), plural forms by count, and dates in the page's language.
// Run with `node --test tests/js/`.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { formatFull, formatWhen } from "../../rooms/static/rooms/dom.js";
import { gettext, interpolate, ngettext } from "../../rooms/static/rooms/i18n.js";
import { typingText } from "../../rooms/static/rooms/presence.js";
import { unseenLabel } from "../../rooms/static/rooms/timeline.js";

/** What Django's catalog script sets up, for a few German messages. */
function germanCatalog() {
  const catalog = {
    "%(name)s is typing…": "%(name)s schreibt…",
    "%(count)s new message ↓": ["%(count)s neue Nachricht ↓", "%(count)s neue Nachrichten ↓"],
  };
  const pluralidx = (count) => (count === 1 ? 0 : 1);
  return {
    gettext: (id) => (typeof catalog[id] === "string" ? catalog[id] : id),
    ngettext: (singular, plural, count) =>
      catalog[singular]?.[pluralidx(count)] ?? (count === 1 ? singular : plural),
  };
}

afterEach(() => {
  delete globalThis.django;
  delete globalThis.document;
});

test("without a catalog the English source text stands, with English plurals", () => {
  assert.equal(gettext("Send"), "Send");
  assert.equal(ngettext("%(count)s room", "%(count)s rooms", 1), "%(count)s room");
  assert.equal(ngettext("%(count)s room", "%(count)s rooms", 0), "%(count)s rooms");
  assert.equal(unseenLabel(1), "1 new message ↓");
  assert.equal(unseenLabel(2), "2 new messages ↓");
});

test("interpolate fills named placeholders and leaves unknown ones", () => {
  assert.equal(interpolate("%(a)s and %(b)s", { a: "x", b: 2 }), "x and 2");
  assert.equal(interpolate("%(a)s %(missing)s", { a: "x" }), "x %(missing)s");
});

test("with the page's catalog the modules speak its language, plural forms included", () => {
  globalThis.django = germanCatalog();
  assert.equal(typingText(["bob"]), "bob schreibt…");
  assert.equal(unseenLabel(1), "1 neue Nachricht ↓");
  assert.equal(unseenLabel(5), "5 neue Nachrichten ↓");
  // A message the catalog lacks shows in English.
  assert.equal(typingText(["bob", "carol"]), "bob and carol are typing…");
});

test("dates follow the page's language (<html lang>)", () => {
  const when = "2026-03-01T09:30:00Z";
  globalThis.document = { documentElement: { lang: "de" } };
  const german = formatFull(when);
  assert.match(german, /^01\.03\.2026, \d{2}:30$/);
  assert.match(formatWhen(when), /^1\. März, \d{2}:30$/);
  globalThis.document = { documentElement: { lang: "en" } };
  assert.match(formatFull(when), /^Mar 1, 2026, \d{1,2}:30\s?[AP]M$/);
});

test("dates take the browser's own variant of the page's language", () => {
  const when = "2026-03-01T21:30:00Z";
  globalThis.document = { documentElement: { lang: "en" } };
  const saved = Object.getOwnPropertyDescriptor(globalThis, "navigator");
  Object.defineProperty(globalThis, "navigator", { value: { languages: ["en-GB", "de"] }, configurable: true });
  try {
    assert.match(formatFull(when), /^1 Mar 2026, \d{2}:30$/); // en-GB: day first, 24-hour clock
    globalThis.document = { documentElement: { lang: "de" } };
    assert.match(formatFull(when), /^01\.03\.2026, \d{2}:30$/);
  } finally {
    if (saved) Object.defineProperty(globalThis, "navigator", saved);
    else delete globalThis.navigator;
  }
});
