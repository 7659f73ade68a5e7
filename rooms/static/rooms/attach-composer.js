// The composer's files (composer.js; docs/ui.md, "Attachments"): the attach
// button, files dropped anywhere on the room's messages, pictures pasted
// into the message box. Each is staged as a line above the box (uploading
// at once, with its progress, Cancel, and Retry when the server refused
// it) and goes with the next Send. Sends still waiting for their files show
// the same lines in the list of messages not sent yet. attachments.js does
// the uploading; attachment-view.js draws.

import { MAX_FILES, Uploads, xhrTransport } from "./attachments.js";
import { renderUploads } from "./attachment-view.js";
import { csrfToken } from "./direct.js";
import { el } from "./dom.js";
import { gettext, interpolate, ngettext } from "./i18n.js";
import { uploadStore } from "./upload-store.js";

/** The files of a clipboard or drop: only real files, never text. */
export function filesOf(transfer) {
  if (!transfer) return [];
  const files = [...(transfer.files ?? [])];
  if (files.length) return files;
  return [...(transfer.items ?? [])]
    .filter((entry) => entry.kind === "file")
    .map((entry) => entry.getAsFile())
    .filter(Boolean);
}

/** Whether a drag carries files (and not, say, selected text). */
const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes("Files");

/**
 * Start the files of the composer of room `slug`. `page` = {me, readOnly};
 * `elements`: chat (where files may be dropped), input (the message box),
 * attach (the button), picker (its <input type=file>), staged (the list
 * above the box). `changed()` after every change of the staged files;
 * `showNotice(text)` says what was left out.
 */
export function startAttachments({ client, slug, page, maxBytes = null, elements, changed, showNotice }) {
  const { chat, input, attach, picker, staged } = elements;
  const owned = new Map(); // client_id -> the <ul> of its files, kept between redraws
  const connected = () => client.state === "connected";

  const uploads = new Uploads({
    slug,
    client,
    transport: xhrTransport(`/api/rooms/${encodeURIComponent(slug)}/attachments`, csrfToken),
    store: uploadStore(page.me),
    locks: globalThis.navigator?.locks ?? null,
    timers: window,
    maxBytes,
    onChange: redraw,
  });
  const handlers = {
    cancel: (key) => {
      uploads.cancel(key);
      // The line of the × that had the focus is gone: the focus goes to the
      // message box rather than to the start of the page.
      if (document.activeElement === document.body) input.focus();
    },
    retry: (key) => uploads.retry(key),
  };

  function redraw() {
    renderUploads(staged, uploads.staged(), handlers, connected());
    for (const [clientId, list] of owned) {
      const item = client.outbox.get(clientId);
      if (item) renderUploads(list, filesOfSend(item), handlers, connected());
      else owned.delete(clientId);
    }
    changed();
  }

  /** The lines of send `item`'s files: those this page uploads, or what the
   * outbox says of them (uploaded, or uploading in another tab). */
  function filesOfSend(item) {
    const mine = uploads.of(item.client_id);
    if (mine.length) return mine;
    const state = item.status === "uploading" ? "elsewhere" : "done";
    return (item.files ?? []).map((file) => ({ ...file, state, loaded: 0, foreign: true }));
  }

  function add(files) {
    if (page.readOnly || !files.length) return;
    const left = uploads.stage(files);
    if (left) {
      const text = ngettext(
        "At most %(max)s files go with one message: %(count)s file left out.",
        "At most %(max)s files go with one message: %(count)s files left out.",
        left,
      );
      showNotice(interpolate(text, { max: MAX_FILES, count: left }));
    }
    input.focus();
  }

  attach.addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    add([...picker.files]);
    picker.value = "";
  });

  // A pasted picture (a screenshot, an image copied in a browser) is staged;
  // text pastes as ever.
  input.addEventListener("paste", (event) => {
    const files = filesOf(event.clipboardData);
    if (!files.length) return;
    event.preventDefault();
    add(files);
  });

  // Dropping files on the messages or the composer: the area says it will
  // take them while they are dragged over it.
  const zone = el("div", "drop-zone", gettext("Drop files to share them here"));
  zone.hidden = true;
  zone.setAttribute("aria-hidden", "true");
  chat.append(zone);
  let depth = 0; // dragenter and dragleave fire for every child crossed
  const over = (event) => {
    if (!carriesFiles(event) || page.readOnly) return false;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    return true;
  };
  chat.addEventListener("dragenter", (event) => {
    if (!over(event)) return;
    depth += 1;
    zone.hidden = false;
  });
  chat.addEventListener("dragover", over);
  chat.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) zone.hidden = true;
  });
  chat.addEventListener("drop", (event) => {
    depth = 0;
    zone.hidden = true;
    if (!carriesFiles(event)) return;
    event.preventDefault();
    add(filesOf(event.dataTransfer));
  });
  // A file dropped beside the room (the sidebar, the top bar) must not
  // replace the page with itself, as browsers do by default.
  document.addEventListener("dragover", (event) => {
    if (!carriesFiles(event) || chat.contains(event.target)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "none";
  });
  document.addEventListener("drop", (event) => carriesFiles(event) && event.preventDefault());

  client.on("status", ({ state }) => {
    if (state === "connected") uploads.connected();
    redraw(); // "waiting for connection" or not
  });
  uploads.resume();

  return {
    uploads,
    /** {files, blocked}: how many files the next Send takes, and whether
     * one of them failed (Send waits until it is retried or removed). */
    state() {
      const files = uploads.staged();
      return { files: files.length, blocked: files.some((record) => record.state === "failed") };
    },
    /** The list of send `item`'s files for its line among the messages
     * not sent yet, or null when it has none. */
    filesFor(item) {
      if (!item.files?.length) return null;
      if (!owned.has(item.client_id)) owned.set(item.client_id, el("ul", "uploads uploads--sent"));
      const list = owned.get(item.client_id);
      const mine = uploads.of(item.client_id).length > 0;
      renderUploads(list, filesOfSend(item), mine ? handlers : {}, connected());
      return list;
    },
    setReadOnly(readOnly) {
      attach.disabled = readOnly;
    },
  };
}
