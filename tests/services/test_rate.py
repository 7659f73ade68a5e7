"""The rate limit of rooms/services/rate.py as the group commit spends it:
one budget per author for the whole batch, read once from the database.
The single-entry rules (the fourth send in the window, per user, system
messages spared, duplicates free): test_entries.py; exact across two
worker processes: tests/integration/test_abuse.py."""

import pytest

from rooms import services
from rooms.errors import RoomsError
from rooms.models import Room

pytestmark = pytest.mark.django_db


def head(room) -> int:
    return Room.objects.values_list("last_seq", flat=True).get(pk=room.pk)


def post(room, author, body="hi"):
    return services.message_post(room=room, author=author, body=body)


def test_one_batch_spends_one_budget_across_its_rooms(room_factory, alice, settings):
    settings.ROOMS_RATE_LIMIT = (4, 10)
    first, second = room_factory("first"), room_factory("second")
    post(first, alice)  # counted from the database: 3 left
    requests = [services.EntryRequest(room=r, author=alice, body="b") for r in (first, second) * 2]
    results = services.entry_post_many(requests)
    # Rooms are stored in id order: first's two, then second's first; the last is over.
    assert [getattr(r, "code", None) for r in results] == [None, None, None, "rate_limited"]
    assert (head(first), head(second)) == (3, 1)


def test_an_exempt_entry_counts_against_the_rest_of_its_batch(lobby, alice, settings):
    settings.ROOMS_RATE_LIMIT = (3, 10)
    exempt = services.EntryRequest(room=lobby, author=alice, body="op", check_rate=False)
    checked = [services.EntryRequest(room=lobby, author=alice, body=f"m{n}") for n in range(3)]
    results = services.entry_post_many([exempt, *checked])
    assert [getattr(r, "code", None) for r in results] == [None, None, None, "rate_limited"]
    # As it counts in the next batch's read of the window.
    with pytest.raises(RoomsError) as caught:
        post(lobby, alice)
    assert caught.value.code == "rate_limited"
