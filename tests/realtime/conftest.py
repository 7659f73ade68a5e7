"""The realtime package's tests. The units of the runtime (hub, feeds, group
commit, flow control) run on an event loop with a manual clock
(fakes.ManualClockLoop); the consumer's tests, which talk to the real ASGI
application with real timeouts, run on asyncio's own loop."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.db import connections

from rooms.realtime.hub import Hub

from .fakes import FakeLayer, ManualClockLoop

CLOCKED = {
    "test_hub.py",
    "test_dispatch.py",
    "test_presence.py",
    "test_repair.py",
    "test_feed.py",
    "test_flow.py",
    "test_batching.py",
}


@pytest.hookimpl(optionalhook=True)  # pytest-asyncio >= 1.4 calls it
def pytest_asyncio_loop_factories(config, item):
    """The runtime's unit tests get a loop whose clock they move."""
    if item.path.name in CLOCKED:
        return {"manual_clock": ManualClockLoop}
    return {"asyncio": asyncio.new_event_loop}


@pytest.fixture
async def clock() -> ManualClockLoop:
    """The test's event loop: `await clock.idle()`, `await clock.advance(s)`."""
    loop = asyncio.get_running_loop()
    assert isinstance(loop, ManualClockLoop), "needs pytest-asyncio >= 1.4 (loop factories)"
    yield loop
    # Database work ran in asgiref's thread: close its connection, or
    # PostgreSQL refuses to drop the test database.
    await database_sync_to_async(connections.close_all)()


@pytest.fixture
def layer() -> FakeLayer:
    return FakeLayer()


@pytest.fixture
async def hub(clock, layer):
    """A hub on the test's loop and the fake shared layer. Afterwards every
    socket leaves, and the hub must stop as a server's does."""
    hub = Hub(asyncio.get_running_loop(), layer=layer)
    yield hub
    layer.release_all()
    for feed in list(hub.feeds.values()):
        for subscription in list(feed.subscriptions):
            await hub.unsubscribe(subscription)
    for user_id, sockets in list(hub.user_sockets.items()):
        for socket in list(sockets):
            await hub.detach_user(user_id, socket)
    await clock.idle()
    assert not hub.running
