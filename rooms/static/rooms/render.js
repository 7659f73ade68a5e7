// Message bodies as rich text: the Markdown subset of docs/ui.md, parsed by
// markdown-it and cleaned by DOMPurify (both vendored in ./vendor/, with
// their licences). The stored body is never changed: this is only how the
// page shows it.
//
// Three layers keep a body from becoming markup or script. markdown-it runs
// with `html: false` and only the rules of the subset, so raw HTML stays
// text and only http(s) and mailto links become links. Its output is then
// passed through DOMPurify with an allow-list of the subset's tags, so a
// parser bug cannot smuggle anything else in. And the page's
// Content-Security-Policy runs no inline script in any case.

import MarkdownIt from "./vendor/markdown-it.js";
import DOMPurify from "./vendor/purify.js";

// Deeper structure than this (quotes in quotes in lists…) is shown as plain
// text: markdown-it stops parsing at its nesting limit, and the message box
// must not be pushed off the screen by indentation.
const MAX_NESTING = 20;
const LINK_SCHEMES = /^(?:https?:\/\/|mailto:)/i;
const LINK_REL = "noopener noreferrer nofollow";

// `@name`: the name as Django allows it (letters, digits, _ . + -), not
// preceded by a name character (so `bob@example.com` mentions nobody). A
// trailing dot ends the sentence, not the name. rooms/mentions.py parses
// the same syntax on the server.
const MENTION = /(?<![\p{L}\p{N}_.+@/-])@([\p{L}\p{N}_.+-]+)/gu;

const md = new MarkdownIt("zero", { html: false, linkify: true, breaks: true, maxNesting: MAX_NESTING });
md.enable([
  "fence",
  "blockquote",
  "list",
  "newline",
  "escape",
  "backticks",
  "emphasis",
  "link",
  "autolink",
  "linkify",
]);
md.linkify.set({ fuzzyLink: false, fuzzyEmail: false, fuzzyIP: false });
md.validateLink = (url) => LINK_SCHEMES.test(url.trim());

md.renderer.rules.link_open = (tokens, index, options, env, self) => {
  tokens[index].attrSet("target", "_blank");
  tokens[index].attrSet("rel", LINK_REL);
  return self.renderToken(tokens, index, options);
};
md.renderer.rules.mention = (tokens, index, options, env) => {
  const name = tokens[index].content;
  const mine = env.me != null && name === env.me;
  const escaped = md.utils.escapeHtml(name);
  return `<span class="mention${mine ? " mention--me" : ""}" data-user="${escaped}">@${escaped}</span>`;
};

/** Split the text tokens outside links into text and `mention` tokens. */
md.core.ruler.push("mention", (state) => {
  for (const block of state.tokens) {
    if (block.type !== "inline" || !block.children) continue;
    const children = [];
    let linkDepth = 0;
    for (const token of block.children) {
      if (token.type === "link_open") linkDepth += 1;
      if (token.type === "link_close") linkDepth -= 1;
      if (token.type !== "text" || linkDepth > 0 || !token.content.includes("@")) {
        children.push(token);
        continue;
      }
      let last = 0;
      for (const found of mentionMatches(token.content)) {
        if (found.index > last) children.push(textToken(state, token.content.slice(last, found.index)));
        const mention = new state.Token("mention", "", 0);
        mention.content = found.name;
        children.push(mention);
        last = found.index + found.name.length + 1;
      }
      if (last === 0) children.push(token);
      else if (last < token.content.length) children.push(textToken(state, token.content.slice(last)));
    }
    block.children = children;
  }
});

function textToken(state, content) {
  const token = new state.Token("text", "", 0);
  token.content = content;
  return token;
}

function* mentionMatches(text) {
  for (const match of text.matchAll(MENTION)) {
    const name = match[1].replace(/\.+$/, "");
    if (name) yield { index: match.index, name };
  }
}

/** The tokens of `body`, or null when it nests too deep to show as rich text. */
function parse(body, env) {
  const tokens = md.parse(body, env);
  for (const token of tokens) if (token.level >= MAX_NESTING - 1) return null;
  return tokens;
}

/** The body as HTML from markdown-it, before DOMPurify. `me` (the reader's
 * username) marks the mentions of the reader. */
export function markdownToHtml(body, { me = null } = {}) {
  const env = { me };
  const tokens = parse(body, env);
  if (tokens == null) return `<p class="plain">${md.utils.escapeHtml(body)}</p>\n`;
  return md.renderer.render(tokens, md.options, env);
}

const PURIFY = {
  ALLOWED_TAGS: ["p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a", "span"],
  ALLOWED_ATTR: ["href", "target", "rel", "class", "start", "data-user"],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  RETURN_DOM_FRAGMENT: true,
};

let hooked = false;
function purify(html) {
  if (!hooked) {
    hooked = true;
    DOMPurify.addHook("afterSanitizeAttributes", (node) => {
      if (node.nodeName !== "A") return;
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", LINK_REL);
    });
  }
  return DOMPurify.sanitize(html, PURIFY);
}

/** Show `body` as rich text inside `target` (its children are replaced). */
export function renderBody(target, body, { me = null } = {}) {
  target.replaceChildren(purify(markdownToHtml(body, { me })));
}

/** The usernames `body` mentions, as the page highlights them (not in code, not in links). */
export function mentionsIn(body) {
  const names = new Set();
  const tokens = parse(body, {}) ?? [];
  for (const token of tokens) {
    for (const child of token.children ?? []) if (child.type === "mention") names.add(child.content);
  }
  return names;
}

/** The body as one line of plain text (notifications, the live region):
 * the words without the Markdown around them, at most `max` code points. */
export function plainText(body, max = 200) {
  const tokens = parse(body, {});
  let text;
  if (tokens == null) text = body;
  else {
    const parts = [];
    for (const token of tokens) {
      if (token.type === "fence") parts.push(token.content);
      for (const child of token.children ?? []) {
        if (child.type === "text" || child.type === "code_inline") parts.push(child.content);
        else if (child.type === "mention") parts.push(`@${child.content}`);
        else if (child.type === "softbreak" || child.type === "hardbreak") parts.push(" ");
      }
      if (token.type.endsWith("_close") || token.type === "inline") parts.push(" ");
    }
    text = parts.join("");
  }
  const line = text.replace(/\s+/g, " ").trim();
  const points = [...line];
  return points.length > max ? `${points.slice(0, max - 1).join("")}…` : line;
}
