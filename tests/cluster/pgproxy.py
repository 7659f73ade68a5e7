"""A TCP proxy in front of PostgreSQL that a test can pause and cut, to play
database outages without touching the machine's PostgreSQL, which other
tests and people share.

    proxy = PgProxy(target_port=5432).start()   # 127.0.0.1:proxy.port -> 127.0.0.1:5432
    proxy.pause()    # an outage: every connection cut, new ones refused
    proxy.resume()   # PostgreSQL is back
    proxy.drop()     # a restart: every connection cut at once, new ones welcome

It runs its own event loop in a thread, so it outlives the event loops of
the tests that use it; its methods may be called from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from tests.harness.deployment import free_port

CHUNK = 64 * 1024


class PgProxy:
    def __init__(self, *, target_port: int = 5432, port: int | None = None):
        self.target_port = target_port
        self.port = port or free_port()
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.Server | None = None
        self.pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self.accepted = 0
        self.thread = threading.Thread(target=self.loop.run_forever, name="pgproxy", daemon=True)

    @property
    def paused(self) -> bool:
        return self.server is None

    def _call(self, coro, timeout: float = 10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> PgProxy:
        self.thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        self._call(self._pause())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def pause(self) -> None:
        """Cut every connection and refuse new ones until `resume`."""
        self._call(self._pause())

    def resume(self) -> None:
        self._call(self._listen())

    def drop(self) -> int:
        """Cut every connection at once (RST, as a crashed server's host
        would); new ones are accepted as before. Returns how many were cut."""
        return self._call(self._cut())

    async def _listen(self) -> None:
        if self.server is None:
            self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def _pause(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        await self._cut()

    async def _cut(self) -> int:
        pairs, self.pairs = list(self.pairs), set()
        for client, upstream in pairs:
            for writer in (client, upstream):
                writer.transport.abort()
        return len(pairs)

    async def _relay(self, client_reader, client_writer) -> None:
        if self.server is None:  # paused while this one was being accepted
            client_writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
        except OSError:
            client_writer.transport.abort()
            return
        pair = (client_writer, upstream_writer)
        self.pairs.add(pair)
        self.accepted += 1
        try:
            await asyncio.gather(
                _pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer)
            )
        finally:
            self.pairs.discard(pair)
            for writer in pair:
                writer.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    # One side ended: end the other, so neither end waits on a half-open pair.
    writer.transport.abort()
