"""Group commit (rooms/realtime/batching.py) on its own: entries that arrive
while a transaction is being written share the next one, each gets its own
result, and a failure stays within its request or its batch."""

import asyncio

import pytest
from django.db import OperationalError

from rooms import services
from rooms.errors import RoomsError
from rooms.models import Message
from rooms.realtime.batching import SendBatcher
from rooms.services import EntryRequest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def batch_sizes(monkeypatch):
    """The size of every batch handed to the store (the store itself runs)."""
    sizes: list[int] = []
    store = services.entry_post_many

    def recording(requests):
        sizes.append(len(requests))
        return store(requests)

    monkeypatch.setattr(services, "entry_post_many", recording)
    return sizes


def request(room, author, body="hi", **fields) -> EntryRequest:
    return EntryRequest(room=room, author=author, body=body, **fields)


async def test_entries_arriving_during_a_write_share_the_next_transaction(
    lobby, alice, batch_sizes, clock
):
    batcher = SendBatcher()
    first = asyncio.ensure_future(batcher.post(request(lobby, alice, "first")))
    await asyncio.sleep(0)  # the writer takes the first one alone
    rest = [asyncio.ensure_future(batcher.post(request(lobby, alice, f"m{n}"))) for n in range(5)]
    results = await asyncio.gather(first, *rest)
    assert [result.seq for result in results] == [1, 2, 3, 4, 5, 6]
    assert batch_sizes == [1, 5]


async def test_a_refused_request_stops_no_other_in_its_batch(lobby, alice, clock):
    batcher = SendBatcher()
    posts = [
        batcher.post(request(lobby, alice, "ok")),
        batcher.post(request(lobby, alice, "edit", kind="edit", target=99)),
        batcher.post(request(lobby, alice, "also ok")),
    ]
    ok, refused, also = await asyncio.gather(*posts, return_exceptions=True)
    assert (ok.seq, also.seq) == (1, 2)
    assert isinstance(refused, RoomsError) and (refused.code, refused.field) == ("invalid", "seq")


async def test_a_failed_batch_fails_its_requests_and_the_next_batch_is_written(
    lobby, alice, monkeypatch, clock
):
    store = services.entry_post_many
    calls = []

    def failing_once(requests):
        calls.append(len(requests))
        if len(calls) == 1:
            raise OperationalError("the database went away")
        return store(requests)

    monkeypatch.setattr(services, "entry_post_many", failing_once)
    batcher = SendBatcher()
    lost = await asyncio.gather(batcher.post(request(lobby, alice, "a")), return_exceptions=True)
    # Refused as the database's error, or as `unavailable` (the client resends).
    assert isinstance(lost[0], OperationalError) or lost[0].code == "unavailable"
    stored = await batcher.post(request(lobby, alice, "b"))
    assert stored.seq == 1  # nothing of the failed batch was stored
    assert await Message.objects.acount() == 1


async def test_a_sender_that_went_away_does_not_break_the_batch(lobby, alice, clock):
    batcher = SendBatcher()
    gone = asyncio.ensure_future(batcher.post(request(lobby, alice, "gone")))
    await asyncio.sleep(0)
    stays = asyncio.ensure_future(batcher.post(request(lobby, alice, "stays")))
    gone.cancel()
    assert (await stays).seq == 2
    # The entry of the sender that went away is stored all the same (its
    # client resends with the same client_id, G4).
    assert await Message.objects.acount() == 2
