"""The realtime tests run on an event loop with a manual clock
(fakes.ManualClockLoop)."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.db import connections

from .fakes import ManualClockLoop


@pytest.hookimpl(optionalhook=True)  # pytest-asyncio >= 1.4 calls it
def pytest_asyncio_loop_factories(config, item):
    """Every async test of this package gets a loop whose clock it moves."""
    return {"manual_clock": ManualClockLoop}


@pytest.fixture
async def clock() -> ManualClockLoop:
    """The test's event loop: `await clock.idle()`, `await clock.advance(s)`."""
    loop = asyncio.get_running_loop()
    assert isinstance(loop, ManualClockLoop), "needs pytest-asyncio >= 1.4 (loop factories)"
    yield loop
    # Database work ran in asgiref's thread: close its connection, or
    # PostgreSQL refuses to drop the test database.
    await database_sync_to_async(connections.close_all)()
