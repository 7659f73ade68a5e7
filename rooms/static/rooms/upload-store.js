// Where the files of sends waiting for their uploads are kept (attachments.js):
// IndexedDB, which stores a File as it is, so a message with files made
// offline survives closing the page as its text does in the outbox
// (localStorage holds strings only, and a few MB at most). One database per
// user. Without IndexedDB (disabled, private modes that refuse it, quota
// exceeded) the files are kept in memory: they then wait only as long as
// the page stays open.

const STORE = "files";

/** The memory store: the same interface, for this page only. */
export function memoryUploadStore() {
  const records = new Map();
  return {
    put: async (record) => void records.set(record.key, record),
    delete: async (key) => void records.delete(key),
    all: async () => [...records.values()],
  };
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** The store of `user`'s waiting files: {put(record), delete(key), all()},
 * each a promise that never rejects but for all(). `indexedDB` is the
 * browser's factory (or null). */
export function uploadStore(user, indexedDB = globalThis.indexedDB) {
  const memory = memoryUploadStore();
  let opened = null;
  const open = () => {
    if (!opened) {
      opened = new Promise((resolve, reject) => {
        if (!indexedDB) return reject(new Error("no IndexedDB"));
        const req = indexedDB.open(`rooms.uploads:${user}`, 1);
        req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "key" });
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
        req.onblocked = () => reject(new Error("IndexedDB blocked"));
      });
    }
    return opened;
  };
  /** `work(objectStore)` in a transaction; when IndexedDB fails, `fallback()`. */
  const run = async (mode, work, fallback) => {
    try {
      const db = await open();
      const transaction = db.transaction(STORE, mode);
      const result = await request(work(transaction.objectStore(STORE)));
      return result;
    } catch {
      return fallback();
    }
  };
  return {
    put: (record) => run("readwrite", (files) => files.put(record), () => memory.put(record)),
    delete: (key) =>
      Promise.all([memory.delete(key), run("readwrite", (files) => files.delete(key), () => undefined)]),
    all: async () => {
      const kept = await run("readonly", (files) => files.getAll(), () => []);
      return [...kept, ...(await memory.all())];
    },
  };
}
