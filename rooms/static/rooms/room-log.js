// A room's log as a client holds it (docs/protocol.md, version 2). Messages
// (`text`, `system`) arrive in their current state; changes (`edit`,
// `delete`, `reaction`) are idempotent assignments to the message with seq
// `target`. The functions say what applying a change means; RoomLog keeps one
// room's messages, its stream position and this user's changes in flight.
// DOM-free and socket-free: the client (client.js) drives it.

import { gettext } from "./i18n.js";
import { outboxChange } from "./outbox.js";
import { filesText } from "./attachments.js";

export const MESSAGE_KINDS = new Set(["text", "system"]);
export const CHANGE_KINDS = new Set(["edit", "delete", "reaction"]);

export const isMessage = (entry) => MESSAGE_KINDS.has(entry.kind ?? "text");
export const isChange = (entry) => CHANGE_KINDS.has(entry.kind);

/** Compare by Unicode code points, as the server's sorted() does (a plain
 * sort() compares UTF-16 units, which differs beyond the BMP). */
export function byCodePoint(a, b) {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const diff = left[i].codePointAt(0) - right[i].codePointAt(0);
    if (diff) return diff;
  }
  return left.length - right.length;
}

/** A message in the shape every renderer may rely on: the protocol's fields,
 * with defaults for what an older server leaves out, and its own copies of
 * the reaction lists. */
export function messageState(entry) {
  const reactions = {};
  for (const [emoji, users] of Object.entries(entry.reactions ?? {})) {
    if (users.length) reactions[emoji] = [...users];
  }
  return {
    ...entry,
    kind: entry.kind ?? "text",
    reply_to: entry.reply_to ?? null,
    edited_at: entry.edited_at ?? null,
    deleted: Boolean(entry.deleted),
    body: entry.deleted ? "" : entry.body,
    reactions,
  };
}

/** `message` with `change` applied: a new object, or `message` itself when
 * the change does not apply (a deleted message ignores edits and reactions)
 * or is already part of it. */
export function applyChange(message, change) {
  if (message.deleted) return message;
  if (change.kind === "delete") {
    return { ...message, deleted: true, body: "", reactions: {} };
  }
  if (change.kind === "edit") {
    if (message.body === change.body && message.edited_at === change.created_at) return message;
    return { ...message, body: change.body, edited_at: change.created_at };
  }
  if (change.kind === "reaction") {
    const users = message.reactions[change.emoji] ?? [];
    const holds = users.includes(change.author);
    const on = change.on !== false;
    if (holds === on) return message;
    const next = on ? [...users, change.author].sort(byCodePoint) : users.filter((user) => user !== change.author);
    const reactions = { ...message.reactions, [change.emoji]: next };
    if (next.length === 0) delete reactions[change.emoji];
    return { ...message, reactions };
  }
  return message;
}

/** A short one-line excerpt of a message, for reply quotes. */
export function snippet(message, length = 120) {
  if (message.deleted) return gettext("message deleted");
  const line = message.body.replace(/\s+/g, " ").trim() || filesText(message);
  const points = [...line];
  return points.length > length ? `${points.slice(0, length - 1).join("")}…` : line;
}

/** One joined room: the stream position, the messages held, and this user's
 * changes that are stored but whose entries have not arrived yet. */
export class RoomLog {
  constructor(options = {}) {
    this.options = options; // the first join's {since, limit, ...}
    this.lastSeq = null; // the last seq received, message or change
    this.joined = false;
    this.lastRead = 0;
    this.suspectHead = null;
    this.messages = new Map(); // seq -> message in its current state
    this.acked = []; // {seq, target, ...change}: acked, not yet received
    this.historyRequests = 0;
    this.orphans = []; // changes to messages not held, while history is on its way
  }

  /** Entries with seq > lastSeq, in order (the rest are duplicates), and
   * whether a gap stopped the reading (G2 rules it out; the caller re-joins). */
  accept(entries) {
    const fresh = [];
    for (const entry of entries) {
      if (this.lastSeq != null && entry.seq <= this.lastSeq) continue;
      if (this.lastSeq != null && entry.seq > this.lastSeq + 1) return { fresh, gap: true };
      this.lastSeq = entry.seq;
      fresh.push(entry);
    }
    return { fresh, gap: false };
  }

  /** Take in accepted entries: new messages are held, changes applied.
   * Returns the seqs of messages added and of held messages that changed. */
  take(entries) {
    const added = [];
    const changed = new Set();
    for (const entry of entries) {
      if (isMessage(entry)) {
        // A message held already (a re-join from an older since) comes in its
        // current state: it replaces ours.
        if (this.messages.has(entry.seq)) changed.add(entry.seq);
        else added.push(entry.seq);
        this.messages.set(entry.seq, messageState(entry));
      } else if (isChange(entry)) {
        if (this.messages.has(entry.target)) {
          if (this.apply(entry)) changed.add(entry.target);
        } else if (this.historyRequests > 0) {
          this.orphans.push(entry);
        }
      }
    }
    for (const target of this.settle()) changed.add(target);
    for (const seq of added) changed.delete(seq);
    return { added, changed };
  }

  /** Apply a change to the message it targets; true if that changed it. */
  apply(change) {
    const held = this.messages.get(change.target);
    if (!held) return false;
    const next = applyChange(held, change);
    this.messages.set(change.target, next);
    return next !== held;
  }

  /** A change of this user was stored as `seq`: keep showing it until the
   * stream reaches it. */
  acknowledge(change, seq) {
    if (seq > (this.lastSeq ?? 0)) this.acked.push({ ...change, seq });
  }

  /** Forget acked changes the stream has reached; returns their targets. */
  settle() {
    const reached = (change) => this.lastSeq != null && change.seq <= this.lastSeq;
    const settled = this.acked.filter(reached);
    if (settled.length) this.acked = this.acked.filter((change) => !reached(change));
    return settled.map((change) => change.target);
  }

  /** Hold the messages of a history page; returns their seqs. */
  holdHistory(entries) {
    const seqs = [];
    const added = new Set();
    for (const entry of entries) {
      if (!isMessage(entry)) continue;
      seqs.push(entry.seq);
      if (this.messages.has(entry.seq)) continue; // the stream's copy is as new
      this.messages.set(entry.seq, messageState(entry));
      added.add(entry.seq);
    }
    // The page may have been read before changes that arrived while it was
    // on its way (ignored then, their targets were not held): apply them now,
    // in order; for the ones the page already shows that changes nothing.
    for (const change of this.orphans) if (added.has(change.target)) this.apply(change);
    return seqs;
  }

  historyStarted() {
    this.historyRequests += 1;
  }

  historyDone() {
    if (this.historyRequests === 0) return;
    this.historyRequests -= 1;
    if (this.historyRequests === 0) this.orphans = [];
  }

  /**
   * Message `seq` as a page should show it, or null when not held: the
   * server's state, then this user's acked changes not yet received, then
   * the changes still in the outbox (`outboxItems`, in order). `pending`
   * says what is not stored yet: {edit, delete, reactions: [emoji]}, or null.
   */
  view(seq, outboxItems, user) {
    let view = this.messages.get(seq);
    if (!view) return null;
    for (const change of this.acked) if (change.target === seq) view = applyChange(view, change);
    let pending = null;
    for (const item of outboxItems) {
      const change = item.seq === seq ? outboxChange(item, user) : null;
      if (!change) continue;
      view = applyChange(view, change);
      pending ??= { edit: false, delete: false, reactions: [] };
      if (change.kind === "reaction") pending.reactions.push(change.emoji);
      else pending[change.kind] = true;
    }
    return { ...view, reactions: { ...view.reactions }, pending };
  }

  /** The seqs of the messages held, ascending. */
  seqs() {
    return [...this.messages.keys()].sort((a, b) => a - b);
  }
}
