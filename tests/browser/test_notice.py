"""Rich text, @mentions, notifications and badges in Chromium (issue 10): a
link is clickable and safe, code blocks keep their shape, hostile bodies stay
inside their message box, `@` suggestions are taken with the keyboard, a
mention of a user whose tab is hidden shows one notification and a title
badge, and reading clears both. Also the docs' screenshots of them."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_room, send
from tests.browser.test_changes import SEND_FRAMES, settled

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"

# A hidden tab, as far as the page can tell (visibilityState, hidden), until
# the test sets window.__hidden = false; and every Notification captured in
# window.__notifications instead of shown.
HIDDEN_WITH_NOTIFICATIONS = """
window.__hidden = true;
Object.defineProperty(Document.prototype, "visibilityState", {
  configurable: true, get() { return window.__hidden ? "hidden" : "visible"; } });
Object.defineProperty(Document.prototype, "hidden", {
  configurable: true, get() { return window.__hidden; } });
window.__notifications = [];
const RealNotification = window.Notification;
window.Notification = class {
  constructor(title, options = {}) {
    this.title = title;
    window.__notifications.push({ title, body: options.body, tag: options.tag });
    window.__lastNotification = this;
  }
  close() {}
  static get permission() { return RealNotification.permission; }
  static requestPermission() { return RealNotification.requestPermission(); }
};
"""

SHOW_PAGE = "window.__hidden = false; document.dispatchEvent(new Event('visibilitychange'))"


def body_of(page, text: str):
    return page.locator("#messages .msg-body").filter(has_text=text)


def test_a_link_is_clickable_and_safe_and_code_blocks_keep_their_shape(deployment, browse, room):
    slug = room("Markdown")
    context = browse("alice")
    alice = open_room(context, deployment, slug)
    target = f"{deployment.worker.http_url}/healthz"
    send(alice, f"**Docs** at [health]({target}), not [evil](javascript:alert(1)) <b>bold?</b>")
    body = body_of(alice, "Docs")
    link = body.get_by_role("link", name="health")
    expect(link).to_have_attribute("href", target)
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(body.locator("strong")).to_have_text("Docs")
    expect(body.locator("a")).to_have_count(1)  # javascript: is text
    expect(body).to_contain_text("[evil](javascript:alert(1)) <b>bold?</b>")
    expect(body.locator("b")).to_have_count(0)
    with context.expect_page() as opened:
        link.click()
    popup = opened.value
    popup.wait_for_load_state()
    assert popup.url == target
    assert popup.evaluate("window.opener === null")
    popup.close()

    code = "def f(x):\n    if x:\n        return '<i>'  " + "#" * 300 + "\n    return None"
    alice.get_by_label("Message", exact=True).fill(f"```python\n{code}\n```")
    alice.get_by_label("Message", exact=True).press("Enter")
    block = alice.locator("#messages .msg-body pre code")
    expect(block).to_have_count(1)
    assert block.inner_text() == code + "\n"  # lines and indentation kept, HTML as text
    pre = alice.locator("#messages .msg-body pre")
    assert pre.evaluate("node => getComputedStyle(node).whiteSpace") == "pre"
    assert "monospace" in block.evaluate("node => getComputedStyle(node).fontFamily")
    # The long line scrolls inside the block instead of widening the message.
    assert pre.evaluate("node => node.scrollWidth > node.clientWidth")
    scroller = alice.locator("#scroller").bounding_box()
    box = pre.bounding_box()
    assert box["x"] + box["width"] <= scroller["x"] + scroller["width"]


HOSTILE = [
    "```\nunclosed fence <script>alert(1)</script>\n" + "x" * 500,
    ">" * 1000 + " deep",
    "*" * 4000,
    "<img src=x onerror=alert(1)><script>alert(2)</script>",
    "[click](javascript:alert(3)) <javascript:alert(4)>",
    "https://example.com/" + "a" * 3900,
    "- " * 1000 + "x",
]


@pytest.mark.parametrize("width", [1280, 390])
def test_hostile_bodies_render_quickly_and_stay_inside_their_box(deployment, browse, room, width):
    slug = room("Hostile")
    alice = open_room(browse("alice", width=width, height=800), deployment, slug)
    alice.evaluate("window.alerted = []; window.alert = (x) => window.alerted.push(x); 0")
    frames = [{"type": "send", "body": body} for body in HOSTILE]
    alice.evaluate(SEND_FRAMES, [slug, frames])
    expect(alice.locator("#messages .msg")).to_have_count(len(HOSTILE), timeout=5_000)
    settled(alice)
    scroller = alice.locator("#scroller").bounding_box()
    right = scroller["x"] + scroller["width"]
    for n in range(len(HOSTILE)):
        box = alice.locator("#messages .msg").nth(n).locator(".msg-body").bounding_box()
        assert box["x"] >= scroller["x"] and box["x"] + box["width"] <= right + 1, HOSTILE[n][:30]
    links = alice.locator("#messages .msg-body a")
    for href in links.evaluate_all("nodes => nodes.map((node) => node.href)"):
        assert href.startswith("https://")
    expect(alice.locator("#messages .msg-body img, #messages .msg-body script")).to_have_count(0)
    assert alice.evaluate("window.alerted") == []
    assert alice.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_at_suggestions_select_a_user_with_the_keyboard(deployment, browse, room):
    slug = room("Mentions")
    alice = open_room(browse("alice"), deployment, slug)
    open_room(browse("bob"), deployment, slug)
    expect(alice.locator("#presence")).to_contain_text("bob")
    composer = alice.get_by_label("Message", exact=True)
    composer.press_sequentially("lunch? @b")
    listbox = alice.get_by_role("listbox", name="People to mention")
    options = listbox.get_by_role("option")
    expect(options).to_have_text(["@bob"])
    expect(composer).to_have_attribute("aria-activedescendant", re.compile("mention-list-0"))
    composer.press("Escape")
    expect(listbox).to_be_hidden()
    expect(composer).not_to_have_attribute("aria-activedescendant", re.compile("."))
    composer.press("Backspace")
    composer.press("b")
    expect(options).to_have_text(["@bob"])
    composer.press("ArrowDown")
    composer.press("Enter")  # takes the name, does not send
    expect(composer).to_have_value("lunch? @bob ")
    composer.press_sequentially("at noon")
    composer.press("Enter")
    mention = body_of(alice, "lunch?").locator(".mention")
    expect(mention).to_have_text("@bob")
    expect(mention).not_to_have_class(re.compile("mention--me"))


def test_a_mention_of_a_hidden_tab_notifies_once_and_badges_until_read(deployment, browse, room):
    slug = room("Lobby")
    bob_context = browse("bob")
    bob_context.grant_permissions(["notifications"], origin=deployment.worker.http_url)
    bob_context.add_init_script(HIDDEN_WITH_NOTIFICATIONS)
    bob = open_room(bob_context, deployment, slug)
    # A second hidden tab of bob's, the room list: it sees the same message.
    bob_list = bob_context.new_page()
    bob_list.goto(deployment.worker.http_url + "/")
    expect(bob_list.locator("#conn")).to_have_attribute("data-state", "connected")
    base_title = bob.title()
    # Other tests' rooms may hold unread messages of bob's: the list counts them too.
    list_title = bob_list.title()
    before = int(re.match(r"^\((\d+)\) Rooms$", list_title).group(1)) if "(" in list_title else 0
    assert base_title == "Lobby — Rooms"

    alice = open_room(browse("alice"), deployment, slug)
    send(alice, "just chatting")
    send(alice, "@bob can you **review** the plan?")
    mention = body_of(bob, "can you").locator(".mention--me")
    expect(mention).to_have_text("@bob")
    expect(body_of(bob, "can you").locator("xpath=ancestor::li[1]")).to_have_class(
        re.compile("msg--mentions-me")
    )
    expect(bob).to_have_title("(2) Lobby — Rooms")
    expect(bob.locator("html")).to_have_attribute("data-badge", "mention")
    assert bob.evaluate("document.querySelector('link[rel=icon]').href").startswith(
        "data:image/png"
    )
    row = bob_list.locator(f'.room-row[data-room="{slug}"]')
    expect(row.locator(".mention-badge")).to_have_text("@1")
    expect(row.locator(".unread")).to_have_text("2")
    expect(bob_list).to_have_title(f"({before + 2}) Rooms")

    # One notification however many tabs: the plain message did not notify
    # (mentions only, the default), the mention did, in one of the two tabs.
    def captured():
        return bob.evaluate("window.__notifications") + bob_list.evaluate("window.__notifications")

    for _ in range(50):
        if captured():
            break
        bob.wait_for_timeout(100)
    bob.wait_for_timeout(500)  # a second one would have come by now
    notifications = captured()
    assert len(notifications) == 1, notifications
    assert notifications[0]["title"] == "alice mentioned you in Lobby"
    assert notifications[0]["body"] == "@bob can you review the plan?"

    # Reading clears both: the tab shows again and marks the messages read.
    bob.evaluate(SHOW_PAGE)
    expect(bob).to_have_title("Lobby — Rooms")
    expect(bob.locator("html")).to_have_attribute("data-badge", "none")
    expect(row.locator(".mention-badge")).to_be_hidden()
    expect(row.locator(".unread")).to_be_hidden()
    expect(bob_list).to_have_title(list_title)


def test_clicking_a_notification_focuses_the_message_and_the_setting_is_saved(
    deployment, browse, room
):
    slug = room("Follow")
    bob_context = browse("bob")
    bob_context.grant_permissions(["notifications"], origin=deployment.worker.http_url)
    bob_context.add_init_script(HIDDEN_WITH_NOTIFICATIONS)
    bob = open_room(bob_context, deployment, slug)
    level = bob.get_by_label("Notify me of")
    expect(level).to_have_value("mentions")
    with bob.expect_response(re.compile(r"/notifications$")) as saved:
        level.select_option("all")
    assert saved.value.status == 200
    expect(bob.locator("#live")).to_have_text("Notifications: All messages")

    alice = open_room(browse("alice"), deployment, slug)
    send(alice, "no mention, but bob follows everything")
    for _ in range(100):  # wait_for_function needs eval, which the CSP forbids
        if bob.evaluate("window.__notifications.length"):
            break
        bob.wait_for_timeout(100)
    assert bob.evaluate("window.__notifications[0].title") == "alice in Follow"
    bob.evaluate(SHOW_PAGE + "; window.__lastNotification.onclick()")
    expect(body_of(bob, "bob follows").locator("xpath=ancestor::li[1]")).to_be_focused()

    bob.reload()
    expect(bob.get_by_label("Notify me of")).to_have_value("all")


def test_screenshots_of_rich_text_a_mention_and_the_badges(deployment, browse, room):
    slug = room("Release")
    bob_context = browse("bob")
    bob_context.add_init_script(HIDDEN_WITH_NOTIFICATIONS)
    bob = open_room(bob_context, deployment, slug)
    alice = open_room(browse("alice"), deployment, slug)
    send(alice, "Release checklist:\n1. **Freeze** `main`\n2. Run *the full suite*\n3. Tag it")
    alice.get_by_label("Message", exact=True).fill(
        "Build with:\n```sh\nmake test && git tag v1.4.0\n```\nNotes: https://example.com/notes"
    )
    alice.get_by_label("Message", exact=True).press("Enter")
    send(alice, "> Is the changelog done?\n@bob can you check?")
    expect(bob).to_have_title("(3) Release — Rooms")
    bob.evaluate(SHOW_PAGE)
    send(bob, "On it, @alice")
    expect(alice.locator("#messages .mention--me")).to_have_count(1)
    settled(alice)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    alice.get_by_label("Message", exact=True).focus()
    bob.get_by_label("Message", exact=True).focus()
    bob.screenshot(path=str(SCREENSHOTS / "notice-room.png"))

    bob.close()  # it would read the next message at once
    listing = browse("bob", width=900, height=420).new_page()
    listing.goto(deployment.worker.http_url + "/")
    expect(listing.locator("#conn")).to_have_attribute("data-state", "connected")
    send(alice, "@bob one more thing")
    row = listing.locator(f'.room-row[data-room="{slug}"]')
    expect(row.locator(".mention-badge")).to_have_text("@1")
    listing.screenshot(path=str(SCREENSHOTS / "notice-badges.png"))
    assert (SCREENSHOTS / "notice-room.png").stat().st_size > 10_000
