"""What an idle socket keeps under uvicorn (its sans-I/O WebSocket
protocol), cut once the handshake is done (docs/benchmarks.md, issue 23,
idle memory). Per connection, uvicorn holds:

- the parsed handshake request and its response (about 3 KiB), and the
  scope's header list, shared by every copy of the scope (about 1.5 KiB):
  nothing reads them after the accept (rooms/realtime/auth.py read what it
  needed at connect);
- an `asyncio.Queue` for what the client sends and an `asyncio.Event` for
  the transport's flow control (about 4 KiB together: each allocates its
  deques of waiters up front). `LeanQueue` and `LeanEvent` do the part of
  their work uvicorn uses (`put_nowait`, `get`, `empty`; `set`, `clear`,
  `wait`, `is_set`) and allocate only while something waits.

`lighten` changes nothing it does not recognise: another server, another
uvicorn protocol, or one that is not in the state described (mid-handshake,
writing paused, a receive waiting) keeps what it has.
"""

import asyncio
import contextlib


class LeanQueue:
    """An unbounded FIFO with asyncio.Queue's `put_nowait`, `get`, `empty`."""

    __slots__ = ("_items", "_waiters")

    def __init__(self):
        self._items: list | None = None
        self._waiters: list[asyncio.Future] | None = None

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def put_nowait(self, item) -> None:
        if self._items is None:
            self._items = []
        self._items.append(item)
        _wake_one(self._waiters)

    def get_nowait(self):
        if not self._items:
            raise asyncio.QueueEmpty
        item = self._items.pop(0)
        if not self._items:
            self._items = None
        return item

    async def get(self):
        while not self._items:
            waiter = _new_waiter(self)
            try:
                await waiter
            except BaseException:
                if not waiter.cancelled() and self._items:
                    _wake_one(self._waiters)  # pass the wake-up on, as asyncio.Queue does
                raise
            finally:
                _forget(self, waiter)
        return self.get_nowait()


class LeanEvent:
    """asyncio.Event's `set`, `clear`, `is_set`, `wait`."""

    __slots__ = ("_set", "_waiters")

    def __init__(self, *, is_set: bool = False):
        self._set = is_set
        self._waiters: list[asyncio.Future] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        if self._set:
            return
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(True)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if self._set:
            return True
        waiter = _new_waiter(self)
        try:
            await waiter
            return True
        finally:
            _forget(self, waiter)


def _new_waiter(owner) -> asyncio.Future:
    waiter = asyncio.get_running_loop().create_future()
    if owner._waiters is None:
        owner._waiters = []
    owner._waiters.append(waiter)
    return waiter


def _wake_one(waiters: list | None) -> None:
    for waiter in waiters or ():
        if not waiter.done():
            waiter.set_result(None)
            return


def _forget(owner, waiter: asyncio.Future) -> None:
    waiters = owner._waiters
    if waiters is not None:
        with contextlib.suppress(ValueError):
            waiters.remove(waiter)
        if not waiters:
            owner._waiters = None


def lighten(protocol) -> None:
    """Cut what uvicorn's sans-I/O protocol `protocol` keeps per socket
    after an accepted handshake (the module's docstring)."""
    if not getattr(protocol, "handshake_complete", False):
        return
    protocol.request = protocol.response = None
    headers = getattr(protocol, "scope", {}).get("headers")
    if isinstance(headers, list):
        headers.clear()
    queue = getattr(protocol, "queue", None)
    if type(queue) is asyncio.Queue and not getattr(queue, "_getters", True):
        lean = LeanQueue()
        while not queue.empty():
            lean.put_nowait(queue.get_nowait())
        protocol.queue = lean
    writable = getattr(protocol, "writable", None)
    if type(writable) is asyncio.Event and writable.is_set():
        protocol.writable = LeanEvent(is_set=True)
