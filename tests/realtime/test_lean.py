"""rooms/realtime/lean.py: the lighter queue and event an idle uvicorn
socket keeps, against the behaviour of asyncio's, and `lighten` on
uvicorn's own protocol object."""

import asyncio

import pytest

from rooms.realtime.lean import LeanEvent, LeanQueue, lighten


async def test_the_queue_hands_out_in_order_and_a_waiting_get_wakes_on_put():
    queue = LeanQueue()
    assert queue.empty()
    queue.put_nowait(1)
    queue.put_nowait(2)
    assert await queue.get() == 1
    waiting = asyncio.create_task(_get_two(queue))
    await asyncio.sleep(0)  # let it start: it gets 2, then waits
    assert not waiting.done()
    queue.put_nowait(3)
    assert await waiting == [2, 3]
    assert queue.empty()
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()


async def _get_two(queue):
    return [await queue.get(), await queue.get()]


async def test_a_cancelled_get_leaves_the_item_to_the_next_one():
    queue = LeanQueue()
    first = asyncio.create_task(queue.get())
    second = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    first.cancel()
    queue.put_nowait("x")
    assert await second == "x"
    with pytest.raises(asyncio.CancelledError):
        await first
    assert queue._waiters is None  # nothing kept once nobody waits


async def test_the_event_wakes_every_waiter_and_clear_makes_them_wait_again():
    event = LeanEvent()
    assert not event.is_set()
    waiters = [asyncio.create_task(event.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    event.set()
    assert await asyncio.gather(*waiters) == [True, True, True]
    assert await event.wait() is True  # set: returns at once
    event.clear()
    later = asyncio.create_task(event.wait())
    await asyncio.sleep(0)
    assert not later.done()
    event.set()
    assert await later is True


async def test_lighten_swaps_uvicorn_s_queue_and_event_keeping_what_waits():
    from uvicorn.config import Config
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    from uvicorn.server import ServerState

    config = Config(app=lambda *a: None, ws="websockets-sansio")
    config.load()
    protocol = WebSocketsSansIOProtocol(config, ServerState(), app_state={})
    protocol.scope = {"headers": [(b"host", b"example")]}
    protocol.request = protocol.response = object()
    lighten(protocol)  # mid-handshake: nothing changes
    assert type(protocol.queue) is asyncio.Queue and protocol.request is not None

    protocol.handshake_complete = True
    protocol.queue.put_nowait({"type": "websocket.receive", "text": "early"})
    lighten(protocol)
    assert protocol.request is None and protocol.response is None
    assert protocol.scope["headers"] == []
    assert isinstance(protocol.queue, LeanQueue) and isinstance(protocol.writable, LeanEvent)
    assert await protocol.queue.get() == {"type": "websocket.receive", "text": "early"}
    assert protocol.writable.is_set()
