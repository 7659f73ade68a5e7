// The outbox of the protocol client: sends not yet acknowledged, kept in
// storage (localStorage in browsers) so they survive a reload and are re-sent
// with their original client_id (PROTOCOL.md, G4). See client.js.

export const OUTBOX_VERSION = 1;

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
