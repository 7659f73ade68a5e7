"""The worker's email reaches each person in their own language: the job
reads the recipient's setting (selectors.user_language) and the email is
rendered in it, whatever language the worker runs in."""

import pytest

from rooms import services

from .conftest import drain

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_emails_each_person_in_their_language(inbox, user_factory, lobby):
    alice = user_factory("alice", email="alice@example.com")
    user_factory("bob", email="bob@example.com")
    carol = user_factory("carol", email="carol@example.com")
    services.user_settings_set(user=carol, language="de", theme="auto")
    services.message_post(room=lobby, author=alice, body="@bob @carol look", check_rate=False)
    drain()
    (to_bob,) = inbox.to("bob@example.com")
    (to_carol,) = inbox.to("carol@example.com")
    assert to_bob["Subject"] == "a new message in Lobby"
    assert to_carol["Subject"] == "eine neue Nachricht in Lobby"
    text = to_carol.get_body(("plain",)).get_content()
    assert text.startswith("Sie wurden in Lobby erwähnt:")
