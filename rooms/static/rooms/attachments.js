// Files shared in a room (docs/ui.md, "Attachments"), DOM-free. A file
// dropped, pasted or picked is staged for the composer's next message and
// uploaded at once (POST /api/rooms/<slug>/attachments); Send sends the text
// with the ids of the files. A send whose files are not all uploaded yet
// waits in the outbox with the status "uploading" (delivery.js does not send
// it) until they are, then goes out like any other send; its files wait in
// IndexedDB meanwhile (upload-store.js), so closing the page loses nothing.
// Uploads need the server: they start when the socket is connected. A
// refused upload says the server's reason and waits for Retry.

import { gettext, interpolate, locale, ngettext } from "./i18n.js";
import { newClientId } from "./outbox.js";

// The name of a file that came without one (a pasted picture may): a
// name, as the server's (rooms/files/uploads.py), not a word to translate.
const UNNAMED = "file";

/** At most this many files go with one message (the server's limit too). */
export const MAX_FILES = 10;
// A network error while the socket is connected is tried again this many
// times, after 2 s, then 4 s; while disconnected, when the socket is back.
const NETWORK_TRIES = 3;
const NETWORK_WAIT_MS = 2000;

// Each unit's text, called where makemessages sees it.
const UNITS = [
  (size) => interpolate(gettext("%(size)s KB"), { size }),
  (size) => interpolate(gettext("%(size)s MB"), { size }),
  (size) => interpolate(gettext("%(size)s GB"), { size }),
  (size) => interpolate(gettext("%(size)s TB"), { size }),
];

/** A size for people, in the page's language: "900 bytes", "1.5 KB" ("1,5
 * KB" in German), "12 MB" (1 KB = 1024 bytes); one decimal below 10. */
export function formatSize(bytes) {
  if (!Number.isFinite(bytes) || bytes < 1024) {
    const count = Math.max(0, Math.round(bytes || 0));
    return interpolate(ngettext("%(size)s byte", "%(size)s bytes", count), { size: count });
  }
  let value = bytes / 1024;
  let unit = 0;
  while (unit < UNITS.length - 1 && value >= 1023.95) {
    value /= 1024;
    unit += 1;
  }
  // Without a page (node's tests), English digits rather than the runtime's.
  const digits = new Intl.NumberFormat(locale() ?? "en", { maximumFractionDigits: value < 9.95 ? 1 : 0 });
  return UNITS[unit](digits.format(value));
}

/** `width` × `height` scaled down (never up) to fit `maxWidth` × `maxHeight`,
 * in whole pixels, at least 1. */
export function fitWithin(width, height, maxWidth, maxHeight) {
  const scale = Math.min(1, maxWidth / width, maxHeight / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** What stands for a message's files where its text is shown alone (a
 * quote, a notification) and it has none: "📎 a.png, b.pdf", or "". */
export function filesText(message) {
  const names = (message.attachments ?? []).map((attachment) => attachment.name);
  return names.length && !message.deleted ? `📎 ${names.join(", ")}` : "";
}

/** Whether an attachment shows as a picture: the server made a thumbnail
 * and knows its size (so the page can reserve its box). */
export const isImage = (attachment) =>
  Boolean(attachment.thumbnail_url && attachment.width > 0 && attachment.height > 0);

/** What an upload's answer means: {attachment}, {network: true} (no answer
 * at all), or {error, code}: the server's message, or one for its status. */
export function uploadOutcome(status, body) {
  if (status === 201 && body?.attachment?.id != null) return { attachment: body.attachment };
  if (!status) return { network: true };
  const error = body?.error;
  let message = typeof error?.message === "string" && error.message ? error.message : null;
  if (!message && status === 413) message = gettext("The file is too large.");
  if (!message && status === 429) message = gettext("Too many uploads: try again in a moment.");
  message ??= interpolate(gettext("Upload failed (HTTP %(status)s)."), { status });
  return { error: message, code: error?.code ?? null };
}

/** The browser's transport: `(file, onProgress) -> {done, abort}`, where
 * `done` resolves with {status, body} (status 0: no answer) and `abort()`
 * stops the upload (`done` then resolves with {status: 0, aborted: true}). */
export function xhrTransport(url, csrfToken, XHR = globalThis.XMLHttpRequest) {
  return (file, onProgress) => {
    const xhr = new XHR();
    const done = new Promise((resolve) => {
      xhr.open("POST", url);
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.responseType = "json";
      xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
      xhr.onload = () => resolve({ status: xhr.status, body: xhr.response });
      xhr.onerror = () => resolve({ status: 0 });
      xhr.ontimeout = () => resolve({ status: 0 });
      xhr.onabort = () => resolve({ status: 0, aborted: true });
      const form = new FormData();
      form.append("file", file, file.name || UNNAMED);
      xhr.send(form);
    });
    return { done, abort: () => xhr.abort() };
  };
}

/** What the upload store keeps of a record (a File survives in IndexedDB). */
const stored = ({ key, room, owner, file, name, size, type, attachment, error }) => ({
  key,
  room,
  owner,
  file,
  name,
  size,
  type,
  attachment,
  error,
});

/** What an outbox item says of its files, for the page that did not upload them. */
const describe = ({ key, name, size, type }) => ({ key, name, size, type });

/**
 * The files of room `slug`: those staged for the next message (owner null)
 * and those of sends waiting for them (owner: the send's client_id). Each
 * record: {key, name, size, type, file, owner, state ("waiting",
 * "uploading", "done", "failed"), loaded, attachment, error}.
 *
 * `client` is the RoomsClient; `transport(file, onProgress)` uploads
 * (xhrTransport); `store` keeps the files of waiting sends ({put, delete,
 * all}, promises: upload-store.js); `locks` (navigator.locks, optional)
 * keeps two tabs from uploading one send's files twice; `maxBytes` (or
 * null) refuses larger files without trying; `onChange()` after every change.
 */
export class Uploads {
  constructor({ slug, client, transport, store, locks = null, timers = globalThis, maxBytes = null, onChange }) {
    Object.assign(this, { slug, client, transport, store, locks, timers, maxBytes });
    this.onChange = onChange ?? (() => {});
    this.records = new Map(); // key -> record, in the order staged
    this.inflight = new Map(); // key -> the transport's {abort}
    this.holds = new Map(); // owner -> releases its lock
  }

  all() {
    return [...this.records.values()];
  }

  /** The files staged for the next message. */
  staged() {
    return this.all().filter((record) => record.owner == null);
  }

  /** The files of the send `clientId` this page is uploading. */
  of(clientId) {
    return this.all().filter((record) => record.owner === clientId);
  }

  /** Stage `files` (a FileList or array) for the next message; returns how
   * many were left out (over MAX_FILES). */
  stage(files) {
    const list = [...files];
    const taken = list.slice(0, Math.max(0, MAX_FILES - this.staged().length));
    for (const file of taken) {
      const record = {
        key: newClientId(),
        room: this.slug,
        owner: null,
        file,
        name: file.name || UNNAMED,
        size: file.size,
        type: file.type || "",
        state: "waiting",
        loaded: 0,
        attachment: null,
        error: null,
        tries: 0,
      };
      if (this.maxBytes != null && file.size > this.maxBytes) {
        const error = interpolate(gettext("The file is larger than %(limit)s."), { limit: formatSize(this.maxBytes) });
        Object.assign(record, { state: "failed", error });
      }
      this.records.set(record.key, record);
      this.start(record);
    }
    this.onChange();
    return list.length - taken.length;
  }

  /** Upload `record` if it waits and the server is reachable. */
  start(record) {
    if (this.records.get(record.key) !== record || record.state !== "waiting") return;
    if (this.client.state !== "connected") return; // connected() starts it
    Object.assign(record, { state: "uploading", loaded: 0, error: null });
    const upload = this.transport(record.file, (loaded, total) => {
      record.loaded = Math.min(loaded, total || record.size);
      this.onChange();
    });
    this.inflight.set(record.key, upload);
    upload.done.then(
      (answer) => this.answered(record, answer),
      () => this.answered(record, { status: 0 }),
    );
  }

  answered(record, answer) {
    this.inflight.delete(record.key);
    if (this.records.get(record.key) !== record || answer.aborted) return; // cancelled
    const outcome = uploadOutcome(answer.status, answer.body);
    if (outcome.attachment) {
      Object.assign(record, { state: "done", loaded: record.size, attachment: outcome.attachment });
    } else if (outcome.network) {
      record.tries += 1;
      const connected = this.client.state === "connected";
      if (connected && record.tries >= NETWORK_TRIES) {
        Object.assign(record, { state: "failed", error: gettext("Could not reach the server.") });
      } else {
        Object.assign(record, { state: "waiting", loaded: 0 });
        if (connected) this.timers.setTimeout(() => this.start(record), NETWORK_WAIT_MS * record.tries);
      }
    } else {
      Object.assign(record, { state: "failed", error: outcome.error });
    }
    if (record.owner != null && record.state !== "waiting") this.store.put(stored(record));
    this.settle(record.owner);
  }

  /** The socket is connected: start what waited for the server. */
  connected() {
    for (const record of this.all()) this.start(record);
  }

  /** Send `body` (a reply to `replyTo`, or null) with the staged files;
   * returns the outbox item. */
  send(body, { replyTo = null } = {}) {
    const files = this.staged();
    if (!files.length) return this.client.send(this.slug, body, { replyTo });
    const options = { replyTo, files: files.map(describe) };
    if (files.every((record) => record.state === "done")) {
      for (const record of files) this.records.delete(record.key);
      this.onChange();
      const attachments = files.map((record) => record.attachment.id);
      return this.client.send(this.slug, body, { ...options, attachments });
    }
    const item = this.client.send(this.slug, body, { ...options, uploading: true });
    for (const record of files) {
      record.owner = item.client_id;
      this.store.put(stored(record));
    }
    this.hold(item.client_id);
    this.settle(item.client_id);
    return item;
  }

  /** After a change of send `owner`'s files: failed if one failed, sent
   * with their ids once all are uploaded, else still uploading. */
  settle(owner) {
    if (owner != null) {
      const files = this.of(owner);
      const failed = files.find((record) => record.state === "failed");
      if (failed) {
        const error = interpolate(gettext("%(name)s: %(error)s"), { name: failed.name, error: failed.error });
        this.client.updateSend(owner, { status: "failed", error });
      } else if (files.every((record) => record.state === "done")) {
        const attachments = files.map((record) => record.attachment.id);
        this.forget(owner);
        this.client.updateSend(owner, { status: "pending", error: null, attachments });
      }
    }
    this.onChange();
  }

  /** Upload a failed file again. */
  retry(key) {
    const record = this.records.get(key);
    if (!record || record.state !== "failed") return;
    Object.assign(record, { state: "waiting", error: null, tries: 0, loaded: 0 });
    if (record.owner != null) this.client.updateSend(record.owner, { status: "uploading", error: null });
    this.start(record);
    this.onChange();
  }

  /** The page's Retry of send `clientId`: its failed files, or (none
   * failed: the server refused the message itself) the send. */
  retryMessage(clientId) {
    const failed = this.of(clientId).filter((record) => record.state === "failed");
    if (!failed.length) this.client.retry(clientId);
    for (const record of failed) this.retry(record.key);
  }

  /** Cancel an upload: the file leaves the draft, or the send it was part
   * of (which goes without it, or is discarded when nothing is left). */
  cancel(key) {
    const record = this.records.get(key);
    if (!record) return;
    this.drop(record);
    const owner = record.owner;
    const item = owner == null ? null : this.client.outbox.get(owner);
    const files = (item?.files ?? []).filter((file) => file.key !== key);
    if (owner == null) {
      this.onChange();
    } else if (!item || (!files.length && !item.body.trim())) {
      this.discardMessage(owner);
    } else {
      this.client.updateSend(owner, { files });
      this.settle(owner);
    }
  }

  /** The page's Discard of send `clientId`, with its files. */
  discardMessage(clientId) {
    for (const record of this.of(clientId)) this.drop(record);
    this.forget(clientId);
    this.client.discard(clientId);
    this.onChange();
  }

  drop(record) {
    this.inflight.get(record.key)?.abort();
    this.inflight.delete(record.key);
    this.records.delete(record.key);
    if (record.owner != null) this.store.delete(record.key);
  }

  /** Send `owner` needs its files no more: out of the store, its lock let go. */
  forget(owner) {
    for (const record of this.of(owner)) {
      this.records.delete(record.key);
      this.store.delete(record.key);
    }
    this.holds.get(owner)?.();
    this.holds.delete(owner);
  }

  /** Hold send `owner`'s lock until its files are done or it is discarded;
   * `then()` runs once this page holds it. */
  hold(owner, then = () => {}) {
    if (!this.locks) return then();
    const held = new Promise((resolve) => this.holds.set(owner, resolve));
    this.locks.request(`rooms.upload:${owner}`, () => (then(), held)).catch(() => {});
  }

  /** Send `owner` waits for files this browser did not keep (no IndexedDB,
   * and the page that had them closed): unless a tab still uploads them
   * (it holds the lock), the send fails, and Retry sends its text alone. */
  lost(owner) {
    const fail = () => {
      if (this.client.outbox.get(owner)?.status !== "uploading") return;
      const error = gettext("its files were not kept in this browser; Retry sends the text alone.");
      this.client.updateSend(owner, { status: "failed", files: [], error });
    };
    if (!this.locks) return fail();
    this.locks.request(`rooms.upload:${owner}`, { ifAvailable: true }, (lock) => lock && fail()).catch(() => {});
  }

  /** After a reload: take up the files of this room's sends still waiting
   * for them (another tab may be at it: the lock waits for that tab), and
   * drop those of sends that went or were discarded meanwhile. */
  async resume() {
    let saved = [];
    try {
      saved = (await this.store.all()).filter((entry) => entry.room === this.slug);
    } catch {
      return; // nothing kept
    }
    const owners = new Map();
    for (const entry of saved) owners.set(entry.owner, [...(owners.get(entry.owner) ?? []), entry]);
    // Sends made on this page meanwhile are this page's already.
    const mine = (owner) => this.of(owner).length > 0;
    for (const item of this.client.outbox.forRoom(this.slug)) {
      const id = item.client_id;
      if (item.status === "uploading" && !owners.has(id) && !mine(id)) this.lost(id);
    }
    for (const [owner, entries] of owners) {
      if (mine(owner)) continue;
      const waiting = () => ["uploading", "failed"].includes(this.client.outbox.get(owner)?.status);
      if (!waiting()) {
        for (const entry of entries) this.store.delete(entry.key);
        continue;
      }
      this.hold(owner, () => {
        if (!waiting()) {
          // The other tab sent it.
          for (const entry of entries) this.store.delete(entry.key);
          return this.forget(owner);
        }
        for (const entry of entries) {
          const state = entry.attachment ? "done" : entry.error ? "failed" : "waiting";
          this.records.set(entry.key, { ...entry, state, loaded: 0, tries: 0 });
        }
        for (const record of this.of(owner)) this.start(record);
        this.settle(owner);
      });
    }
  }
}
