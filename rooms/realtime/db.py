"""How the runtime reaches the database from its event loop.

Writes go through Channels' one database thread per process, in order: the
group commit (batching.py) makes one transaction of what arrives together,
and one writer at a time is what SQLite allows anyway. Reads (joins,
backfill pages, history, gap repairs, the repair loop's checks) run on a
pool of threads with a connection each, so one slow backfill or history
page no longer holds up every other socket's reads, nor the writes behind
them. Reads see only committed data, so their order against the writer's
thread does not matter: the feeds order what they deliver by seq.
"""

import functools

from channels.db import database_sync_to_async
from django.db import InterfaceError, OperationalError, connection


def read(function):
    """`function` (a selector) as a coroutine, on the read threads. Run once
    more on a new connection when the database dropped this thread's (it
    restarted): each read thread holds one, and a read is safe to repeat."""

    @functools.wraps(function)
    def reconnecting(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block:
                raise
            connection.close()
            return function(*args, **kwargs)

    return database_sync_to_async(reconnecting, thread_sensitive=False)


def write(function):
    """`function` (a service) as a coroutine, on the one writer thread."""
    return database_sync_to_async(function)
