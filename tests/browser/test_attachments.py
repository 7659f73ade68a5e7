"""Files in Chromium (docs/ui.md, Attachments): a picture pasted into the
composer uploads with its progress shown and reaches the other page at its
final size before it loads; a PDF dropped on the room becomes a card with
a working download link; a message with a file made offline goes when the
connection is back; a refused file says the server's reason and offers
Retry; the attach button, Retry and Remove work by keyboard, with a
visible focus that never falls to the start of the page. And the docs'
screenshot of a conversation with a picture and a file."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_room, send, stored_count

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"

# A picture drawn in the page (bars on a light ground), kept as window.__file.
DRAW_PICTURE = """async ([name, width, height]) => {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext("2d");
  g.fillStyle = "#eef0ff";
  g.fillRect(0, 0, width, height);
  const shares = [0.42, 0.55, 0.48, 0.7, 0.66, 0.86];
  const step = width / shares.length;
  shares.forEach((share, i) => {
    g.fillStyle = i === shares.length - 1 ? "#16a34a" : "#4f46e5";
    g.fillRect(i * step + step * 0.2, height * (1 - share), step * 0.6, height * share);
  });
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  window.__file = new File([blob], name, { type: "image/png" });
}"""

# The clipboard holding window.__file, pasted into the message box.
PASTE = """() => {
  const data = new DataTransfer();
  data.items.add(window.__file);
  const init = { clipboardData: data, bubbles: true, cancelable: true };
  document.getElementById("body").dispatchEvent(new ClipboardEvent("paste", init));
}"""

# A file dragged over the messages and dropped there; says whether the drop
# zone showed while it was over them.
DROP = """([name, type, text]) => {
  const data = new DataTransfer();
  data.items.add(new File([text], name, { type }));
  const target = document.getElementById("messages");
  const init = { dataTransfer: data, bubbles: true, cancelable: true };
  const fire = (kind) => target.dispatchEvent(new DragEvent(kind, init));
  fire("dragenter");
  fire("dragover");
  const shown = !document.querySelector(".drop-zone").hidden;
  fire("drop");
  return shown && document.querySelector(".drop-zone").hidden;
}"""


def pdf(size: int) -> str:
    """A small PDF of exactly `size` bytes (ASCII)."""
    head = "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    tail = "\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    return head + "%" + "x" * (size - len(head) - len(tail) - 1) + tail


def paste_picture(page, name: str, width: int, height: int) -> None:
    page.evaluate(DRAW_PICTURE, [name, width, height])
    page.evaluate(PASTE)


def message(page, text: str):
    return page.locator("#messages .msg", has_text=text)


def loaded(img) -> bool:
    return img.evaluate("(img) => img.complete && img.naturalWidth > 0")


class Held:
    """Requests of `page` to URLs matching `matcher` (of resource type
    `kind`, if given) held until release(), as a slow network would; any
    made after it go through."""

    def __init__(self, page, matcher, kind=None):
        self.routes = []
        self.kind = kind
        self.released = False
        page.route(matcher, self.handle)

    def handle(self, route):
        if self.released or self.kind not in (None, route.request.resource_type):
            route.continue_()
        else:
            self.routes.append(route)

    def release(self):
        self.released = True
        for route in self.routes:
            route.continue_()


def test_a_pasted_picture_uploads_with_progress_and_shows_at_its_final_size_before_it_loads(
    deployment, browse, room
):
    slug = room()
    alice = open_room(browse("alice"), deployment, slug)
    bob = open_room(browse("bob"), deployment, slug)
    pictures = Held(bob, re.compile(r"/attachments/"), "image")

    # The upload is held on its way, so its line is seen uploading.
    upload = Held(alice, re.compile(r"/api/rooms/[^/]+/attachments$"))
    paste_picture(alice, "chart.png", 800, 600)
    staged = alice.locator("#staged .upload")
    expect(staged).to_have_count(1)
    expect(staged.locator(".upload-name")).to_have_text("chart.png")
    expect(staged.get_by_role("progressbar", name="Uploading chart.png")).to_be_visible()
    expect(staged.locator(".upload-status")).to_have_text(re.compile(r"\d+ %$"))
    expect(alice.locator(".upload-thumb")).to_have_js_property("tagName", "IMG")  # a preview
    upload.release()
    expect(staged.locator(".upload-status")).to_have_text("Ready")
    expect(staged.locator("progress")).to_be_hidden()
    send(alice, "the chart")
    expect(alice.locator("#staged")).to_be_hidden()

    # bob's page: the box has its final size while the picture is held.
    item = message(bob, "the chart")
    img = item.locator(".attachment-image img")
    expect(img).to_have_count(1)
    before = img.bounding_box()
    item_before = item.bounding_box()
    assert not loaded(img)
    assert (before["width"], before["height"]) == (360, 270)  # 800 by 600 fitted to 360 by 280
    pictures.release()
    bob.wait_for_function(
        "() => document.querySelector('#messages .attachment-image img').naturalWidth > 0"
    )
    after = img.bounding_box()
    assert (after["width"], after["height"], after["y"]) == (
        before["width"],
        before["height"],
        before["y"],
    )
    assert item.bounding_box()["height"] == item_before["height"]
    expect(message(alice, "the chart").locator(".attachment-image img")).to_have_count(1)
    expect(alice.locator("#pending .msg")).to_have_count(0)

    # The larger view: a modal dialog; Escape closes it and the focus comes back.
    link = item.get_by_role("link", name="Open chart.png")
    link.click()
    viewer = bob.get_by_role("dialog", name="chart.png")
    expect(viewer).to_be_visible()
    expect(viewer.get_by_role("button", name="Close")).to_be_focused()
    bob.wait_for_function("() => document.querySelector('.viewer-image').naturalWidth === 800")
    bob.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(link).to_be_focused()


def test_a_dropped_pdf_shows_as_a_card_with_a_working_download_link(deployment, browse, room):
    slug = room()
    alice = open_room(browse("alice"), deployment, slug)
    bob = open_room(browse("bob"), deployment, slug)
    content = pdf(1536)

    assert alice.evaluate(DROP, ["report.pdf", "application/pdf", content])
    staged = alice.locator("#staged .upload")
    expect(staged.locator(".upload-name")).to_have_text("report.pdf")
    expect(staged.locator(".upload-status")).to_have_text("Ready")
    alice.get_by_role("button", name="Send").click()  # no text: the file alone

    card = bob.locator("#messages .attachment-file")
    expect(card).to_have_count(1)
    expect(card.locator(".attachment-file-name")).to_have_text("report.pdf")
    expect(card.locator(".attachment-file-size")).to_have_text("1.5 KB")
    expect(card.locator(".attachment-file-icon")).to_have_text("PDF")
    with bob.expect_download() as download:
        card.get_by_role("link", name="Download report.pdf").click()
    assert download.value.suggested_filename == "report.pdf"
    assert Path(download.value.path()).read_text() == content


def test_a_message_with_a_picture_made_offline_goes_once_when_back_even_after_a_reload(
    deployment, browse, room
):
    slug = room()
    context = browse("alice")
    alice = open_room(context, deployment, slug)
    bob = open_room(browse("bob"), deployment, slug)

    context.set_offline(True)
    expect(alice.locator("#conn")).to_have_attribute("data-state", "offline")
    paste_picture(alice, "offline.png", 300, 200)
    expect(alice.locator("#staged .upload-status")).to_have_text("Waiting for connection…")
    send(alice, "made offline")
    pending = alice.locator("#pending .msg")
    expect(pending.locator(".msg-status")).to_have_text("Waiting for connection…")
    expect(pending.locator(".upload-name")).to_have_text("offline.png")

    context.set_offline(False)
    img = message(bob, "made offline").locator(".attachment-image img")
    expect(img).to_have_attribute("width", "300")
    expect(img).to_have_attribute("height", "200")
    expect(pending).to_have_count(0)
    assert stored_count(deployment, slug, "made offline") == 1

    # Made offline and the page closed: the file waited in IndexedDB, and the
    # room's next page uploads it and sends the message.
    context.set_offline(True)
    expect(alice.locator("#conn")).to_have_attribute("data-state", "offline")
    paste_picture(alice, "closed.png", 240, 240)
    send(alice, "closed offline")
    expect(alice.locator("#pending .upload-name")).to_have_text("closed.png")
    alice.close()
    context.set_offline(False)
    alice = open_room(context, deployment, slug)
    img = message(bob, "closed offline").locator(".attachment-image img")
    expect(img).to_have_attribute("width", "240")
    expect(alice.locator("#pending .msg")).to_have_count(0)
    assert stored_count(deployment, slug, "closed offline") == 1
    assert (
        alice.evaluate(
            "async () => (await new Promise((resolve) => {"
            "  const open = indexedDB.open('rooms.uploads:alice');"
            "  open.onsuccess = () => open.result.transaction('files').objectStore('files')"
            "    .count().onsuccess = (event) => resolve(event.target.result);"
            "}))"
        )
        == 0
    ), "the file is no longer kept"


def test_a_refused_file_says_why_and_offers_retry(deployment, browse, room):
    slug = room()
    alice = open_room(browse("alice"), deployment, slug)
    uploads = []
    alice.on("request", lambda request: "/attachments" in request.url and uploads.append(request))
    too_big = 10 * 1024 * 1024 + 1  # ROOMS_MAX_UPLOAD_BYTES's default, plus one
    alice.locator("#attach-picker").set_input_files(
        files=[
            {"name": "empty.txt", "mimeType": "text/plain", "buffer": b""},
            {"name": "huge.bin", "mimeType": "application/octet-stream", "buffer": b"\0" * too_big},
        ]
    )
    empty = alice.locator("#staged .upload", has_text="empty.txt")
    huge = alice.locator("#staged .upload", has_text="huge.bin")
    # The server's reason; and the page's own for a file over the limit it was given.
    expect(empty.get_by_role("alert")).to_have_text("Not uploaded: The file is empty.")
    expect(huge.get_by_role("alert")).to_have_text("Not uploaded: The file is larger than 10 MB.")
    assert len(uploads) == 1, "the file over the limit was not sent"
    alice.get_by_label("Message", exact=True).fill("with the files")
    expect(alice.get_by_role("button", name="Send")).to_be_disabled()

    with alice.expect_response(lambda response: "/attachments" in response.url) as again:
        empty.get_by_role("button", name="Retry").click()
    assert again.value.status == 400
    expect(empty.get_by_role("alert")).to_have_text("Not uploaded: The file is empty.")
    for line, name in ((empty, "empty.txt"), (huge, "huge.bin")):
        line.get_by_role("button", name=f"Remove {name}").click()
    expect(alice.locator("#staged .upload")).to_have_count(0)
    expect(alice.get_by_role("button", name="Send")).to_be_enabled()


def focus_ring(locator) -> bool:
    """Whether the focused `locator` shows the stylesheet's focus ring."""
    return locator.evaluate(
        "(node) => node.matches(':focus-visible') && getComputedStyle(node).outlineStyle"
        " !== 'none' && parseFloat(getComputedStyle(node).outlineWidth) >= 2"
    )


def test_attach_retry_and_cancel_work_by_keyboard_with_a_visible_focus(deployment, browse, room):
    slug = room()
    alice = open_room(browse("alice"), deployment, slug)
    box = alice.get_by_label("Message", exact=True)
    attach = alice.get_by_role("button", name="Attach files")
    # Playwright turns on the interception of file choosers when the first
    # listener comes, without waiting for the browser: listening from here,
    # several round trips before the Enter, keeps the chooser from opening
    # unseen (expect_file_chooser alone lost it once in CI).
    choosers = []
    alice.on("filechooser", lambda chooser: choosers.append(chooser))
    box.focus()
    alice.keyboard.press("Shift+Tab")
    expect(attach).to_be_focused()
    assert focus_ring(attach)
    alice.keyboard.press("Enter")
    if not choosers:
        alice.wait_for_event("filechooser")
    choosers[0].set_files(
        files=[
            {"name": "empty.txt", "mimeType": "text/plain", "buffer": b""},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"some notes"},
        ]
    )
    empty = alice.locator("#staged .upload", has_text="empty.txt")
    notes = alice.locator("#staged .upload", has_text="notes.txt")
    expect(empty.get_by_role("alert")).to_have_text("Not uploaded: The file is empty.")
    expect(notes.locator(".upload-status")).to_have_text("Ready")
    expect(box).to_be_focused()  # back to the box, for the text that goes with them

    # Back from the box: the attach button, then each line's controls.
    remove_notes = notes.get_by_role("button", name="Remove notes.txt")
    retry = empty.get_by_role("button", name="Retry")
    for expected in (attach, remove_notes, empty.get_by_role("button", name="Remove empty.txt")):
        alice.keyboard.press("Shift+Tab")
        expect(expected).to_be_focused()
        assert focus_ring(expected)
    alice.keyboard.press("Shift+Tab")
    expect(retry).to_be_focused()
    assert focus_ring(retry)
    with alice.expect_response(lambda response: "/attachments" in response.url) as again:
        alice.keyboard.press("Enter")
    assert again.value.status == 400
    expect(empty.get_by_role("alert")).to_be_visible()
    expect(empty.get_by_role("button", name=re.compile("empty.txt"))).to_be_focused()

    # Remove by keyboard: the line goes, and the focus to the message box.
    remove_notes.focus()
    alice.keyboard.press("Enter")
    expect(notes).to_have_count(0)
    expect(box).to_be_focused()


def test_screenshot_of_a_conversation_with_a_picture_and_a_file(deployment, browse, room):
    slug = room("Quarterly review")
    deployment.post_many(slug, ["Numbers for the review are due on Friday."], "bob")
    alice = open_room(browse("alice"), deployment, slug)
    bob = open_room(browse("bob"), deployment, slug)

    paste_picture(alice, "signups-q3.png", 900, 520)
    expect(alice.locator("#staged .upload-status")).to_have_text("Ready")
    send(alice, "Sign-ups by month: September was our best yet.")
    expect(message(bob, "September")).to_have_count(1)
    assert bob.evaluate(DROP, ["Q3-report.pdf", "application/pdf", pdf(248_000)])
    expect(bob.locator("#staged .upload-status")).to_have_text("Ready")
    send(bob, "And the full report for the board.")
    expect(alice.locator("#messages .attachment-file")).to_have_count(1)
    alice.wait_for_function(
        "() => document.querySelector('#messages .attachment-image img').naturalWidth > 0"
    )
    alice.mouse.move(0, 0)
    alice.get_by_label("Message", exact=True).focus()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / "attachments.png"
    alice.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
