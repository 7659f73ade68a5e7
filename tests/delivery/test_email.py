"""The away email in its recipient's language (their setting, else
English: no browser asks), subject and both parts, plural forms included."""

import datetime

import pytest

from rooms import selectors, services
from rooms.delivery.email import away_email
from rooms.selectors.away import AwayBatch, AwayMessage

pytestmark = pytest.mark.django_db

WHEN = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC)


def batch(count: int, *, listed: int = 1, direct: bool = False) -> AwayBatch:
    messages = [
        AwayMessage(seq=n, author="alice", body=f"hi {n}", created_at=WHEN) for n in range(listed)
    ]
    return AwayBatch("lobby", "Lobby", messages, total=count, is_direct=direct)


def email_to(user, batch: AwayBatch):
    return away_email(
        to="bob@example.com",
        batch=batch,
        base_url="https://rooms.example",
        unsubscribe_url="https://rooms.example/unsubscribe/t/",
        language=selectors.user_language(user_id=user.pk),
    )


def parts(email) -> tuple[str, str]:
    return email.body, email.alternatives[0][0]


def test_a_person_who_chose_german_gets_the_email_in_german(user_factory):
    bob = user_factory("bob")
    services.user_settings_set(user=bob, language="de", theme="auto")
    email = email_to(bob, batch(3, listed=2))
    text, html = parts(email)
    assert email.subject == "3 neue Nachrichten in Lobby"
    assert text.startswith("Sie wurden in Lobby erwähnt:")
    assert "und 1 weitere: https://rooms.example/rooms/lobby/" in text
    assert "Diese E-Mails abbestellen: https://rooms.example/unsubscribe/t/" in text
    assert '<html lang="de">' in html
    assert 'Sie wurden in <a href="https://rooms.example/rooms/lobby/">Lobby</a> erwähnt:' in html
    assert "Sie erhalten diese E-Mails, weil diese Nachrichten noch ungelesen waren." in html


def test_one_message_has_the_singular_in_both_languages(user_factory):
    bob, carol = user_factory("bob"), user_factory("carol")
    services.user_settings_set(user=bob, language="de", theme="auto")
    assert email_to(bob, batch(1)).subject == "eine neue Nachricht in Lobby"
    assert email_to(carol, batch(1)).subject == "a new message in Lobby"
    assert email_to(carol, batch(2, listed=2)).subject == "2 new messages in Lobby"


def test_without_a_setting_the_email_is_in_english(user_factory):
    carol = user_factory("carol")
    email = email_to(carol, batch(2, direct=True))
    text, html = parts(email)
    assert text.startswith("New messages for you in Lobby:")
    assert "and 1 more: https://rooms.example/rooms/lobby/" in text
    assert '<html lang="en">' in html
