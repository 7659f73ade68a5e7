"""Group commit for the entries of one process (sends, edits, deletions,
reactions).

Entries that arrive while a transaction is being written wait and go into the
next one together (services.entry_post_many): one database round trip to
a worker thread, one commit and one broadcast hand-off per batch instead of
per message. A lone send is written at once, so idle latency is unchanged;
under load the batches grow by themselves. Every send is still acknowledged
only after the commit that stored it (G3).
"""

import asyncio
import weakref

from django.db import InterfaceError, OperationalError

from rooms import protocol, services
from rooms.errors import RoomsError
from rooms.ops import metrics
from rooms.services import EntryRequest, EntryResult

from . import db

MAX_BATCH = 200

_batchers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SendBatcher]" = (
    weakref.WeakKeyDictionary()
)


class SendBatcher:
    def __init__(self):
        self.queue: list[tuple[EntryRequest, asyncio.Future]] = []
        self.writer: asyncio.Task | None = None
        self.waiting = 0  # posts not answered yet (`settled`)
        self.idle = asyncio.Event()

    async def post(self, request: EntryRequest) -> EntryResult:
        future = asyncio.get_running_loop().create_future()
        self.queue.append((request, future))
        if self.writer is None or self.writer.done():
            self.writer = asyncio.create_task(self._write())
        self.waiting += 1
        try:
            return await future
        finally:
            # The caller sends its ack before anything else runs on the loop.
            self.waiting -= 1
            if not self.waiting:
                self.idle.set()

    async def _write(self) -> None:
        while self.queue:
            batch, self.queue = self.queue[:MAX_BATCH], self.queue[MAX_BATCH:]
            metrics.BATCH_SIZE.observe(len(batch))
            try:
                results = await db.write(services.entry_post_many)(
                    [request for request, _ in batch]
                )
            except (OperationalError, InterfaceError):
                # The database is unreachable: nothing is acknowledged, and
                # the client resends with its client_id (G4).
                results = [protocol.unavailable() for _ in batch]
            except Exception as error:
                results = [error] * len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue  # the sender went away
                if isinstance(result, (RoomsError, Exception)):
                    future.set_exception(result)
                else:
                    future.set_result(result)


def post(request: EntryRequest):
    """Store `request` in this process's next group commit; returns the
    EntryResult or raises its RoomsError."""
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = SendBatcher()
    return batcher.post(request)


async def settled() -> None:
    """Wait until every entry this process received so far is answered:
    stored and acknowledged, or refused (a worker stopping on SIGTERM)."""
    batcher = _batchers.get(asyncio.get_running_loop())
    while batcher is not None and batcher.waiting:
        batcher.idle.clear()
        await batcher.idle.wait()
