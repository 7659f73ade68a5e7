"""The notification metrics: emails handed over, by channel, and the jobs
waiting in the database."""

import pytest
from prometheus_client import REGISTRY

from rooms import services

from .conftest import drain

pytestmark = pytest.mark.django_db(transaction=True)


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_queue_depth_and_the_emails_sent_are_counted(inbox, user_factory, lobby):
    alice = user_factory("alice")
    user_factory("bob", email="bob@example.com")
    sent = sample("rooms_notifications_sent_total", channel="email")
    services.message_post(room=lobby, author=alice, body="@bob hi", check_rate=False)
    assert sample("rooms_task_queue_depth") == 1
    drain()
    assert sample("rooms_task_queue_depth") == 0
    assert sample("rooms_notifications_sent_total", channel="email") == sent + 1
    assert len(inbox.received()) == 1
