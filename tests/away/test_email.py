"""Email of what people missed (docs/notifications.md): after the delay, one
email per room listing the messages then still unread, to a real SMTP
server; nothing read in time, deleted, one's own, silenced, or for a user
without an address; multipart, with RFC 8058 unsubscribe headers."""

import re
import time

import pytest
from django.test import Client
from django.utils import timezone

from rooms import access, services
from rooms.models import EmailPreference, NotifyState

from .conftest import DELAY, drain, pending_jobs, run_due_jobs, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(user_factory):
    alice = user_factory("alice", email="alice@example.com")
    bob = user_factory("bob", email="bob@example.com")
    return alice, bob


def post(room, author, body: str) -> int:
    return services.message_post(room=room, author=author, body=body, check_rate=False).seq


def linked_seqs(message) -> list[int]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return [int(seq) for seq in re.findall(r"#seq-(\d+)", text)]


def test_a_mention_is_emailed_only_once_the_delay_has_passed(inbox, people, lobby):
    alice, _ = people
    started = time.monotonic()
    seq = post(lobby, alice, "@bob look")
    run_due_jobs()
    assert inbox.received() == [] and pending_jobs() == 1  # not due yet
    (message,) = inbox.wait_for(1, poll=run_due_jobs)
    assert time.monotonic() - started >= DELAY
    assert message["To"] == "bob@example.com"
    assert linked_seqs(message) == [seq]
    assert "https://rooms.example/rooms/lobby/#seq-1" in message.get_body(("plain",)).get_content()


def test_a_burst_in_one_room_is_one_email_of_the_newest_20_and_n_more(inbox, people, lobby):
    alice, _ = people
    seqs = [post(lobby, alice, f"@bob number {n}") for n in range(50)]
    assert pending_jobs() == 1  # one job for the whole burst
    drain()
    (message,) = inbox.received()
    assert linked_seqs(message) == seqs[::-1][:20]
    assert "and 30 more" in message.get_body(("plain",)).get_content()
    assert message["Subject"] == "50 new messages in Lobby"


def test_messages_read_in_time_or_deleted_are_left_out(inbox, people, lobby):
    alice, bob = people
    read = post(lobby, alice, "@bob one")
    deleted = post(lobby, alice, "@bob two")
    kept = post(lobby, alice, "@bob three")
    services.read_cursor_advance(
        user=bob, room=access.room_access(user=bob, slug="lobby"), seq=read
    )
    services.entry_post(room=lobby, author=alice, kind="delete", target=deleted, check_rate=False)
    drain()
    (message,) = inbox.received()
    assert linked_seqs(message) == [kept]


def test_everything_read_in_time_sends_nothing(inbox, people, lobby):
    alice, bob = people
    seq = post(lobby, alice, "@bob one")
    services.read_cursor_advance(user=bob, room=access.room_access(user=bob, slug="lobby"), seq=seq)
    drain()
    assert inbox.received() == []
    assert NotifyState.objects.get(user=bob).due_at is None


def test_own_messages_are_never_emailed(inbox, people, user_factory):
    alice, bob = people
    room, _ = services.direct_open(user=alice, others=[bob])
    post(room, alice, "hello @alice and bob")
    drain()
    assert [m["To"] for m in inbox.received()] == ["bob@example.com"]


def test_every_message_of_a_direct_conversation_is_emailed_to_the_others(inbox, people):
    alice, bob = people
    room, _ = services.direct_open(user=alice, others=[bob])
    first, second = post(room, alice, "hi"), post(room, alice, "are you there?")
    drain()
    (message,) = inbox.received()
    assert message["To"] == "bob@example.com" and linked_seqs(message) == [second, first]


def test_a_room_set_to_none_is_never_emailed(inbox, people, lobby):
    alice, bob = people
    bob_lobby = access.room_access(user=bob, slug="lobby")
    services.notification_level_set(user=bob, room=bob_lobby, level="none")
    post(lobby, alice, "@bob hello")
    drain()
    assert inbox.received() == []


def test_a_user_without_an_address_gets_nothing(inbox, people, lobby, user_factory):
    alice, _ = people
    user_factory("carol")  # no address
    post(lobby, alice, "@carol hello")
    drain()
    assert inbox.received() == [] and not NotifyState.objects.exists()


def test_the_email_is_text_and_html_with_one_click_unsubscribe(inbox, people, lobby):
    alice, _ = people
    post(lobby, alice, "@bob <b>bold</b> & more")
    drain()
    (message,) = inbox.received()
    assert message.get_content_type() == "multipart/alternative"
    assert "<b>bold</b> & more" in message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html
    assert 'href="https://rooms.example/rooms/lobby/#seq-1"' in html
    assert re.fullmatch(
        r"<https://rooms\.example/unsubscribe/[^/>]+/>", message["List-Unsubscribe"].strip()
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_one_click_post_without_a_session_stops_further_email(inbox, people, lobby):
    alice, bob = people
    post(lobby, alice, "@bob first")
    (message,) = inbox.wait_for(1, poll=run_due_jobs)
    link = message["List-Unsubscribe"].strip().strip("<>").removeprefix("https://rooms.example")
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.get(link).status_code == 200  # a confirm page: a GET changes nothing
    assert not EmailPreference.objects.filter(user=bob, enabled=False).exists()
    response = anonymous.post(link, "List-Unsubscribe=One-Click", content_type="text/plain")
    assert response.status_code == 200
    assert EmailPreference.objects.get(user=bob).enabled is False
    post(lobby, alice, "@bob second")
    drain()
    assert len(inbox.received()) == 1


def test_a_forged_unsubscribe_token_changes_nothing(inbox, people):
    response = Client().post("/unsubscribe/not-a-token/")
    assert response.status_code == 400
    assert not EmailPreference.objects.exists()


def test_without_email_configured_nothing_is_scheduled(inbox, people, lobby, settings):
    settings.EMAIL_URL = None
    alice, _ = people
    post(lobby, alice, "@bob hello")
    assert pending_jobs() == 0 and not NotifyState.objects.exists()


def test_a_mail_server_that_cannot_be_reached_gets_the_messages_later(
    inbox, people, lobby, settings
):
    from tests.harness.deployment import free_port

    alice, bob = people
    working_port, settings.EMAIL_PORT = settings.EMAIL_PORT, free_port()  # nobody listens
    seq = post(lobby, alice, "@bob hello")
    state = NotifyState.objects.filter(user=bob)
    sent_at = time.monotonic()
    wait_until(lambda: time.monotonic() - sent_at > DELAY and state.get().due_at > timezone.now())
    # Given back: nothing counted as notified, due again in a minute.
    assert state.get().notified_seq == 0
    assert 50 < (state.get().due_at - timezone.now()).total_seconds() <= 60
    assert inbox.received() == [] and pending_jobs() == 1
    settings.EMAIL_PORT = working_port
    state.update(due_at=timezone.now())
    (message,) = inbox.wait_for(1, poll=run_due_jobs)
    assert linked_seqs(message) == [seq]
