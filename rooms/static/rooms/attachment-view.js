// How files look on the room page (docs/ui.md, "Attachments"): a message's
// attachments (pictures at their final size before they load, other files
// as a card with a download link), the larger view of a picture (a modal
// <dialog>: focus kept inside, Escape closes, focus goes back), and the
// list of uploads (staged above the composer, or of a send not yet sent)
// with their progress, Cancel and Retry. Rendering only: attachments.js
// uploads. Names go in with textContent.

import { button, el } from "./dom.js";
import { fitWithin, formatSize, isImage } from "./attachments.js";
import { gettext, interpolate } from "./i18n.js";

// The largest box a picture takes in a message (CSS keeps it inside the
// message on narrow screens, with its aspect ratio).
export const THUMB_BOX = { width: 360, height: 280 };
// The larger view fills at most this share of the window.
const VIEW_SHARE = { width: 0.92, height: 0.8 };

/** A short label for a file's kind: its extension, or "FILE". */
export function fileLabel(name) {
  const match = /\.([A-Za-z0-9]{1,5})$/.exec(name ?? "");
  // Translators: the label of a file without an extension, in capitals like one ("PDF"); at most 5 letters.
  return match ? match[1].toUpperCase() : gettext("FILE");
}

/** Bring the attachments shown in message `item` up to date with
 * `message`: none for a deleted one. They never change otherwise, so they
 * are drawn once. */
export function renderAttachments(item, message) {
  const box = item.querySelector(".msg-attachments");
  const attachments = message.deleted ? [] : (message.attachments ?? []);
  const ids = attachments.map((attachment) => attachment.id).join(" ");
  if (box.dataset.ids === ids) return;
  box.dataset.ids = ids;
  box.replaceChildren(...attachments.map((attachment) => (isImage(attachment) ? picture : fileCard)(attachment)));
  box.hidden = attachments.length === 0;
}

/** A picture in a message: its thumbnail with width and height set before
 * it loads (so nothing below moves), a link to the file that opens the
 * larger view instead. */
function picture(attachment) {
  const link = el("a", "attachment attachment-image");
  link.href = attachment.url;
  link.setAttribute("aria-label", interpolate(gettext("Open %(name)s"), { name: attachment.name }));
  const img = el("img");
  const size = fitWithin(attachment.width, attachment.height, THUMB_BOX.width, THUMB_BOX.height);
  img.width = size.width;
  img.height = size.height;
  img.alt = attachment.name;
  img.decoding = "async";
  img.src = attachment.thumbnail_url;
  link.append(img);
  link.addEventListener("click", (event) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return; // a new tab
    event.preventDefault();
    openViewer(attachment, link);
  });
  return link;
}

/** Any other file: its kind, name and size, and a download link. */
function fileCard(attachment) {
  const card = el("div", "attachment attachment-file");
  const text = el("div", "attachment-file-text");
  text.append(
    el("span", "attachment-file-name", attachment.name),
    el("span", "attachment-file-size", formatSize(attachment.size)),
  );
  const link = el("a", "button button--small attachment-download", gettext("Download"));
  link.href = attachment.url;
  link.download = attachment.name;
  link.setAttribute("aria-label", interpolate(gettext("Download %(name)s"), { name: attachment.name }));
  card.append(el("span", "attachment-file-icon", fileLabel(attachment.name)), text, link);
  card.title = attachment.name;
  return card;
}

let viewer = null;

/** The larger view of picture `attachment`, opened from `opener` (which
 * gets the focus back when it closes). */
export function openViewer(attachment, opener) {
  if (!viewer) viewer = createViewer();
  const { dialog, img, name, size, download } = viewer;
  const fit = fitWithin(
    attachment.width,
    attachment.height,
    window.innerWidth * VIEW_SHARE.width,
    window.innerHeight * VIEW_SHARE.height,
  );
  img.width = fit.width;
  img.height = fit.height;
  img.alt = attachment.name;
  img.src = attachment.url;
  name.textContent = attachment.name;
  size.textContent = formatSize(attachment.size);
  download.href = attachment.url;
  download.download = attachment.name;
  dialog.setAttribute("aria-label", attachment.name);
  viewer.opener = opener;
  dialog.showModal();
}

function createViewer() {
  const dialog = el("dialog", "viewer");
  const img = el("img", "viewer-image");
  const bar = el("div", "viewer-bar");
  const name = el("span", "viewer-name");
  const size = el("span", "viewer-size");
  const download = el("a", "button button--small", gettext("Download"));
  const close = button("button button--small", gettext("Close"));
  close.autofocus = true;
  close.addEventListener("click", () => dialog.close());
  bar.append(name, size, download, close);
  dialog.append(img, bar);
  // A click on the backdrop (the dialog itself, outside its content) closes it.
  dialog.addEventListener("click", (event) => event.target === dialog && dialog.close());
  const state = { dialog, img, name, size, download, opener: null };
  dialog.addEventListener("close", () => {
    img.removeAttribute("src");
    state.opener?.focus();
  });
  document.body.append(dialog);
  return state;
}

// --- uploads ---------------------------------------------------------------

// A staged picture's preview is drawn small into a canvas and shown as a
// data: URL, which the Content-Security-Policy's img-src allows (blob: it
// does not); a picture the browser cannot decode keeps the kind's label.
const PREVIEW_PX = 80;

async function preview(file, thumb) {
  try {
    const bitmap = await createImageBitmap(file);
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = PREVIEW_PX;
    const scale = PREVIEW_PX / Math.min(bitmap.width, bitmap.height);
    const [width, height] = [bitmap.width * scale, bitmap.height * scale];
    canvas.getContext("2d").drawImage(bitmap, (PREVIEW_PX - width) / 2, (PREVIEW_PX - height) / 2, width, height);
    bitmap.close();
    const img = el("img", "upload-thumb");
    img.alt = "";
    img.src = canvas.toDataURL("image/png");
    thumb.replaceWith(img);
  } catch {
    // not a picture this browser can read: the label stays
  }
}

/** What an upload's line says: its progress, or why it waits or failed. */
export function uploadStatus(record, connected) {
  if (record.state === "failed") return interpolate(gettext("Not uploaded: %(error)s"), { error: record.error });
  if (record.state === "done") return gettext("Ready");
  if (record.state === "elsewhere") return gettext("Uploading in another tab…");
  if (record.state === "waiting" && !connected) return gettext("Waiting for connection…");
  const percent = record.size ? Math.floor((100 * record.loaded) / record.size) : 0;
  return `${formatSize(record.size)} · ${percent} %`;
}

function uploadItem(record, { cancel, retry }) {
  const row = el("li", "upload");
  row.dataset.key = record.key;
  const thumb = el("span", "upload-thumb attachment-file-icon", fileLabel(record.name));
  if (record.file && record.type.startsWith("image/") && globalThis.createImageBitmap) preview(record.file, thumb);
  const text = el("div", "upload-text");
  const progress = el("progress", "upload-progress");
  progress.setAttribute("aria-label", interpolate(gettext("Uploading %(name)s"), { name: record.name }));
  text.append(el("span", "upload-name", record.name), progress, el("span", "upload-status"));
  row.append(thumb, text);
  if (retry) {
    const again = button("button button--small upload-retry", gettext("Retry"));
    again.addEventListener("click", () => {
      const focused = document.activeElement === again;
      retry(record.key);
      // Retry hides itself while the file uploads again: the focus stays on
      // its line, on ×, rather than falling to the start of the page.
      if (focused && again.hidden) row.querySelector(".upload-cancel:not([hidden])")?.focus();
    });
    row.append(again);
  }
  if (cancel) {
    const remove = button("upload-cancel", "×");
    remove.addEventListener("click", () => cancel(record.key));
    row.append(remove);
  }
  return row;
}

function updateUploadItem(row, record, connected) {
  const { state } = record;
  row.dataset.state = state;
  const progress = row.querySelector(".upload-progress");
  progress.max = record.size || 1;
  progress.value = state === "done" ? progress.max : record.loaded;
  progress.hidden = state !== "uploading";
  const status = row.querySelector(".upload-status");
  status.textContent = uploadStatus(record, connected);
  // A refusal is said at once; progress is not read out at every step.
  if (state === "failed") status.setAttribute("role", "alert");
  else status.removeAttribute("role");
  // A line of what another tab uploads, or of a send on its way, offers nothing.
  const retry = row.querySelector(".upload-retry");
  if (retry) retry.hidden = state !== "failed" || Boolean(record.foreign);
  const cancel = row.querySelector(".upload-cancel");
  if (cancel) cancel.hidden = Boolean(record.foreign);
  if (cancel) {
    const busy = state === "uploading" || state === "waiting";
    const label = busy ? gettext("Cancel the upload of %(name)s") : gettext("Remove %(name)s");
    cancel.setAttribute("aria-label", interpolate(label, { name: record.name }));
    cancel.title = interpolate(label, { name: record.name });
  }
}

/** Make `list` show `records` in order, each line kept (with its focus and
 * preview) while its record stays. `handlers`: {cancel(key), retry(key)},
 * either missing for lines that offer neither; `connected`: whether the
 * socket is (what a waiting upload waits for). */
export function renderUploads(list, records, handlers, connected) {
  const lines = new Map([...list.children].map((row) => [row.dataset.key, row]));
  const wanted = records.map((record) => {
    const row = lines.get(record.key) ?? uploadItem(record, handlers);
    lines.delete(record.key);
    updateUploadItem(row, record, connected);
    return row;
  });
  for (const row of lines.values()) row.remove();
  wanted.forEach((row, index) => {
    if (list.children[index] !== row) list.insertBefore(row, list.children[index] ?? null);
  });
  list.hidden = records.length === 0;
}
