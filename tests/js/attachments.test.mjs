// Files shared in a room (rooms/static/rooms/attachments.js and the
// outbox's part): sizes for people, the picture's reserved box, what an
// upload's answer means, the browser transport, and the uploads of the
// composer with the real protocol client on fakes: staged files sent with
// the message, a message made offline held in the outbox until its files are
// uploaded, the server's refusal shown and retried, cancelling, the files of
// a waiting send taken up again after a reload. `node --test tests/js/`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  MAX_FILES,
  Uploads,
  filesText,
  fitWithin,
  formatSize,
  isImage,
  uploadOutcome,
  xhrTransport,
} from "../../rooms/static/rooms/attachments.js";
import { filesOf } from "../../rooms/static/rooms/attach-composer.js";
import { fileLabel, uploadStatus } from "../../rooms/static/rooms/attachment-view.js";
import { composerState } from "../../rooms/static/rooms/composer.js";
import { outboxFrame } from "../../rooms/static/rooms/outbox.js";
import { arrivalText } from "../../rooms/static/rooms/attention.js";
import { snippet } from "../../rooms/static/rooms/room-log.js";
import { memoryUploadStore, uploadStore } from "../../rooms/static/rooms/upload-store.js";
import { MemoryStorage, connectAndJoin, message, setup } from "./fakes.mjs";

describe("sizes, boxes and answers", () => {
  test("sizes read as people expect, in steps of 1024", () => {
    const cases = [
      [0, "0 bytes"],
      [1, "1 byte"],
      [1023, "1023 bytes"],
      [1024, "1 KB"],
      [1536, "1.5 KB"],
      [10 * 1024 - 1, "10 KB"],
      [1024 * 1024 - 1, "1 MB"],
      [10_485_760, "10 MB"],
      [123_456_789, "118 MB"],
      [5 * 1024 ** 3, "5 GB"],
    ];
    for (const [bytes, text] of cases) assert.equal(formatSize(bytes), text, String(bytes));
  });

  test("sizes in the page's language: its words, plural forms and decimal comma", () => {
    globalThis.document = { documentElement: { lang: "de" } };
    globalThis.django = {
      gettext: (text) => text,
      ngettext: (singular, plural, count) =>
        singular === "%(size)s byte" ? ["%(size)s Byte", "%(size)s Bytes"][count === 1 ? 0 : 1] : plural,
    };
    try {
      assert.deepEqual(
        [1, 900, 1536, 10_485_760].map(formatSize),
        ["1 Byte", "900 Bytes", "1,5 KB", "10 MB"],
      );
    } finally {
      delete globalThis.document;
      delete globalThis.django;
    }
  });

  test("a picture's box is scaled down to fit, never up, keeping its ratio", () => {
    assert.deepEqual(fitWithin(4000, 3000, 360, 280), { width: 360, height: 270 });
    assert.deepEqual(fitWithin(1000, 4000, 360, 280), { width: 70, height: 280 });
    assert.deepEqual(fitWithin(40, 30, 360, 280), { width: 40, height: 30 });
    assert.deepEqual(fitWithin(10000, 1, 360, 280), { width: 360, height: 1 });
  });

  test("only an attachment with a thumbnail and a size shows as a picture", () => {
    const image = { thumbnail_url: "/t", width: 10, height: 20 };
    assert.equal(isImage(image), true);
    assert.equal(isImage({ ...image, thumbnail_url: null }), false);
    assert.equal(isImage({ ...image, width: null }), false);
    assert.equal(fileLabel("Report.final.pdf"), "PDF");
    assert.equal(fileLabel("README"), "FILE");
  });

  test("an upload's answer: the attachment, no answer, or the server's reason", () => {
    const attachment = { id: "a1", name: "x.png" };
    assert.deepEqual(uploadOutcome(201, { attachment }), { attachment });
    assert.deepEqual(uploadOutcome(0, null), { network: true });
    const refused = { error: { code: "too_large", message: "The file is over 10 MB." } };
    assert.deepEqual(uploadOutcome(413, refused), { error: "The file is over 10 MB.", code: "too_large" });
    // A proxy's refusal has no JSON: the status still says why.
    assert.deepEqual(uploadOutcome(413, null), { error: "The file is too large.", code: null });
    assert.match(uploadOutcome(429, null).error, /Too many uploads/);
    assert.deepEqual(uploadOutcome(502, null), { error: "Upload failed (HTTP 502).", code: null });
  });

  test("what an upload's line says", () => {
    const record = { state: "uploading", size: 2048, loaded: 1024 };
    assert.equal(uploadStatus(record, true), "2 KB · 50 %");
    assert.equal(uploadStatus({ ...record, state: "waiting" }, false), "Waiting for connection…");
    assert.equal(uploadStatus({ ...record, state: "failed", error: "Too big." }, true), "Not uploaded: Too big.");
  });
});

describe("the browser transport", () => {
  class FakeXHR {
    static last = null;
    constructor() {
      this.headers = {};
      this.upload = {};
      FakeXHR.last = this;
    }
    open(method, url) {
      Object.assign(this, { method, url });
    }
    setRequestHeader(name, value) {
      this.headers[name] = value;
    }
    send(form) {
      this.form = form;
    }
    abort() {
      this.onabort();
    }
  }

  test("posts the file as `file` with the CSRF token, reports progress, resolves with the answer", async () => {
    const progress = [];
    const send = xhrTransport("/api/rooms/lobby/attachments", () => "token-1", FakeXHR);
    const file = new File(["hello"], "hi.txt", { type: "text/plain" });
    const upload = send(file, (loaded, total) => progress.push([loaded, total]));
    const xhr = FakeXHR.last;
    assert.deepEqual([xhr.method, xhr.url, xhr.headers["X-CSRFToken"]], ["POST", "/api/rooms/lobby/attachments", "token-1"]);
    assert.equal(xhr.form.get("file").name, "hi.txt");
    xhr.upload.onprogress({ loaded: 3, total: 5, lengthComputable: true });
    Object.assign(xhr, { status: 201, response: { attachment: { id: "a1" } } });
    xhr.onload();
    assert.deepEqual(await upload.done, { status: 201, body: { attachment: { id: "a1" } } });
    assert.deepEqual(progress, [[3, 5]]);
  });

  test("abort() and a network error resolve without an answer", async () => {
    const send = xhrTransport("/u", () => "t", FakeXHR);
    const aborted = send(new File(["x"], "x"), () => {});
    aborted.abort();
    assert.deepEqual(await aborted.done, { status: 0, aborted: true });
    const lost = send(new File(["x"], "x"), () => {});
    FakeXHR.last.onerror();
    assert.deepEqual(await lost.done, { status: 0 });
  });
});

/** A transport the test answers: `calls` holds each upload's file,
 * progress callback, answer(status, body) and whether it was aborted. */
function fakeTransport() {
  const calls = [];
  const transport = (file, onProgress) => {
    let resolve;
    const done = new Promise((ok) => (resolve = ok));
    const call = { file, onProgress, aborted: false, answer: (status, body) => resolve({ status, body }) };
    calls.push(call);
    return {
      done,
      abort: () => {
        call.aborted = true;
        resolve({ status: 0, aborted: true });
      },
    };
  };
  return { transport, calls };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const png = (name = "shot.png", size = 4) => new File([new Uint8Array(size)], name, { type: "image/png" });
const stored = (id, name = "shot.png") => ({ attachment: { id, name, url: `/f/${id}`, size: 4 } });

function uploadsOn(ctx, options = {}) {
  const fake = fakeTransport();
  const store = options.store ?? memoryUploadStore();
  let changes = 0;
  const uploads = new Uploads({
    slug: "lobby",
    client: ctx.client,
    transport: fake.transport,
    store,
    timers: ctx.timers,
    onChange: () => changes++,
    ...options,
  });
  return { uploads, calls: fake.calls, store, changes: () => changes };
}

const sends = (ctx) => ctx.socket().frames("send");

describe("uploads with the composer's message", () => {
  test("staged files upload at once, with progress; Send sends the text with their ids", async () => {
    const ctx = setup();
    connectAndJoin(ctx);
    const { uploads, calls } = uploadsOn(ctx);
    assert.equal(uploads.stage([png("a.png"), png("b.png")]), 0);
    assert.equal(calls.length, 2);
    calls[0].onProgress(2, 4);
    assert.deepEqual(
      uploads.staged().map((record) => [record.name, record.state, record.loaded]),
      [
        ["a.png", "uploading", 2],
        ["b.png", "uploading", 0],
      ],
    );
    calls[0].answer(201, stored("id-a", "a.png"));
    calls[1].answer(201, stored("id-b", "b.png"));
    await settle();
    assert.deepEqual(uploads.staged().map((record) => record.state), ["done", "done"]);
    const item = uploads.send("look", { replyTo: 7 });
    const [frame] = sends(ctx);
    assert.deepEqual([frame.body, frame.reply_to, frame.attachments], ["look", 7, ["id-a", "id-b"]]);
    assert.equal(frame.client_id, item.client_id);
    assert.deepEqual(uploads.staged(), []);
  });

  test("Send while files upload: the message waits in the outbox, then goes once with them", async () => {
    const ctx = setup();
    connectAndJoin(ctx);
    const { uploads, calls, store } = uploadsOn(ctx);
    uploads.stage([png()]);
    const item = uploads.send("");
    assert.equal(ctx.client.outbox.get(item.client_id).status, "uploading");
    assert.equal(sends(ctx).length, 0);
    assert.equal((await store.all()).length, 1, "the file is kept while its message waits");
    // A reconnect sends the outbox again, but not a send waiting for its files.
    ctx.socket().deliver({ type: "joined", room: "lobby", head: 0, since: 0, truncated: false });
    assert.equal(sends(ctx).length, 0);
    calls[0].answer(201, stored("id-1"));
    await settle();
    assert.deepEqual(
      sends(ctx).map((frame) => [frame.client_id, frame.body, frame.attachments]),
      [[item.client_id, "", ["id-1"]]],
    );
    assert.deepEqual(await store.all(), []);
  });

  test("a message with files made offline goes when the connection is back", async () => {
    const ctx = setup();
    const { uploads, calls } = uploadsOn(ctx);
    uploads.stage([png()]);
    assert.equal(calls.length, 0, "nothing is tried while offline");
    assert.equal(uploads.staged()[0].state, "waiting");
    const item = uploads.send("made offline");
    connectAndJoin(ctx);
    uploads.connected(); // the page calls this on every "connected" status
    assert.equal(calls.length, 1);
    assert.equal(sends(ctx).length, 0);
    calls[0].answer(201, stored("id-9"));
    await settle();
    assert.deepEqual(sends(ctx).map((frame) => [frame.client_id, frame.attachments]), [[item.client_id, ["id-9"]]]);
  });

  test("a refused upload says the server's reason, blocks Send, and Retry uploads it again", async () => {
    const ctx = setup();
    connectAndJoin(ctx);
    const { uploads, calls } = uploadsOn(ctx);
    uploads.stage([png("big.png")]);
    calls[0].answer(413, { error: { code: "too_large", message: "The file is over 10 MB." } });
    await settle();
    const [record] = uploads.staged();
    assert.deepEqual([record.state, record.error], ["failed", "The file is over 10 MB."]);
    const room = { maxBody: 100, readOnly: false, slug: "lobby" };
    assert.equal(composerState("", { ...room, files: 1, blocked: true }).sendDisabled, true);
    assert.equal(composerState("", { ...room, files: 1, blocked: false }).sendDisabled, false);
    assert.equal(composerState("", { ...room, files: 0 }).sendDisabled, true);
    uploads.retry(record.key);
    assert.equal(calls.length, 2);
    calls[1].answer(201, stored("id-2"));
    await settle();
    assert.equal(uploads.staged()[0].state, "done");
  });

  test("a waiting message whose file is refused shows as not sent, and Retry sends it", async () => {
    const ctx = setup();
    connectAndJoin(ctx);
    const { uploads, calls } = uploadsOn(ctx);
    uploads.stage([png("a.png")]);
    const item = uploads.send("hi");
    calls[0].answer(429, { error: { code: "rate_limited", message: "Too many uploads.", retry_after: 3 } });
    await settle();
    const failed = ctx.client.outbox.get(item.client_id);
    assert.deepEqual([failed.status, failed.error], ["failed", "a.png: Too many uploads."]);
    uploads.retryMessage(item.client_id);
    assert.equal(ctx.client.outbox.get(item.client_id).status, "uploading");
    calls[1].answer(201, stored("id-3"));
    await settle();
    assert.deepEqual(sends(ctx).map((frame) => frame.attachments), [["id-3"]]);
  });

  test("a file larger than the limit is refused without trying", () => {
    const ctx = setup();
    connectAndJoin(ctx);
    const { uploads, calls } = uploadsOn(ctx, { maxBytes: 1024 });
    uploads.stage([png("huge.png", 2048)]);
    assert.equal(calls.length, 0);
    assert.deepEqual(
      uploads.staged().map((record) => [record.state, record.error]),
      [["failed", "The file is larger than 1 KB."]],
    );
  });

  test("at most MAX_FILES go with one message: the rest are left out and counted", () => {
    const ctx = setup();
    const { uploads } = uploadsOn(ctx);
    assert.equal(uploads.stage(Array.from({ length: MAX_FILES - 2 }, () => png())), 0);
    assert.equal(uploads.stage([png(), png(), png(), png()]), 2);
    assert.equal(uploads.staged().length, MAX_FILES);
  });

  test("Cancel aborts the upload; the last file of a message without text takes the message with it", async () => {
    const ctx = setup();
    connectAndJoin(ctx);
    const { uploads, calls, store } = uploadsOn(ctx);
    uploads.stage([png("a.png")]);
    uploads.cancel(uploads.staged()[0].key);
    assert.equal(calls[0].aborted, true);
    assert.deepEqual(uploads.staged(), []);

    uploads.stage([png("b.png")]);
    const empty = uploads.send("");
    uploads.cancel(uploads.of(empty.client_id)[0].key);
    assert.equal(ctx.client.outbox.get(empty.client_id), undefined);
    assert.deepEqual(await store.all(), []);

    uploads.stage([png("c.png"), png("d.png")]);
    const texted = uploads.send("text stays");
    calls.at(-1).answer(201, stored("id-d", "d.png"));
    await settle();
    uploads.cancel(uploads.of(texted.client_id)[0].key); // c.png, still uploading
    const [frame] = sends(ctx);
    assert.deepEqual([frame.body, frame.attachments], ["text stays", ["id-d"]]);
    assert.deepEqual(ctx.client.outbox.get(texted.client_id).files.map((file) => file.name), ["d.png"]);
  });

  test("no answer while connected: tried again after 2 s and 4 s, then shown as failed", async () => {
    const ctx = setup();
    connectAndJoin(ctx);
    const { uploads, calls } = uploadsOn(ctx);
    uploads.stage([png()]);
    for (const wait of [2000, 4000]) {
      calls.at(-1).answer(0, null);
      await settle();
      assert.equal(uploads.staged()[0].state, "waiting");
      ctx.timers.advance(wait);
    }
    assert.equal(calls.length, 3);
    calls.at(-1).answer(0, null);
    await settle();
    assert.deepEqual([uploads.staged()[0].state, uploads.staged()[0].error], ["failed", "Could not reach the server."]);
  });

  test("no answer because the connection went: waits for it, with no count", async () => {
    const ctx = setup();
    connectAndJoin(ctx);
    const { uploads, calls } = uploadsOn(ctx);
    uploads.stage([png()]);
    ctx.client.disconnect("offline");
    calls[0].answer(0, null);
    await settle();
    ctx.timers.advance(60_000);
    assert.equal(calls.length, 1);
    connectAndJoin(ctx);
    uploads.connected();
    assert.equal(calls.length, 2);
  });
});

describe("after a reload", () => {
  test("the files of a send still waiting are uploaded again and the send goes once", async () => {
    const storage = new MemoryStorage();
    const store = memoryUploadStore();
    const first = setup({ storage });
    const before = uploadsOn(first, { store });
    before.uploads.stage([png("a.png"), png("b.png")]);
    const item = before.uploads.send("offline, then closed");
    const gone = first.client.send("lobby", "no files");
    await store.put({ key: "stray", room: "lobby", owner: gone.client_id + "-x", name: "old.png" });

    const ctx = setup({ storage }); // the page opened again
    const after = uploadsOn(ctx, { store });
    await after.uploads.resume();
    assert.deepEqual(
      after.uploads.of(item.client_id).map((record) => [record.name, record.state]),
      [
        ["a.png", "waiting"],
        ["b.png", "waiting"],
      ],
    );
    assert.equal((await store.all()).some((entry) => entry.key === "stray"), false, "a stray file is dropped");
    connectAndJoin(ctx);
    assert.deepEqual(sends(ctx).map((frame) => frame.body), ["no files"]);
    after.uploads.connected();
    after.calls[0].answer(201, stored("id-a", "a.png"));
    after.calls[1].answer(201, stored("id-b", "b.png"));
    await settle();
    assert.deepEqual(
      sends(ctx).map((frame) => [frame.client_id, frame.attachments ?? null]),
      [
        [gone.client_id, null],
        [item.client_id, ["id-a", "id-b"]],
      ],
    );
  });

  test("with another tab holding the send's lock, this page waits for it and uploads nothing twice", async () => {
    const storage = new MemoryStorage();
    const store = memoryUploadStore();
    const first = setup({ storage });
    const tab = uploadsOn(first, { store });
    tab.uploads.stage([png()]);
    const item = tab.uploads.send("");
    // A lock the test lets go of, as a closed tab would.
    let release;
    const locks = {
      request: (name, callback) => new Promise((resolve) => (release = () => resolve(callback()))),
    };
    const ctx = setup({ storage });
    connectAndJoin(ctx);
    const other = uploadsOn(ctx, { store, locks });
    await other.uploads.resume();
    other.uploads.connected();
    assert.equal(other.calls.length, 0);
    // The first tab finished meanwhile: the send is no longer waiting.
    ctx.client.outbox.update(item.client_id, { status: "pending", attachments: ["id-x"] });
    release();
    await settle();
    assert.equal(other.calls.length, 0);
    assert.deepEqual(await store.all(), []);
  });
});

describe("files not kept", () => {
  /** A send made with files on a page whose store is gone with it. */
  function sentThenClosed() {
    const storage = new MemoryStorage();
    const first = setup({ storage });
    const { uploads } = uploadsOn(first);
    uploads.stage([png()]);
    const item = uploads.send("words");
    return { storage, item };
  }

  test("a send waiting for files no tab has fails, and says Retry sends the text alone", async () => {
    const { storage, item } = sentThenClosed();
    const ctx = setup({ storage });
    const { uploads } = uploadsOn(ctx, { locks: { request: async (name, options, callback) => callback({ name }) } });
    await uploads.resume();
    const failed = ctx.client.outbox.get(item.client_id);
    assert.deepEqual([failed.status, failed.files], ["failed", []]);
    assert.match(failed.error, /Retry sends the text alone/);
    connectAndJoin(ctx);
    uploads.retryMessage(item.client_id);
    assert.deepEqual(sends(ctx).map((frame) => [frame.body, frame.attachments ?? null]), [["words", null]]);
  });

  test("a send made while the page reads the store is not taken for one whose files were lost", async () => {
    const ctx = setup();
    let answer;
    const store = { ...memoryUploadStore(), all: () => new Promise((resolve) => (answer = resolve)) };
    const { uploads } = uploadsOn(ctx, { store });
    const reading = uploads.resume();
    uploads.stage([png()]);
    const item = uploads.send("");
    answer([]);
    await reading;
    assert.equal(ctx.client.outbox.get(item.client_id).status, "uploading");
  });

  test("while another tab holds its lock, it keeps waiting", async () => {
    const { storage, item } = sentThenClosed();
    const ctx = setup({ storage });
    const { uploads } = uploadsOn(ctx, { locks: { request: async (name, options, callback) => callback(null) } });
    await uploads.resume();
    assert.equal(ctx.client.outbox.get(item.client_id).status, "uploading");
  });
});

describe("the outbox and the page", () => {
  test("a send's frame carries its attachments; without them, none", () => {
    const item = { room: "lobby", client_id: "c1", action: "send", body: "", attachments: ["a", "b"] };
    assert.deepEqual(outboxFrame(item).attachments, ["a", "b"]);
    assert.equal("attachments" in outboxFrame({ ...item, attachments: [] }), false);
  });

  test("a message of files alone is quoted and read out by their names", () => {
    const files = message(5, { body: "", attachments: [{ name: "a.png" }, { name: "b.pdf" }] });
    assert.equal(filesText(files), "📎 a.png, b.pdf");
    assert.equal(snippet(files), "📎 a.png, b.pdf");
    assert.equal(arrivalText([files], "alice"), "bob: 📎 a.png, b.pdf");
    assert.equal(snippet({ ...files, body: "see" }), "see", "text comes first");
    assert.equal(filesText({ ...files, deleted: true }), "");
    assert.equal(filesText(message(6)), "");
  });

  test("only files are taken from a paste or a drop", () => {
    const file = png();
    assert.deepEqual(filesOf({ files: [file] }), [file]);
    const items = [
      { kind: "string", getAsFile: () => null },
      { kind: "file", getAsFile: () => file },
    ];
    assert.deepEqual(filesOf({ files: [], items }), [file]);
    assert.deepEqual(filesOf(null), []);
  });

  test("without IndexedDB the upload store keeps files in memory", async () => {
    const store = uploadStore("alice", null);
    await store.put({ key: "k", room: "lobby" });
    assert.deepEqual(await store.all(), [{ key: "k", room: "lobby" }]);
    await store.delete("k");
    assert.deepEqual(await store.all(), []);
  });
});
