"""Pushes of what people missed: coalesced to one push per room and job,
naming the newest message and the count, to each subscription; a gone
subscription is deleted, a retry comes back later."""

import pytest

from rooms import access, services
from rooms.delivery import push
from rooms.models import PushSubscription

from .conftest import drain, pending_jobs, run_due_jobs, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pushes(inbox, settings, monkeypatch):
    """Push on (email off), with send_push recording what it would send and
    answering what the test sets."""
    settings.EMAIL_URL = None
    settings.ROOMS_VAPID_PRIVATE_KEY = "test-key"
    sent, answers = [], {}

    def send_push(*, endpoint, p256dh, auth, payload):
        sent.append((endpoint, payload))
        return push.PushOutcome(answers.get(endpoint, "sent"))

    monkeypatch.setattr(push, "send_push", send_push)
    return sent, answers


def subscribe(user, name: str) -> PushSubscription:
    return PushSubscription.objects.create(
        user=user, endpoint=f"https://push.example/{name}", p256dh="k", auth="a"
    )


def post(room, author, body: str) -> int:
    return services.message_post(room=room, author=author, body=body, check_rate=False).seq


def test_a_burst_is_one_push_per_subscription_naming_the_newest(pushes, alice, bob, lobby):
    sent, _ = pushes
    subscribe(bob, "phone"), subscribe(bob, "laptop")
    seqs = [post(lobby, alice, f"@bob number {n}") for n in range(50)]
    drain()
    assert sorted(endpoint for endpoint, _ in sent) == [
        "https://push.example/laptop",
        "https://push.example/phone",
    ]
    payload = sent[0][1]
    assert payload == {
        "room": "lobby",
        "seq": seqs[-1],
        "title": "50 new messages in Lobby",
        "body": "alice: @bob number 49",
        "url": f"https://rooms.example/rooms/lobby/#seq-{seqs[-1]}",
    }


def test_nobody_without_a_subscription_is_pushed(pushes, alice, bob, lobby):
    sent, _ = pushes
    post(lobby, alice, "@bob hi")
    assert pending_jobs() == 0
    assert sent == []


def test_a_message_read_in_time_is_not_pushed(pushes, alice, bob, lobby):
    sent, _ = pushes
    subscribe(bob, "phone")
    seq = post(lobby, alice, "@bob hi")
    services.read_cursor_advance(user=bob, room=access.room_access(user=bob, slug="lobby"), seq=seq)
    drain()
    assert sent == []


def test_a_gone_subscription_is_deleted(pushes, alice, bob, lobby):
    sent, answers = pushes
    subscribe(bob, "old")
    answers["https://push.example/old"] = "gone"
    post(lobby, alice, "@bob hi")
    drain()
    assert len(sent) == 1 and not PushSubscription.objects.exists()


def test_a_push_to_retry_is_sent_again_later(pushes, alice, bob, lobby):
    sent, answers = pushes
    subscribe(bob, "busy")
    answers["https://push.example/busy"] = "retry"
    post(lobby, alice, "@bob hi")
    wait_until(lambda: len(sent) == 1)
    assert pending_jobs() == 1  # the retry, in 10 s
    from django_tasks_db.models import DBTaskResult

    retry = DBTaskResult.objects.get(status="READY")
    assert retry.task_path == "rooms.tasks.push_send"
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=retry.enqueued_at)
    answers.clear()
    run_due_jobs()
    assert len(sent) == 2 and sent[1] == sent[0]
