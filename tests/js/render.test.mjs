// The rendering rules of message bodies (rooms/static/rooms/render.js): the
// Markdown subset, links that are safe, raw HTML kept as text, mentions,
// plain text for notifications, and hostile bodies in bounded time. These
// test markdown-it's output as configured; DOMPurify, the second layer,
// runs in the browser tests (tests/browser/test_notice.py).

import { test } from "node:test";
import assert from "node:assert/strict";

import { markdownToHtml, mentionsIn, plainText } from "../../rooms/static/rooms/render.js";
import { suggestions } from "../../rooms/static/rooms/mention-complete.js";

const html = (body, me = null) => markdownToHtml(body, { me });
const REL = 'target="_blank" rel="noopener noreferrer nofollow"';

test("emphasis, strong and inline code", () => {
  assert.equal(html("*em* _em_ **strong** `a < b`"), "<p><em>em</em> <em>em</em> <strong>strong</strong> <code>a &lt; b</code></p>\n");
});

test("fenced code blocks keep their text and lines, unhighlighted", () => {
  const out = html("```python\ndef f():\n    return '<b>'\n```");
  assert.equal(out, '<pre><code class="language-python">def f():\n    return \'&lt;b&gt;\'\n</code></pre>\n');
});

test("block quotes, lists and line breaks", () => {
  assert.equal(html("> quoted\nstill"), "<blockquote>\n<p>quoted<br>\nstill</p>\n</blockquote>\n");
  assert.match(html("- one\n- two"), /^<ul>\n<li>one<\/li>\n<li>two<\/li>\n<\/ul>/);
  assert.match(html("3. three\n4. four"), /^<ol start="3">/);
});

test("what is outside the subset stays text", () => {
  assert.equal(html("# not a heading"), "<p># not a heading</p>\n");
  assert.equal(html("    indented"), "<p>indented</p>\n");
  assert.equal(html("~~no strike~~ | no | table |"), "<p>~~no strike~~ | no | table |</p>\n");
});

test("links and bare URLs open in a new tab with rel noopener noreferrer nofollow", () => {
  assert.equal(html("[docs](https://example.com/a?b=1&c=2)"), `<p><a href="https://example.com/a?b=1&amp;c=2" ${REL}>docs</a></p>\n`);
  assert.equal(html("see https://example.com/x."), `<p>see <a href="https://example.com/x" ${REL}>https://example.com/x</a>.</p>\n`);
  assert.equal(html("<https://example.com>"), `<p><a href="https://example.com" ${REL}>https://example.com</a></p>\n`);
  assert.equal(html("[mail](mailto:a@example.com)"), `<p><a href="mailto:a@example.com" ${REL}>mail</a></p>\n`);
});

test("javascript: and other schemes are not links", () => {
  for (const body of [
    "[x](javascript:alert(1))",
    "[x](JavaScript:alert(1))",
    "[x]( javascript:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x](vbscript:msgbox)",
    "[x](file:///etc/passwd)",
    "[x](/relative)",
    "<javascript:alert(1)>",
    "javascript:alert(1)",
  ]) {
    assert.doesNotMatch(html(body), /<a /, body);
  }
});

test("raw HTML is shown as text, never interpreted", () => {
  assert.equal(html("<script>alert(1)</script>"), "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n");
  assert.equal(html('<img src=x onerror="alert(1)">'), "<p>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</p>\n");
  assert.equal(html("<div>\n*x*\n</div>"), "<p>&lt;div&gt;<br>\n<em>x</em><br>\n&lt;/div&gt;</p>\n");
  assert.equal(html("&lt;b&gt;"), "<p>&amp;lt;b&amp;gt;</p>\n");
});

test("mentions are highlighted, more when they name the reader; not in code or links", () => {
  assert.equal(
    html("@bob and @alice.", "alice"),
    '<p><span class="mention" data-user="bob">@bob</span> and <span class="mention mention--me" data-user="alice">@alice</span>.</p>\n',
  );
  assert.doesNotMatch(html("`@bob` bob@example.com [@bob](https://example.com)"), /mention/);
  assert.deepEqual([...mentionsIn("hi @bob, @carol. `@dave` mail x@y.z")], ["bob", "carol"]);
  assert.equal(html('@"><script>'), "<p>@&quot;&gt;&lt;script&gt;</p>\n");
});

test("plain text for notifications drops the Markdown and is bounded", () => {
  assert.equal(plainText("**Lunch** at `noon`, @bob?\n> see [menu](https://example.com)"), "Lunch at noon, @bob? see menu");
  assert.equal(plainText("<b>hi</b>"), "<b>hi</b>");
  const long = plainText("word ".repeat(200), 50);
  assert.equal([...long].length, 50);
  assert.ok(long.endsWith("…"));
});

/** Renders `body` and checks it took less than `ms`. */
function bounded(body, ms = 500) {
  const started = performance.now();
  const out = html(body);
  const took = performance.now() - started;
  assert.ok(took < ms, `${took.toFixed(0)} ms`);
  return out;
}

test("hostile: an unclosed fence runs to the end as code", () => {
  const out = bounded("```\n<script>alert(1)</script>\n> *not a quote*" + "\n```x".repeat(500));
  assert.match(out, /^<pre><code>&lt;script&gt;/);
  assert.doesNotMatch(out, /<script|<blockquote|<em>/);
});

test("hostile: quotes nested 1,000 deep show as plain text, not 1,000 boxes", () => {
  const out = bounded(">".repeat(1000) + " deep");
  assert.equal(out, `<p class="plain">${"&gt;".repeat(1000)} deep</p>\n`);
  const lines = bounded(Array.from({ length: 1000 }, (_, n) => ">".repeat(n + 1) + " x").join("\n"));
  assert.doesNotMatch(lines, /<blockquote>/);
  const lists = bounded("- ".repeat(1000) + "x");
  assert.doesNotMatch(lists, /<ul>/);
});

test("hostile: 4,000 asterisks and other emphasis storms", () => {
  assert.equal(bounded("*".repeat(4000)), `<p>${"*".repeat(4000)}</p>\n`);
  bounded("*a **b ".repeat(570));
  bounded("_".repeat(4000));
  bounded("`".repeat(4000));
  bounded("[".repeat(2000) + "](".repeat(1000));
  bounded("@".repeat(4000));
});

test("hostile: a very long URL is one link", () => {
  const url = `https://example.com/${"a".repeat(3900)}`;
  const out = bounded(url);
  assert.equal((out.match(/<a /g) ?? []).length, 1);
});

test("the @ suggestions: prefix matches first, case aside, never yourself", () => {
  const names = ["bob", "Bobby", "alice", "carol", "rob", "bob"];
  assert.deepEqual(suggestions(names, "bo", "alice"), ["bob", "Bobby"]);
  assert.deepEqual(suggestions(names, "ro", "alice"), ["rob", "carol"]);
  assert.deepEqual(suggestions(names, "", "alice"), ["bob", "Bobby", "carol", "rob"]);
  assert.deepEqual(suggestions(names, "al", "alice"), []);
});
