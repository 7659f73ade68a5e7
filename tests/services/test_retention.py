"""Retention (rooms/services/retention.py, `prunemessages`): old entries go,
never a room's newest, so seq continues; a pruned client_id stays a
duplicate (G4)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from rooms import services
from rooms.models import Message, Room

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(room_factory):
    return room_factory("lobby")


def post(room, author, body="hi", client_id=None, **extra):
    return services.message_post(room=room, author=author, body=body, client_id=client_id, **extra)


def stored_seqs(room) -> list[int]:
    return list(Message.objects.filter(room=room).order_by("seq").values_list("seq", flat=True))


def age(room, *, days: int, seqs) -> None:
    moment = timezone.now() - timedelta(days=days)
    Message.objects.filter(room=room, seq__in=list(seqs)).update(created_at=moment)


def test_prune_deletes_old_messages_but_never_a_rooms_newest(room_factory, alice):
    busy, quiet = room_factory("busy"), room_factory("quiet")
    for n in range(5):
        post(busy, alice, f"m{n}")
    post(quiet, alice, "only one")
    age(busy, days=10, seqs=range(1, 6))
    age(quiet, days=10, seqs=[1])
    assert services.messages_prune(older_than=timedelta(days=1), dry_run=True) == 4
    assert stored_seqs(busy) == [1, 2, 3, 4, 5]
    assert services.messages_prune(older_than=timedelta(days=1)) == 4
    assert stored_seqs(busy) == [5]
    assert stored_seqs(quiet) == [1]
    assert post(busy, alice).seq == 6


def test_prune_keeps_messages_newer_than_the_cutoff(room, alice):
    for n in range(4):
        post(room, alice, f"m{n}")
    age(room, days=10, seqs=[1, 2])
    fresh = Room.objects.get(pk=room.pk)
    assert services.messages_prune(older_than=timedelta(days=1), room=fresh) == 2
    assert stored_seqs(room) == [3, 4]


def test_prune_of_one_room_uses_its_current_head(room, alice):
    for n in range(3):
        post(room, alice, f"m{n}")
    age(room, days=10, seqs=[1, 2, 3])
    assert services.messages_prune(older_than=timedelta(days=1), room=room) == 2
    assert stored_seqs(room) == [3]


def test_prune_with_zero_days_keeps_only_the_newest(room, alice):
    for n in range(3):
        post(room, alice, f"m{n}")
    assert services.messages_prune(older_than=timedelta(0)) == 2
    assert stored_seqs(room) == [3]


def test_a_client_id_stays_a_duplicate_after_retention_pruned_its_entry(room, alice):
    first = post(room, alice, "kept once", client_id="outbox-1")
    system = post(room, None, "notice", client_id="outbox-1")
    post(room, alice, "the newest, never pruned")
    assert services.messages_prune(older_than=timedelta(0)) == 2
    assert not Message.objects.filter(seq__in=[first.seq, system.seq]).exists()
    again = post(room, alice, "kept once", client_id="outbox-1")
    system_again = post(room, None, "notice", client_id="outbox-1")
    assert (again.seq, again.duplicate) == (first.seq, True)
    assert (system_again.seq, system_again.duplicate) == (system.seq, True)
    assert Message.objects.filter(room=room).count() == 1
