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

from channels.db import database_sync_to_async


def read(function):
    """`function` (a selector) as a coroutine, on the read threads."""
    return database_sync_to_async(function, thread_sensitive=False)


def write(function):
    """`function` (a service) as a coroutine, on the one writer thread."""
    return database_sync_to_async(function)
