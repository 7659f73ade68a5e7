"""A message of files alone in what reaches a person who is away: the email
and the push show "📎 <names>" (as the browser does) where its text would
be, and reading the names costs a sweep one query, not one per row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rooms import services
from rooms.delivery import push
from rooms.models import NotifyState, PushSubscription
from rooms.services import away_delivery
from tests.files.samples import png, stored_upload

from .conftest import run_due_jobs, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def direct(inbox, settings, user_factory):
    """alice's direct conversation with bob (both with an address). (Each
    upload leaves a job due in a day: wait for what is sent, not for no job.)"""
    settings.ROOMS_UPLOAD_RATE = None
    alice = user_factory("alice", email="alice@example.com")
    bob = user_factory("bob", email="bob@example.com")
    room, _ = services.direct_open(user=alice, others=[bob])
    return room, alice, bob


def send_files(room, author, *names: str, body: str = "") -> int:
    ids = [
        stored_upload(author, room, png((4, 4)) if name.endswith(".png") else b"words", name).id
        for name in names
    ]
    return services.message_post(
        room=room, author=author, body=body, attachments=ids, check_rate=False
    ).seq


def test_the_email_names_the_files_of_a_message_without_text(inbox, direct):
    room, alice, _ = direct
    send_files(room, alice, "chart.png", "notes.txt")
    send_files(room, alice, "report.pdf", body="the report")
    (email,) = inbox.wait_for(1, poll=run_due_jobs)
    text = email.get_body(("plain",)).get_content()
    assert "📎 chart.png, notes.txt" in text.splitlines()
    assert "the report" in text.splitlines() and "report.pdf" not in text  # its text stands
    assert "📎 chart.png, notes.txt" in email.get_body(("html",)).get_content()


def test_the_push_names_the_files_of_a_message_without_text(settings, monkeypatch, direct):
    room, alice, bob = direct
    settings.EMAIL_URL = None
    settings.ROOMS_VAPID_PRIVATE_KEY = "test-key"
    sent = []
    monkeypatch.setattr(
        push, "send_push", lambda **kwargs: sent.append(kwargs) or push.PushOutcome("sent")
    )
    PushSubscription.objects.create(
        user=bob, endpoint="https://push.example/phone", p256dh="k", auth="a"
    )
    send_files(room, alice, "chart.png")
    wait_until(lambda: sent)
    (payload,) = [push_call["payload"] for push_call in sent]
    assert payload["body"] == "alice: 📎 chart.png"
    assert payload["title"] == "alice in a direct conversation"


def test_a_direct_conversation_is_named_in_the_persons_language(inbox, direct):
    room, alice, bob = direct
    services.user_settings_set(user=bob, language="de", theme="auto")
    send_files(room, alice, "chart.png")
    (email,) = inbox.wait_for(1, poll=run_due_jobs)
    assert email["Subject"] == "eine neue Nachricht in einer direkten Unterhaltung"


def test_a_sweep_reads_the_names_of_all_its_messages_of_files_in_one_query(
    inbox, settings, user_factory
):
    """Five conversations, each with a message of files alone, cost one
    query more than five with text (and that query is the attachments')."""
    settings.ROOMS_UPLOAD_RATE = None
    alice = user_factory("alice", email="alice@example.com")
    rooms = [
        services.direct_open(user=alice, others=[user_factory(f"u{n}", email=f"u{n}@x.example")])[0]
        for n in range(10)
    ]

    def sweep_queries() -> list[str]:
        NotifyState.objects.exclude(due_at=None).update(due_at=timezone.now())
        with CaptureQueriesContext(connection) as captured:
            assert away_delivery.away_deliver_due() == 10  # the author's rows too
        return [query["sql"] for query in captured.captured_queries]

    for room in rooms[:5]:
        services.message_post(room=room, author=alice, body="hello", check_rate=False)
    with_text = sweep_queries()
    for room in rooms[5:]:
        send_files(room, alice, "a.png", "b.txt")
    with_files = sweep_queries()
    assert len(with_files) == len(with_text) + 1
    extra = [sql for sql in with_files if "rooms_attachment" in sql]
    assert len(extra) == 1 and not any("rooms_attachment" in sql for sql in with_text)
    assert len(inbox.wait_for(10)) == 10
