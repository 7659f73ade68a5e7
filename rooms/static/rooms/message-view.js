// One message on the room page: author, time, reply quote, body (or the
// "message deleted" placeholder), "(edited)", reaction chips, and the action
// buttons. Built once per message and updated in place from the client's view
// of it (client.message()), so focus stays where it is; and a send still in
// the outbox. Rendering only: what the buttons do is the page's
// (room-page.js). Names and other text go in with textContent; the body is
// rich text through render.js (markdown-it, then DOMPurify).

import { avatar, button, el, formatFull, formatWhen } from "./dom.js";
import { gettext, interpolate } from "./i18n.js";
import { plainText, renderBody } from "./render.js";
import { snippet } from "./room-log.js";
import { personName } from "./direct.js";
import { renderAttachments } from "./attachment-view.js";
import { filesText } from "./attachments.js";

/** A quote's text: the original's words without their Markdown. */
const quoteText = (message) =>
  message.deleted ? snippet(message) : plainText(message.body, 120) || filesText(message);

// The body each item shows, so a reaction or an edit mark does not parse it again.
const renderedBody = new WeakMap();


/** What the user may do with `message`, given `page` = {me, canModerate, readOnly}. */
export function allowedActions(message, page) {
  const open = !message.deleted && !page.readOnly;
  const mine = message.author != null && message.author === page.me;
  return {
    react: open && message.kind === "text",
    reply: open,
    edit: open && mine && message.kind === "text",
    delete: open && (mine || page.canModerate),
  };
}

/**
 * A new <li> for `message`. `page` = {me, canModerate, readOnly}; `on` holds
 * the handlers: react(seq, anchor), reply(seq), edit(seq), delete(seq),
 * toggleReaction(seq, emoji, on), jump(seq).
 */
export function messageItem(message, page, on) {
  const system = message.kind === "system";
  const item = el("li", "msg");
  item.dataset.seq = String(message.seq);
  item.dataset.author = message.author ?? "";
  item.dataset.at = message.created_at;
  if (system) item.classList.add("msg--system");
  if (message.author != null && message.author === page.me) item.classList.add("msg--mine");
  if (!system) item.append(avatar(message.author ?? "?"));

  const main = el("div", "msg-main");
  const meta = el("div", "msg-meta");
  // Another person's name offers a direct message (direct.js).
  if (!system) meta.append(personName("msg-author", message.author, page.me));
  const time = el("time", "msg-time", formatWhen(message.created_at));
  time.dateTime = message.created_at;
  time.title = formatFull(message.created_at);
  meta.append(time);

  const quote = button("msg-quote");
  quote.hidden = true;
  quote.append(el("span", "sr-only", `${gettext("In reply to")} `), el("span", "msg-quote-author"), el("span", "msg-quote-text"));
  quote.addEventListener("click", () => on.jump(Number(quote.dataset.seq)));

  const content = el("div", "msg-content");
  const edited = el("span", "msg-edited", gettext("(edited)"));
  edited.hidden = true;
  edited.append(el("span", "sr-only msg-edited-when"));
  content.append(el("div", "msg-body"), " ", edited, el("span", "msg-unsent"));
  const attachments = el("div", "msg-attachments");
  attachments.setAttribute("role", "group");
  attachments.setAttribute("aria-label", gettext("Attachments"));

  const reactions = el("div", "msg-reactions");
  reactions.setAttribute("role", "group");
  reactions.setAttribute("aria-label", gettext("Reactions"));
  main.append(meta, quote, content, attachments, reactions);

  const seq = message.seq;
  const tools = el("div", "msg-tools");
  tools.setAttribute("role", "group");
  tools.setAttribute("aria-label", gettext("Message actions"));
  const react = button("tool tool--react", "☺", gettext("Add reaction"));
  react.addEventListener("click", () => on.react(seq, react));
  const reply = button("tool tool--reply", "↩", gettext("Reply"));
  reply.addEventListener("click", () => on.reply(seq));
  const edit = button("tool tool--edit", "✎", gettext("Edit"));
  edit.addEventListener("click", () => on.edit(seq));
  const remove = button("tool tool--delete", "🗑", gettext("Delete"));
  remove.addEventListener("click", () => on.delete(seq));
  tools.append(react, reply, edit, remove);

  reactions.addEventListener("click", (event) => {
    const chip = event.target.closest(".reaction");
    if (!chip) return;
    if (chip.classList.contains("reaction--add")) on.react(seq, chip);
    else on.toggleReaction(seq, chip.dataset.emoji, chip.getAttribute("aria-pressed") !== "true");
  });

  item.append(main, tools);
  renderMessage(item, message, page);
  return item;
}

/** Bring `item` up to date with `message` (a view from client.message()). */
export function renderMessage(item, message, page) {
  const pending = message.pending ?? { edit: false, delete: false, reactions: [] };
  item.classList.toggle("msg--deleted", message.deleted);
  item.classList.toggle("msg--edited", Boolean(message.edited_at) && !message.deleted);
  const body = item.querySelector(".msg-body");
  const shownBody = message.deleted ? null : message.body ?? "";
  if (renderedBody.get(item) !== shownBody) {
    renderedBody.set(item, shownBody);
    if (shownBody == null) body.textContent = gettext("message deleted");
    else renderBody(body, shownBody, { me: page.me });
  }
  item.classList.toggle("msg--mentions-me", body.querySelector(".mention--me") != null);
  renderAttachments(item, message);

  const edited = item.querySelector(".msg-edited");
  edited.hidden = !message.edited_at || message.deleted;
  if (message.edited_at) {
    const when = formatFull(message.edited_at);
    edited.title = interpolate(gettext("Edited %(when)s"), { when });
    edited.querySelector(".msg-edited-when").textContent = ` ${when}`;
  }
  const unsent = pending.edit || pending.delete || pending.reactions.length > 0;
  item.classList.toggle("msg--unsent", unsent);
  item.querySelector(".msg-unsent").textContent = unsent ? ` · ${gettext("not saved yet")}` : "";

  renderReactions(item, message, page, pending);
  const allowed = allowedActions(message, page);
  for (const action of ["react", "reply", "edit", "delete"]) {
    item.querySelector(`.tool--${action}`).hidden = !allowed[action];
  }
  item.querySelector(".msg-tools").hidden = !Object.values(allowed).some(Boolean);
}

/** The chips: one per emoji, in the order the message lists them; an
 * existing chip is kept (and so keeps focus) when its count changes. */
function renderReactions(item, message, page, pending) {
  const row = item.querySelector(".msg-reactions");
  const chips = new Map([...row.querySelectorAll(".reaction[data-emoji]")].map((chip) => [chip.dataset.emoji, chip]));
  const wanted = [];
  const canReact = allowedActions(message, page).react;
  for (const [emoji, users] of Object.entries(message.reactions)) {
    let chip = chips.get(emoji);
    if (!chip) {
      chip = button("reaction");
      chip.dataset.emoji = emoji;
      chip.append(el("span", "reaction-emoji"), el("span", "reaction-count"));
    }
    chip.querySelector(".reaction-emoji").textContent = emoji;
    chip.querySelector(".reaction-count").textContent = String(users.length);
    chip.setAttribute("aria-pressed", String(users.includes(page.me)));
    chip.title = interpolate(gettext("%(names)s reacted with %(emoji)s"), { names: users.join(", "), emoji });
    chip.disabled = !canReact;
    chip.classList.toggle("reaction--pending", pending.reactions.includes(emoji));
    wanted.push(chip);
  }
  if (wanted.length && canReact) {
    const add = row.querySelector(".reaction--add") ?? button("reaction reaction--add", "+", gettext("Add another reaction"));
    wanted.push(add);
  }
  const focused = row.contains(document.activeElement) ? document.activeElement : null;
  row.replaceChildren(...wanted);
  if (focused && focused.isConnected) focused.focus();
  row.hidden = wanted.length === 0;
}

/** Show, in `item`, which message it replies to (`original` may be null:
 * not loaded yet). */
export function renderQuote(item, replyTo, original) {
  const quote = item.querySelector(".msg-quote");
  quote.hidden = replyTo == null || item.classList.contains("msg--deleted");
  if (replyTo == null) return;
  quote.dataset.seq = String(replyTo);
  quote.title = gettext("Go to the original message");
  quote.querySelector(".msg-quote-author").textContent = original ? `${original.author ?? gettext("System")}:` : "";
  quote.querySelector(".msg-quote-text").textContent = original ? quoteText(original) : gettext("an earlier message");
  quote.classList.toggle("msg-quote--deleted", Boolean(original?.deleted));
}

/**
 * A send still in the outbox (below the list until its message arrives):
 * "Waiting for connection…", "Uploading…", "Sending…", "Sent", or "Not
 * sent: …" with Retry and Discard. `options` = {me, connected, original
 * (the message it replies to, if held), files (the list of its files, or
 * null), retry(), discard()}.
 */
export function pendingItem(item, { me, connected, original, files, retry, discard }) {
  const row = el("li", "msg msg--mine msg--pending");
  row.dataset.clientId = item.client_id;
  row.append(avatar(me));
  const main = el("div", "msg-main");
  const meta = el("div", "msg-meta");
  meta.append(el("span", "msg-author", me));
  let status = connected ? gettext("Sending…") : gettext("Waiting for connection…");
  if (item.status === "failed") status = interpolate(gettext("Not sent: %(error)s"), { error: item.error || gettext("error") });
  else if (item.status === "sent") status = gettext("Sent");
  else if (item.status === "uploading" && connected) status = gettext("Uploading…");
  meta.append(el("span", "msg-status", status));
  main.append(meta);
  if (item.reply_to != null) {
    const quote = el("div", "msg-quote");
    quote.append(
      el("span", "sr-only", `${gettext("In reply to")} `),
      el("span", "msg-quote-author", original ? `${original.author ?? gettext("System")}:` : ""),
      el("span", "msg-quote-text", original ? quoteText(original) : gettext("an earlier message")),
    );
    main.append(quote);
  }
  if (item.body) main.append(el("p", "msg-body", item.body));
  if (files) main.append(files);
  if (item.status === "failed") {
    row.classList.add("msg--failed");
    const actions = el("div", "msg-actions");
    const retryButton = el("button", "button button--small", gettext("Retry"));
    retryButton.type = "button";
    retryButton.addEventListener("click", retry);
    const discardButton = el("button", "button button--small button--ghost", gettext("Discard"));
    discardButton.type = "button";
    discardButton.addEventListener("click", discard);
    actions.append(retryButton, discardButton);
    main.append(actions);
  }
  row.append(main);
  return row;
}
