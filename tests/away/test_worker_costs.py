"""What keeps a delivery job cheap (docs/benchmarks.md, Notifications) without
changing what it sends: the decision query compiled once and run with each
job's values answers as the ORM's form does; pushes are sent by the job
itself; consecutive emails share one connection to the mail server."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rooms import access, services
from rooms.delivery import email as email_delivery
from rooms.models import EmailPreference, NotifyState
from rooms.selectors import away as reads

from .conftest import drain

pytestmark = pytest.mark.django_db(transaction=True)
Channel = NotifyState.Channel


def post(room, author, body: str) -> int:
    return services.message_post(room=room, author=author, body=body, check_rate=False).seq


def orm_answer(user, room_id: int, channel: str, after_seq: int):
    """What the ORM's own form of the query answers (built for this job)."""
    rows = list(reads._away_rows(user, room_id, channel, after_seq))
    if not rows:
        return None
    return [tuple(row[:4]) for row in rows], rows[0][4]


def compiled_answer(user, room_id: int, channel: str, after_seq: int):
    batch = reads.away_batch(user=user, room_id=room_id, channel=channel, after_seq=after_seq)
    if batch is None:
        return None
    messages = [(m.seq, m.author, m.body, m.created_at) for m in batch.messages]
    return messages, batch.total


def test_the_compiled_decision_query_answers_as_the_orm_does(user_factory, lobby):
    alice = user_factory("alice", email="alice@example.com")
    bob = user_factory("bob", email="bob@example.com")
    carol = user_factory("carol")  # no address: nothing by email
    seqs = [post(lobby, alice, f"@bob @carol number {n}") for n in range(25)]
    post(lobby, bob, "@alice hi")
    services.read_cursor_advance(
        user=carol, room=access.room_access(user=carol, slug="lobby"), seq=seqs[3]
    )
    EmailPreference.objects.create(user=alice, enabled=False)
    answers = []
    for user in (alice, bob, carol):
        for channel in (Channel.EMAIL, Channel.PUSH):
            for after_seq in (0, seqs[10], seqs[-1]):
                expected = orm_answer(user, lobby.pk, channel, after_seq)
                assert compiled_answer(user, lobby.pk, channel, after_seq) == expected
                answers.append(expected)
    # In order: alice, bob, carol; email then push; after 0, seq 10, the newest.
    assert answers[0] is None and answers[3][1] == 1  # alice: email off; bob's mention
    assert answers[6][1] == 25 and answers[6][0][0][0] == seqs[-1] and answers[8] is None
    assert answers[12] is None and answers[15][1] == 21  # carol: no address; her cursor


def test_pushes_are_sent_by_the_worker_itself_without_a_job(
    inbox, settings, monkeypatch, alice, bob, lobby
):
    from django_tasks_db.models import DBTaskResult

    from rooms.delivery import push
    from rooms.models import PushSubscription

    settings.EMAIL_URL = None
    settings.ROOMS_VAPID_PRIVATE_KEY = "test-key"
    sent = []
    monkeypatch.setattr(
        push, "send_push", lambda **kwargs: sent.append(kwargs) or push.PushOutcome("sent")
    )
    for name in ("phone", "laptop"):
        PushSubscription.objects.create(
            user=bob, endpoint=f"https://push.example/{name}", p256dh="k", auth="a"
        )
    post(lobby, alice, "@bob hi")
    drain()
    assert len(sent) == 2
    assert not DBTaskResult.objects.exists()  # push_send jobs are only for retries


def test_consecutive_emails_share_a_connection_and_a_dropped_one_is_reopened(
    inbox, user_factory, lobby
):
    alice = user_factory("alice", email="alice@example.com")
    user_factory("bob", email="bob@example.com")
    seqs = [post(lobby, alice, "@bob one")]
    drain()
    held = email_delivery._held["connection"]
    seqs.append(post(lobby, alice, "@bob two"))
    drain()
    assert email_delivery._held["connection"] is held
    held.connection.close()  # as a server closing an idle connection
    seqs.append(post(lobby, alice, "@bob three"))
    drain()
    assert email_delivery._held["connection"] is not held
    bodies = [m.get_body(preferencelist=("plain",)).get_content() for m in inbox.wait_for(3)]
    assert [re.findall(r"#seq-(\d+)", body) for body in bodies] == [[str(s)] for s in seqs]


@pytest.mark.django_db(transaction=True)
def test_a_message_that_mentions_nobody_in_a_room_costs_the_send_no_away_query(
    settings, room_factory, user_factory
):
    """The group commit knows whom a batch mentions and whether its room is a
    direct conversation: with email on, the common send asks the database
    nothing more than with it off; a mention is noted."""
    lobby = room_factory("lobby")
    alice, bob = user_factory("alice"), user_factory("bob")
    bob.email = "bob@example.com"
    bob.save()

    def queries(body: str) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            services.message_post(room=lobby, author=alice, body=body, check_rate=False)
        return [query["sql"] for query in captured.captured_queries]

    settings.EMAIL_URL = ""
    off = queries("hello all")
    settings.EMAIL_URL = "console:"
    assert len(queries("hello again")) == len(off)
    noted = queries("hi @bob")
    assert any(NotifyState._meta.db_table in sql for sql in noted)
    assert NotifyState.objects.filter(user=bob, room=lobby, channel="email").count() == 1


LATERAL = """
from django.contrib.auth import get_user_model
from rooms import access, services
from rooms.models import EmailPreference
from rooms.selectors import away as reads
User = get_user_model()
alice = User.objects.create_user("alice", email="alice@example.com")
bob = User.objects.create_user("bob", email="bob@example.com")
carol = User.objects.create_user("carol")
dave = User.objects.create_user("dave", email="dave@example.com")
lobby, _ = services.room_create_or_update(slug="lobby")
hidden, _ = services.room_create_or_update(slug="hidden", is_private=True)
services.membership_set_role(room=hidden, user=alice)
services.membership_set_role(room=hidden, user=bob)  # carol and dave may not see it
for room in (lobby, hidden):
    for n in range(25):
        services.message_post(
            room=room, author=alice, body=f"@bob @carol @dave {n}", check_rate=False
        )
gone = services.message_post(room=lobby, author=alice, body="@bob gone", check_rate=False)
services.entry_post(room=lobby, author=alice, kind="delete", target=gone.seq, check_rate=False)
services.message_post(room=lobby, author=bob, body="@alice hi", check_rate=False)
direct, _ = services.direct_open(user=alice, others=[bob])
for n in range(3):
    services.message_post(room=direct, author=alice, body=f"psst {n}", check_rate=False)
services.read_cursor_advance(
    user=dave, room=access.room_access(user=dave, slug="lobby"), seq=10
)
services.notification_level_set(
    user=carol, room=access.room_access(user=carol, slug="lobby"), level="none"
)
EmailPreference.objects.create(user=dave, enabled=False)
wanted = [
    (user, room.pk, channel, after)
    for user in (alice, bob, carol, dave)
    for room in (lobby, hidden, direct)
    for channel in ("email", "push")
    for after in (0, 12, 30)
]
one_by_one = [
    reads.away_batch(user=u, room_id=r, channel=c, after_seq=a) for u, r, c, a in wanted
]
together = reads.away_batches(wanted=wanted)
print("@@", len(wanted), sum(b is not None for b in one_by_one), together == one_by_one)
"""


@pytest.mark.postgres
def test_on_postgresql_the_sweeps_one_query_answers_as_one_query_per_row(tmp_path, postgres_url):
    from tests.harness.deployment import Deployment

    deployment = Deployment(tmp_path, database=postgres_url, env={"EMAIL_URL": "console:"})
    try:
        out = deployment.shell(LATERAL)
    finally:
        deployment.stop()
    line = next(line for line in out.splitlines() if line.startswith("@@ "))
    count, found, same = line.split()[1:]
    assert (int(count), same) == (72, "True")
    assert 10 < int(found) < 72  # some rows reach, some do not
