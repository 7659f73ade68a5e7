"""The worker's sweep of due NotifyState rows (services.away_deliver_due):
a batch at a time, each row once; a worker that stops mid-batch gives what
it has not sent back, due at once; a mail server that cannot be reached is
tried once per batch, and the whole batch is given back."""

import re

import pytest
from django.utils import timezone

from rooms import services
from rooms.delivery import email as email_delivery
from rooms.models import NotifyState
from rooms.services import away_delivery

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def five_mentioned(inbox, settings, user_factory, lobby):
    """Five people with an address, each mentioned once, due at once."""
    settings.ROOMS_NOTIFY_EMAIL_DELAY = 0
    alice = user_factory("alice")
    people = [user_factory(f"u{n}", email=f"u{n}@example.com") for n in range(5)]
    body = " ".join(f"@{person.username}" for person in people)
    services.message_post(room=lobby, author=alice, body=body, check_rate=False)
    return people


def addresses(inbox) -> list[str]:
    return sorted(message["To"] for message in inbox.received())


def test_a_sweep_takes_at_most_its_batch_and_every_row_once(inbox, five_mentioned):
    taken = [away_delivery.away_deliver_due(limit=2) for _ in range(4)]
    assert taken == [2, 2, 1, 0]
    assert addresses(inbox) == [f"u{n}@example.com" for n in range(5)]
    assert not NotifyState.objects.exclude(due_at=None).exists()
    assert set(NotifyState.objects.values_list("notified_seq", flat=True)) == {1}


def test_a_worker_stopping_mid_batch_gives_the_unsent_rows_back_due_at_once(inbox, five_mentioned):
    asked = []

    def stop() -> bool:  # asked before each send: stop after the second
        asked.append(True)
        return len(asked) > 2

    assert away_delivery.away_deliver_due(stop=stop) == 5
    assert len(inbox.received()) == 2
    back = NotifyState.objects.filter(notified_seq=0)
    assert back.count() == 3
    assert all(state.due_at <= timezone.now() for state in back)
    assert away_delivery.away_deliver_due() == 3
    assert addresses(inbox) == [f"u{n}@example.com" for n in range(5)]


def test_a_mail_server_that_cannot_be_reached_is_tried_once_per_batch(
    inbox, five_mentioned, settings, monkeypatch
):
    from tests.harness.deployment import free_port

    settings.EMAIL_PORT = free_port()  # nobody listens
    tried = []
    send = email_delivery.send_away_email
    monkeypatch.setattr(
        email_delivery, "send_away_email", lambda **kwargs: tried.append(1) or send(**kwargs)
    )
    assert away_delivery.away_deliver_due() == 5
    assert len(tried) == 1
    rows = NotifyState.objects.all()
    assert {row.notified_seq for row in rows} == {0}  # nothing counted as notified
    assert all(50 < (row.due_at - timezone.now()).total_seconds() <= 60 for row in rows)


def test_a_deliver_away_job_finds_a_row_the_sweep_took_done(inbox, five_mentioned):
    """The job of before the sweep, still in a queue: it delivers a due row
    itself, and finds a row already delivered cleared."""
    first = five_mentioned[0]
    lobby_id = NotifyState.objects.get(user=first).room_id
    assert away_delivery.away_deliver(user_id=first.pk, room_id=lobby_id, channel="email") == 1
    assert away_delivery.away_deliver_due() == 4
    assert away_delivery.away_deliver(user_id=first.pk, room_id=lobby_id, channel="email") == 0
    texts = [m.get_body(("plain",)).get_content() for m in inbox.received()]
    assert len(texts) == 5 and all(re.findall(r"#seq-1\b", text) for text in texts)


def test_an_email_that_cannot_be_built_is_dropped_and_the_batch_goes_on(
    inbox, five_mentioned, caplog
):
    from django.contrib.auth import get_user_model

    # Set behind the settings page's check: a header no mail server takes.
    get_user_model().objects.filter(username="u2").update(email="u2@example.com\nBcc: x@y")
    assert away_delivery.away_deliver_due() == 5
    assert addresses(inbox) == [f"u{n}@example.com" for n in (0, 1, 3, 4)]
    assert "could not be sent; dropped" in caplog.text
    assert not NotifyState.objects.exclude(due_at=None).exists()
