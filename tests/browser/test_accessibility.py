"""The pages people use checked by axe-core in Chromium (docs/ui.md,
Accessibility): login, room list, room, search and manage, at desktop and
phone width, and a room's files, uploads and a picture's larger view, in
the light and the dark theme (the system's, and the person's own setting
against a light system), with no serious or critical violation of WCAG 2.1
A and AA.

axe-core's own build is vendored in tests/browser/vendor/ (see its README)
and evaluated into each page: Playwright's evaluate is not a page script, so
the Content-Security-Policy stays as in production.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PAGES = ("login", "room list", "room", "search", "manage")
SEARCHED = "quokka"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 6).map((n) => ({
        target: n.target.join(" "), summary: n.failureSummary,
      })),
      more: Math.max(0, v.nodes.length - 6),
    }));
}"""


def axe_violations(page) -> list[dict]:
    """The serious and critical WCAG 2.1 A/AA violations on `page` as it is."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE)
    return page.evaluate(RUN_AXE, TAGS)


def report(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['impact']}: {violation['id']}: {violation['help']}")
        for node in violation["nodes"]:
            summary = " / ".join(node["summary"].splitlines()[1:3])
            lines.append(f"    {node['target']}: {summary.strip()}")
        if violation["more"]:
            lines.append(f"    … and {violation['more']} more")
    return "\n".join(lines)


def api(url: str, token: str, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    return json.loads(text) if text else {}


@pytest.fixture(scope="module")
def site(deployment):
    """A private room alice moderates, with what the room page draws: rich
    text (code, a quote, a link, mentions), a reply, reactions (hers and
    bob's), an edit, a deletion; and a second room where bob mentions
    alice, unread, so the room list shows both badges."""
    url = deployment.worker.http_url
    slug, other = f"a11y-{uuid.uuid4().hex[:8]}", f"a11y-{uuid.uuid4().hex[:8]}"
    for each, title in ((slug, "Accessible room"), (other, "Unread room")):
        deployment.manage(
            "createroom",
            each,
            "--title",
            title,
            "--private",
            "--moderator",
            "alice",
            "--member",
            "bob",
        )
    alice, bob = deployment.token("alice"), deployment.token("bob")
    messages = f"/api/rooms/{slug}/messages"

    def post(token, body, **extra):
        return api(url, token, "POST", messages, {"body": body, **extra})["message"]["seq"]

    first = post(
        bob,
        f"Hello @alice, a **{SEARCHED}** and `inline code`:\n```\ncode block\n```\n"
        "> a quote\n\n- a list\n\nsee https://example.com/page",
    )
    api(url, bob, "POST", f"{messages}/{first}/reactions", {"emoji": "👍"})
    api(url, alice, "POST", f"{messages}/{first}/reactions", {"emoji": "🎉"})
    post(alice, f"Thanks @bob, the {SEARCHED} is here", reply_to=first)
    edited = post(bob, "A message edited later")
    api(url, bob, "PATCH", f"{messages}/{edited}", {"body": "A message, edited"})
    gone = post(bob, "A message deleted")
    api(url, bob, "DELETE", f"{messages}/{gone}")
    post(alice, "The newest message")
    api(url, bob, "POST", f"/api/rooms/{other}/messages", {"body": "@alice look here"})
    return {"slug": slug, "url": url}


@pytest.fixture(scope="module")
def contexts(playwright_browser, logged_in):
    """context(size, scheme, user="alice") -> a browser context, made once
    per combination for the whole module."""
    made = {}

    def get(size: str, scheme: str, user: str | None = "alice"):
        key = (size, scheme, user)
        if key not in made:
            state = {"storage_state": logged_in[user]} if user else {}
            made[key] = playwright_browser.new_context(
                viewport=SIZES[size], color_scheme=scheme, **state
            )
        return made[key]

    yield get
    for context in made.values():
        context.close()


def open_page(context, site: dict, name: str):
    """A new page of `context` on the page called `name`, drawn."""
    url, slug = site["url"], site["slug"]
    page = context.new_page()
    if name == "login":
        page.goto(url + "/accounts/login/")
    elif name == "room list":
        page.goto(url + "/")
        expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
        expect(page.locator(".mention-badge:not([hidden])").first).to_be_visible()
    elif name == "room":
        page.goto(f"{url}/rooms/{slug}/")
        expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
        expect(page.locator("#messages .msg-body").last).to_have_text("The newest message")
        expect(page.locator(".presence-user").first).to_be_visible()
    elif name == "search":
        page.goto(f"{url}/search/?q={SEARCHED}")
        expect(page.locator(".search-hit")).to_have_count(2)
    elif name == "manage":
        page.goto(f"{url}/rooms/{slug}/manage/")
        expect(page.locator('.member-row[data-user="bob"]')).to_have_count(1)
    return page


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", PAGES)
def test_a_page_has_no_serious_axe_violation(site, contexts, name, size, scheme):
    context = contexts(size, scheme, None if name == "login" else "alice")
    page = open_page(context, site, name)
    try:
        violations = axe_violations(page)
        assert not violations, f"{name}, {size}, {scheme}:\n{report(violations)}"
    finally:
        page.close()


def violations_in_states(page, states) -> list[str]:
    """axe on `page` in each state: (name, a function that brings the page
    there); the violations found, named by state."""
    found = []
    for state, reach in states:
        reach()
        violations = axe_violations(page)
        if violations:
            found.append(f"{state}:\n{report(violations)}")
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_dialogs_menus_and_errors_have_no_serious_axe_violation(site, contexts, scheme):
    page = open_page(contexts("desktop", scheme), site, "room")
    newest = page.locator("#messages .msg").last
    first = page.locator("#messages .msg").first
    picker = page.get_by_role("dialog", name="Add a reaction")
    try:
        found = violations_in_states(
            page,
            [
                ("a message's actions", newest.focus),
                (
                    "the reaction picker",
                    lambda: (first.hover(), first.get_by_label("Add reaction").click()),
                ),
                (
                    "the delete dialog",
                    lambda: (
                        page.keyboard.press("Escape"),
                        expect(picker).to_have_count(0),
                        first.focus(),
                        first.get_by_role("button", name="Delete", exact=True).click(),
                    ),
                ),
                (
                    "the shortcuts",
                    lambda: (
                        page.keyboard.press("Escape"),
                        page.locator("body").press("?"),
                        expect(page.locator("#shortcuts")).to_be_visible(),
                    ),
                ),
                (
                    "the @ suggestions",
                    lambda: (
                        page.keyboard.press("Escape"),
                        page.get_by_label("Message", exact=True).press_sequentially("@b"),
                        expect(page.locator("#mention-list")).to_be_visible(),
                    ),
                ),
            ],
        )
    finally:
        page.close()
    login = contexts("phone", scheme, None).new_page()
    try:
        login.goto(site["url"] + "/accounts/login/")
        login.get_by_label("Username").fill("alice")
        login.get_by_label("Password").fill("not her password")
        login.get_by_role("button", name="Log in").click()
        expect(login.get_by_role("alert")).to_be_visible()
        found += violations_in_states(login, [("a refused login", lambda: None)])
    finally:
        login.close()
    assert not found, f"{scheme}:\n" + "\n".join(found)


def test_a_persons_dark_theme_holds_against_a_light_system(site, deployment, playwright_browser):
    """The setting's `data-theme="dark"` wins over a light system, and the
    dark pages pass axe (the README's dark picture is taken here)."""
    name = f"dark{uuid.uuid4().hex[:6]}"
    deployment.create_users(name, password="test-pass-123")
    deployment.manage("createroom", site["slug"], "--member", name)
    deployment.shell(
        "from django.contrib.auth import get_user_model\n"
        "from rooms.services import user_settings_set\n"
        f"user = get_user_model().objects.get(username={name!r})\n"
        "user_settings_set(user=user, language='', theme='dark')\n"
    )
    context = playwright_browser.new_context(viewport=SIZES["desktop"], color_scheme="light")
    try:
        page = context.new_page()
        page.goto(site["url"] + "/accounts/login/")
        page.get_by_label("Username").fill(name)
        page.get_by_label("Password").fill("test-pass-123")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(site["url"] + "/")
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        assert (
            page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
            == "rgb(15, 18, 24)"
        )
        found = violations_in_states(page, [("room list", lambda: None)])
        page.goto(f"{site['url']}/rooms/{site['slug']}/")
        expect(page.locator("#messages .msg-body").last).to_have_text("The newest message")
        expect(page.locator(".reaction").first).to_be_visible()
        found += violations_in_states(page, [("room", lambda: None)])
        assert not found, "\n".join(found)
        page.get_by_label("Message", exact=True).focus()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / "room-dark.png"
        page.screenshot(path=str(path))
        assert path.stat().st_size > 10_000
    finally:
        context.close()


# bob shares a picture and a PDF in room SLUG, through the services.
SHARE_FILES = """
import io
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw
from rooms import services
from rooms.models import Room
bob = get_user_model().objects.get(username="bob")
room = Room.objects.get(slug=SLUG)
picture = Image.new("RGB", (900, 520), "#eef0ff")
draw = ImageDraw.Draw(picture)
for n, share in enumerate((0.42, 0.55, 0.48, 0.7, 0.66, 0.86)):
    draw.rectangle((30 + n * 145, 520 * (1 - share), 130 + n * 145, 520), fill="#4f46e5")
png = io.BytesIO()
picture.save(png, format="PNG")
ids = [
    services.attachment_upload_by(by=bob, slug=SLUG, upload=SimpleUploadedFile(name, content)).id
    for name, content in (("signups.png", png.getvalue()), ("report.pdf", b"%PDF-1.4\\n" * 900))
]
services.message_post(room=room, author=bob, body="The numbers", attachments=ids)
"""


@pytest.fixture(scope="module")
def files_room(deployment) -> str:
    """A private room of alice and bob where bob shared a picture and a PDF."""
    slug = f"a11y-{uuid.uuid4().hex[:8]}"
    deployment.manage(
        "createroom",
        slug,
        "--title",
        "Files",
        "--private",
        "--moderator",
        "alice",
        "--member",
        "bob",
    )
    deployment.shell(SHARE_FILES.replace("SLUG", repr(slug)))
    return slug


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_files_uploads_and_the_larger_view_have_no_serious_axe_violation(
    site, files_room, contexts, scheme
):
    """A picture and a file card in a message, staged uploads (one ready,
    one refused with Retry), the drop zone, and the picture's larger view."""
    page = contexts("desktop", scheme).new_page()
    picture = page.get_by_role("link", name="Open signups.png")
    viewer = page.get_by_role("dialog", name="signups.png")
    staged = page.locator("#staged .upload")

    def stage_uploads():
        page.locator("#attach-picker").set_input_files(
            files=[
                {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"some notes"},
                {"name": "empty.txt", "mimeType": "text/plain", "buffer": b""},
            ]
        )
        expect(staged.filter(has_text="notes.txt").locator(".upload-status")).to_have_text("Ready")
        expect(staged.filter(has_text="empty.txt").get_by_role("alert")).to_be_visible()

    def drag_files():
        page.evaluate(
            """() => {
              const data = new DataTransfer();
              data.items.add(new File(["x"], "x.txt", { type: "text/plain" }));
              const init = { dataTransfer: data, bubbles: true, cancelable: true };
              document.getElementById("messages").dispatchEvent(new DragEvent("dragenter", init));
            }"""
        )
        expect(page.locator(".drop-zone")).to_be_visible()

    def open_viewer():
        page.locator(".drop-zone").evaluate("(zone) => { zone.hidden = true; }")
        picture.click()
        expect(viewer).to_be_visible()
        page.wait_for_function("() => document.querySelector('.viewer-image').naturalWidth > 0")

    try:
        page.goto(f"{site['url']}/rooms/{files_room}/")
        expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
        expect(page.locator("#messages .attachment-file")).to_have_count(1)
        page.wait_for_function(
            "() => document.querySelector('#messages .attachment-image img').naturalWidth > 0"
        )
        found = violations_in_states(
            page,
            [
                ("a picture and a file card", lambda: None),
                ("uploads staged, one refused", stage_uploads),
                ("files dragged over the room", drag_files),
                ("the picture's larger view", open_viewer),
            ],
        )
        page.keyboard.press("Escape")
        expect(viewer).to_be_hidden()
        expect(picture).to_be_focused()
    finally:
        page.close()
    assert not found, f"{scheme}:\n" + "\n".join(found)


@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
def test_reduced_motion_turns_animations_off(site, playwright_browser, logged_in, motion):
    context = playwright_browser.new_context(
        storage_state=logged_in["alice"], reduced_motion=motion
    )
    try:
        page = context.new_page()
        page.goto(site["url"] + "/")
        # A connection badge while it connects: its dot pulses.
        duration = page.evaluate(
            """() => {
              const conn = document.createElement("div");
              conn.className = "conn";
              conn.dataset.state = "connecting";
              conn.innerHTML = '<span class="conn-dot"></span>';
              document.body.append(conn);
              return getComputedStyle(conn.firstChild).animationDuration;
            }"""
        )
        assert (duration == "1.2s") == (motion == "no-preference"), duration
    finally:
        context.close()


def test_the_pages_in_german_have_no_serious_axe_violation(
    site, files_room, playwright_browser, logged_in
):
    """Names that must contain a control's visible words hold in another
    language too (the pages follow Accept-Language); a room's files too."""
    context = playwright_browser.new_context(
        storage_state=logged_in["alice"], viewport=SIZES["desktop"], locale="de-DE"
    )
    try:
        found = []
        for name in ("room list", "room", "search", "manage"):
            page = open_page(context, site, name)
            expect(page.locator("html")).to_have_attribute("lang", "de")
            found += violations_in_states(page, [(name, lambda: None)])
            page.close()
        page = context.new_page()
        page.goto(f"{site['url']}/rooms/{files_room}/")
        expect(page.get_by_role("link", name="Herunterladen: report.pdf")).to_be_visible()
        expect(page.locator("#messages .attachment-file-size")).to_have_text("7,9 KB")
        found += violations_in_states(page, [("files", lambda: None)])
        page.close()
        assert not found, "\n".join(found)
    finally:
        context.close()
