// The outbox of the protocol client: sends and changes (edit, delete, react)
// not yet acknowledged, kept in storage (localStorage in browsers) so they
// survive a reload and are re-sent with their original client_id
// (docs/protocol.md, G4). See client.js.

// Items written before protocol 2 have no `action`: they are sends, so the
// version stays and an upgrade loses nothing a user typed.
export const OUTBOX_VERSION = 1;

/** What an outbox item asks for: "send", "edit", "delete" or "react". */
export const actionOf = (item) => item.action ?? "send";

/** The frame that (re-)sends an item; its ref is its client_id. */
export function outboxFrame(item) {
  const { room, client_id } = item;
  const base = { room, client_id, ref: client_id };
  switch (actionOf(item)) {
    case "edit":
      return { type: "edit", ...base, seq: item.seq, body: item.body };
    case "delete":
      return { type: "delete", ...base, seq: item.seq };
    case "react":
      return { type: "react", ...base, seq: item.seq, emoji: item.emoji, on: item.on };
    default: {
      const frame = { type: "send", ...base, body: item.body };
      if (item.reply_to != null) frame.reply_to = item.reply_to;
      if (item.attachments?.length) frame.attachments = item.attachments;
      return frame;
    }
  }
}

/** The change entry an unacknowledged change item will become (as far as
 * this client can tell), to show it before the server has stored it. */
export function outboxChange(item, author) {
  const kind = { edit: "edit", delete: "delete", react: "reaction" }[actionOf(item)];
  if (!kind) return null;
  const created_at = new Date(item.at ?? Date.now()).toISOString();
  return { kind, target: item.seq, author, created_at, body: item.body, emoji: item.emoji, on: item.on };
}

/**
 * Whether the change item `later`, made after `earlier`, makes `earlier`
 * pointless: a later edit of the same message replaces an earlier edit, a
 * later reaction with the same emoji an earlier one, and a deletion every
 * earlier change of that message. An earlier change that a retry would store
 * *after* the later one would undo it, so the client drops it instead (G4
 * makes resending safe, not reordering). Sends are never superseded.
 */
export function supersedes(later, earlier) {
  if (later.room !== earlier.room || later.seq == null || later.seq !== earlier.seq) return false;
  const [newer, older] = [actionOf(later), actionOf(earlier)];
  if (older === "send" || newer === "send") return false;
  if (newer === "delete") return true;
  if (newer === "edit") return older === "edit";
  return newer === "react" && older === "react" && later.emoji === earlier.emoji;
}

/** A client_id unique enough for one user in one room. */
export function newClientId(random = Math.random) {
  const part = () => Math.floor(random() * 2 ** 32).toString(36);
  return `c-${Date.now().toString(36)}-${part()}${part()}`;
}

/** The outbox: unacknowledged sends, kept in storage under one key. Every
 * operation reads and writes storage, so two tabs of one user share it. */
export class Outbox {
  constructor(storage, key) {
    this.storage = storage;
    this.key = key;
  }

  all() {
    if (this.memory) return this.memory; // no usable storage: this page only
    if (!this.storage) return [];
    try {
      const saved = JSON.parse(this.storage.getItem(this.key) || "null");
      return saved?.version === OUTBOX_VERSION && Array.isArray(saved.items) ? saved.items : [];
    } catch {
      return []; // a corrupt entry must not break the page
    }
  }

  save(items) {
    if (this.memory || !this.storage) {
      this.memory = items;
      return;
    }
    try {
      this.storage.setItem(this.key, JSON.stringify({ version: OUTBOX_VERSION, items }));
    } catch {
      this.memory = items; // quota exceeded or storage disabled: keep going in memory
    }
  }

  forRoom(room) {
    return this.all().filter((item) => item.room === room);
  }

  get(clientId) {
    return this.all().find((item) => item.client_id === clientId);
  }

  add(item) {
    this.save([...this.all().filter((each) => each.client_id !== item.client_id), item]);
  }

  update(clientId, changes) {
    this.save(this.all().map((item) => (item.client_id === clientId ? { ...item, ...changes } : item)));
  }

  remove(clientId) {
    const items = this.all();
    const kept = items.filter((item) => item.client_id !== clientId);
    if (kept.length !== items.length) this.save(kept);
    return kept.length !== items.length;
  }
}
