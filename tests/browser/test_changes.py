"""Edits, deletions, reactions and replies in Chromium (protocol v2): what one
person changes reaches the other live and after being offline, a change made
offline survives a reload and is stored once, the actions work from the
keyboard and at phone width, and the docs' screenshot of a conversation."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, open_room, send

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"

# Every entry of a room's log, read over the page's own origin with a second
# socket: join with since=0 and collect backfill up to the head.
READ_LOG = """async (slug) => await new Promise((resolve, reject) => {
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/`);
  const entries = [];
  let head = null;
  const done = () => { socket.close(); resolve(entries); };
  socket.onerror = () => reject(new Error("socket error"));
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "hello") {
      socket.send(JSON.stringify({ type: "join", room: slug, since: 0, presence: false }));
    } else if (frame.type === "joined") {
      head = frame.head;
      if (head === 0) done();
    } else if (frame.type === "backfill" || frame.type === "message") {
      entries.push(...(frame.messages ?? [frame.message]));
      if (entries.length && entries[entries.length - 1].seq >= head) done();
    }
  };
})"""


# Frames sent over a second socket of the page's user, resolved once each
# has its ack: for preparing a room with more entries than a test wants to click.
SEND_FRAMES = """async ([slug, frames]) => await new Promise((resolve, reject) => {
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/`);
  let acked = 0;
  socket.onerror = () => reject(new Error("socket error"));
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "hello") {
      const join = { type: "join", room: slug, since: 0, limit: 1, presence: false };
      socket.send(JSON.stringify(join));
    } else if (frame.type === "joined") {
      frames.forEach((each, n) => {
        socket.send(JSON.stringify({ ...each, room: slug, client_id: `prep-${n}` }));
      });
    } else if (frame.type === "error") {
      reject(new Error(frame.message));
    } else if (frame.type === "ack" && ++acked === frames.length) {
      socket.close();
      resolve(acked);
    }
  };
})"""


def log_entries(page, slug: str) -> list[dict]:
    return page.evaluate(READ_LOG, slug)


def message(page, body: str):
    """The message whose body is `body` now."""
    return page.locator("#messages .msg").filter(has=page.locator(".msg-body", has_text=body))


def by_seq(page, seq: str):
    return page.locator(f'#messages .msg[data-seq="{seq}"]')


def act(item, action: str) -> None:
    """Hover the message and press one of its action buttons."""
    item.hover()
    item.get_by_role("button", name=action, exact=True).click()


def react(page, item, emoji: str) -> None:
    act(item, "Add reaction")
    page.get_by_role("dialog", name="Add a reaction").get_by_role(
        "button", name=f"React with {emoji}"
    ).click()


def edit(page, item, body: str) -> None:
    act(item, "Edit")
    editor = item.get_by_label("Edit message")
    editor.fill(body)
    editor.press("Enter")


def delete(page, item) -> None:
    act(item, "Delete")
    page.locator("#confirm-delete").get_by_role("button", name="Delete").click()


def chip(item, emoji: str):
    return item.locator(f'.reaction[data-emoji="{emoji}"]')


def settled(page) -> None:
    """Nothing of this page is waiting for the server."""
    expect(page.locator("#messages .msg--unsent")).to_have_count(0)
    expect(page.locator("#pending .msg")).to_have_count(0)


def test_reader_who_was_offline_sees_every_change_on_return_without_a_reload(
    deployment, browse, room
):
    slug = room("Changes")
    alice = open_room(browse("alice"), deployment, slug)
    bob_context = browse("bob")
    bob = open_room(bob_context, deployment, slug)
    for body in ("first draft", "to be removed", "keep me"):
        send(alice, body)
    expect(bob.locator("#messages .msg-body")).to_have_text(
        ["first draft", "to be removed", "keep me"]
    )
    draft_seq = message(alice, "first draft").get_attribute("data-seq")
    react(bob, message(bob, "keep me"), "👍")
    expect(chip(message(alice, "keep me"), "👍")).to_contain_text("1")

    bob.evaluate("window.stillTheSamePage = true")
    bob_context.set_offline(True)
    expect(bob.locator("#conn")).to_have_attribute("data-state", "offline")

    edit(alice, by_seq(alice, draft_seq), "final text")
    react(alice, by_seq(alice, draft_seq), "🎉")
    react(alice, message(alice, "keep me"), "👍")
    delete(alice, message(alice, "to be removed"))
    act(by_seq(alice, draft_seq), "Reply")
    expect(alice.locator("#reply-bar")).to_contain_text("final text")
    send(alice, "a reply")
    expect(alice.locator("#reply-bar")).to_be_hidden()
    settled(alice)
    expect(bob.locator("#messages .msg-body")).to_have_text(
        ["first draft", "to be removed", "keep me"]
    )  # the offline page really heard nothing

    bob_context.set_offline(False)
    expect(bob.locator("#conn")).to_have_attribute("data-state", "connected")
    draft = by_seq(bob, draft_seq)
    expect(bob.locator("#messages .msg-body")).to_have_text(
        ["final text", "message deleted", "keep me", "a reply"]
    )
    expect(draft.locator(".msg-edited")).to_be_visible()
    assert draft.locator(".msg-edited").get_attribute("title").startswith("Edited ")
    expect(chip(draft, "🎉")).to_have_attribute("aria-pressed", "false")
    expect(chip(draft, "🎉").locator(".reaction-count")).to_have_text("1")
    assert "alice" in chip(draft, "🎉").get_attribute("title")
    keep = message(bob, "keep me")
    expect(chip(keep, "👍").locator(".reaction-count")).to_have_text("2")
    expect(chip(keep, "👍")).to_have_attribute("aria-pressed", "true")
    assert chip(keep, "👍").get_attribute("title").startswith("alice, bob")
    removed = bob.locator("#messages .msg--deleted")
    expect(removed).to_have_count(1)
    expect(removed.locator(".reaction")).to_have_count(0)
    expect(removed.get_by_role("button", name="Edit", exact=True)).to_be_hidden()

    reply = message(bob, "a reply")
    quote = reply.locator(".msg-quote")
    expect(quote).to_contain_text("alice:")
    expect(quote).to_contain_text("final text")
    quote.click()
    expect(draft).to_be_focused()
    expect(draft).to_have_class(re.compile(r"\bmsg--highlight\b"))
    assert bob.evaluate("window.stillTheSamePage") is True

    # Bob may answer and react, but neither edit nor delete alice's messages.
    keep.hover()
    expect(keep.get_by_role("button", name="Reply", exact=True)).to_be_visible()
    expect(keep.get_by_role("button", name="Edit", exact=True)).to_be_hidden()
    expect(keep.get_by_role("button", name="Delete", exact=True)).to_be_hidden()


def test_changes_made_offline_survive_a_reload_and_are_stored_once(deployment, browse, room):
    slug = room()
    context = browse("alice")
    alice = open_room(context, deployment, slug)
    bob = open_room(browse("bob"), deployment, slug)
    send(bob, "please review")
    send(alice, "my typo")
    expect(alice.locator("#messages .msg-body")).to_have_text(["please review", "my typo"])
    review_seq = message(alice, "please review").get_attribute("data-seq")
    typo_seq = message(alice, "my typo").get_attribute("data-seq")

    context.set_offline(True)
    expect(alice.locator("#conn")).to_have_attribute("data-state", "offline")
    react(alice, by_seq(alice, review_seq), "❤️")
    edit(alice, by_seq(alice, typo_seq), "my fix")
    # Shown at once, marked as not saved yet.
    expect(by_seq(alice, typo_seq).locator(".msg-body")).to_have_text("my fix")
    expect(alice.locator("#messages .msg--unsent")).to_have_count(2)
    expect(chip(by_seq(alice, review_seq), "❤️")).to_have_class(re.compile(r"\breaction--pending\b"))
    alice.close()  # the outbox is in localStorage only

    context.set_offline(False)
    again = open_room(context, deployment, slug)
    settled(again)
    for page in (again, bob):
        expect(by_seq(page, typo_seq).locator(".msg-body")).to_have_text("my fix")
        expect(by_seq(page, typo_seq).locator(".msg-edited")).to_be_visible()
        expect(chip(by_seq(page, review_seq), "❤️").locator(".reaction-count")).to_have_text("1")
    # A second page of the same browser finds an empty outbox: nothing again.
    third = open_room(context, deployment, slug)
    expect(by_seq(third, typo_seq).locator(".msg-body")).to_have_text("my fix")
    settled(third)

    entries = log_entries(third, slug)
    edits = [e for e in entries if e["kind"] == "edit"]
    reactions = [e for e in entries if e["kind"] == "reaction"]
    assert [(e["target"], e["body"], e["author"]) for e in edits] == [
        (int(typo_seq), "my fix", "alice")
    ]
    assert [(e["target"], e["emoji"], e["on"], e["author"]) for e in reactions] == [
        (int(review_seq), "❤️", True, "alice")
    ]


def test_first_screen_after_many_reactions_shows_messages_in_their_current_state(
    deployment, browse, room
):
    slug = room()
    seqs = deployment.post_many(slug, [f"m{n}" for n in range(1, 6)], as_user="bob")
    bob = open_room(browse("bob"), deployment, slug)
    expect(bob.locator("#messages .msg-body")).to_have_count(5)
    # The edit is older than the newest 50 entries, which are all reactions.
    frames = [{"type": "edit", "seq": seqs[1], "body": "m2, edited"}]
    frames += [
        {"type": "react", "seq": seqs[0], "emoji": "👍", "on": n % 2 == 0} for n in range(61)
    ]
    assert bob.evaluate(SEND_FRAMES, [slug, frames]) == 62

    alice = open_room(browse("alice"), deployment, slug)
    expect(alice.locator("#messages .msg-body")).to_have_text(
        ["m1", "m2, edited", "m3", "m4", "m5"]
    )
    first, second = by_seq(alice, str(seqs[0])), by_seq(alice, str(seqs[1]))
    expect(second.locator(".msg-edited")).to_be_visible()
    expect(chip(first, "👍").locator(".reaction-count")).to_have_text("1")
    # Messages loaded as history take later changes live.
    react(bob, message(bob, "m1"), "🎉")
    expect(chip(first, "🎉").locator(".reaction-count")).to_have_text("1")


def test_message_actions_work_from_the_keyboard(deployment, browse, room):
    slug = room()
    alice = open_room(browse("alice"), deployment, slug)
    composer = alice.get_by_label("Message", exact=True)
    send(alice, "one")
    send(alice, "two")
    expect(alice.locator("#messages .msg-body")).to_have_text(["one", "two"])
    two = message(alice, "two")

    # Up in the empty composer edits the last own message; Escape cancels.
    composer.press("ArrowUp")
    editor = two.get_by_label("Edit message")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("two")
    editor.press("End")
    editor.press_sequentially(" (typo)")
    editor.press("Escape")
    expect(editor).to_have_count(0)
    expect(composer).to_be_focused()
    expect(two.locator(".msg-body")).to_have_text("two")
    # Again, and Enter saves.
    composer.press("ArrowUp")
    two.get_by_label("Edit message").fill("two, edited")
    two.get_by_label("Edit message").press("Enter")
    expect(two.locator(".msg-body")).to_have_text("two, edited")
    expect(two.locator(".msg-edited")).to_be_visible()
    expect(composer).to_be_focused()

    # The reaction picker: focus moves into it, Escape gives it back.
    two.focus()  # the actions are there while the focus is in the message
    react_button = two.get_by_role("button", name="Add reaction", exact=True)
    expect(react_button).to_be_visible()
    react_button.focus()
    react_button.press("Enter")
    picker = alice.get_by_role("dialog", name="Add a reaction")
    expect(picker.get_by_role("button", name="React with 👍")).to_be_focused()
    alice.keyboard.press("Escape")
    expect(picker).to_have_count(0)
    expect(react_button).to_be_focused()
    # Any emoji through the text field; whitespace is refused.
    react_button.press("Enter")
    field = picker.get_by_label("Any emoji")
    field.fill("not one")
    field.press("Enter")
    expect(field).to_have_attribute("aria-invalid", "true")
    field.fill("🦄")
    field.press("Enter")
    unicorn = chip(two, "🦄")
    expect(unicorn).to_have_attribute("aria-pressed", "true")
    unicorn.focus()
    unicorn.press("Enter")  # toggles it off again
    expect(unicorn).to_have_count(0)

    # Reply: the composer quotes the message; Escape cancels the reply.
    message(alice, "one").focus()
    reply_button = message(alice, "one").get_by_role("button", name="Reply", exact=True)
    reply_button.focus()
    reply_button.press("Enter")
    expect(alice.locator("#reply-bar")).to_contain_text("one")
    expect(composer).to_be_focused()
    composer.press("Escape")
    expect(alice.locator("#reply-bar")).to_be_hidden()

    # Delete asks first; Escape keeps the message.
    message(alice, "one").focus()
    delete_button = message(alice, "one").get_by_role("button", name="Delete", exact=True)
    delete_button.focus()
    delete_button.press("Enter")
    dialog = alice.locator("#confirm-delete")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    alice.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(alice.locator("#messages .msg--deleted")).to_have_count(0)
    settled(alice)


def test_staff_may_delete_anyones_message_and_others_see_the_placeholder(
    deployment, browse, playwright_browser, room
):
    slug = room()
    deployment.create_users("staffer", password=PASSWORD, staff=True)
    deployment.post_many(slug, ["spam spam spam", "a fine message"], as_user="bob")
    context = playwright_browser.new_context()
    try:
        login = context.new_page()
        login.goto(deployment.worker.http_url + "/accounts/login/")
        login.get_by_label("Username").fill("staffer")
        login.get_by_label("Password").fill(PASSWORD)
        login.get_by_role("button", name="Log in").click()
        login.wait_for_url(deployment.worker.http_url + "/")
        staff = open_room(context, deployment, slug)
        bob = open_room(browse("bob"), deployment, slug)
        spam = message(staff, "spam spam spam")
        spam.hover()
        expect(spam.get_by_role("button", name="Edit", exact=True)).to_be_hidden()
        delete(staff, spam)
        expect(bob.locator("#messages .msg-body")).to_have_text(
            ["message deleted", "a fine message"]
        )
        expect(staff.locator("#messages .msg--deleted")).to_have_count(1)
        settled(staff)
    finally:
        context.close()


def test_actions_at_phone_width_show_after_a_tap(deployment, browse, room):
    slug = room()
    deployment.post_many(slug, ["tap me"], as_user="bob")
    context = browse("alice", 390, 844)
    alice = open_room(context, deployment, slug)
    item = message(alice, "tap me")
    item.locator(".msg-body").click()
    expect(item).to_have_class(re.compile(r"\bmsg--active\b"))
    item.get_by_role("button", name="Add reaction", exact=True).click()
    picker = alice.get_by_role("dialog", name="Add a reaction")
    box = picker.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    picker.get_by_role("button", name="React with 😮").click()
    expect(chip(item, "😮")).to_have_attribute("aria-pressed", "true")
    width = alice.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


def test_screenshot_of_a_conversation_with_a_reply_an_edit_a_deletion_and_reactions(
    deployment, browse, room
):
    slug = room("Launch plan")
    deployment.post_many(slug, ["Welcome to Launch plan! Decisions go here."])
    deployment.post_many(slug, ["The release notes draft is in the docs folder."], "alice")
    deployment.post_many(slug, ["I read them: two typos, otherwise great."], "bob")
    alice = open_room(browse("alice"), deployment, slug)
    bob = open_room(browse("bob"), deployment, slug)
    send(alice, "We ship on Thursday at 10:00")
    send(bob, "wrong window, sorry")
    expect(alice.locator("#messages .msg-body")).to_have_count(5)

    # Each page acts once the other's last change is on it: a change landing
    # between a hover and its click moves the messages from under the mouse.
    edit(alice, message(alice, "We ship on Thursday"), "We ship on Thursday at 14:00")
    expect(message(bob, "Thursday at 14:00")).to_have_count(1)
    delete(bob, message(bob, "wrong window"))
    react(bob, message(bob, "release notes draft"), "👍")
    expect(alice.locator("#messages .msg--deleted")).to_have_count(1)
    expect(chip(message(alice, "release notes draft"), "👍")).to_have_count(1)
    react(alice, message(alice, "two typos"), "❤️")
    expect(chip(message(bob, "two typos"), "❤️")).to_have_count(1)
    react(bob, message(bob, "Thursday at 14:00"), "🎉")
    expect(chip(message(alice, "Thursday at 14:00"), "🎉")).to_have_count(1)
    react(alice, message(alice, "Thursday at 14:00"), "🎉")
    expect(chip(message(bob, "Thursday at 14:00"), "🎉").locator(".reaction-count")).to_have_text(
        "2"
    )
    act(message(bob, "Thursday at 14:00"), "Reply")
    send(bob, "14:00 works for me. I will post in the lobby.")
    expect(message(alice, "14:00 works for me")).to_have_count(1)
    act(message(alice, "two typos"), "Reply")
    send(alice, "Fixed both, thanks!")

    expect(alice.locator("#messages .msg-body")).to_have_count(7)
    expect(alice.locator("#messages .msg-quote:visible")).to_have_count(2)
    expect(chip(message(alice, "Thursday at 14:00"), "🎉").locator(".reaction-count")).to_have_text(
        "2"
    )
    settled(alice)
    settled(bob)
    alice.mouse.move(0, 0)
    alice.get_by_label("Message", exact=True).focus()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / "room-changes.png"
    alice.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
