"""A socket's way out: frames are written without waiting on the network, and
what the client has not read yet is bounded (ROOMS_MAX_BACKLOG); past the
bound the socket is closed with 4408 (docs/protocol.md, Slow readers).

Three ways out, chosen per socket by what the ASGI server offers:

- `DirectOutlet`, under daphne: the frame is written straight to the
  connection's transport, and the backlog is what that transport has not
  handed to the kernel yet. A frame shared by many sockets (`Prepared`, a
  broadcast) is encoded and framed once per process, not once per socket,
  as high-throughput WebSocket servers do for broadcasts (Autobahn's
  prepared messages).
- `TransportOutlet`, under uvicorn (its sans-I/O WebSocket protocol,
  without compression): the same, written to the connection's asyncio
  transport.
- `QueuedOutlet`, under any other server (granian, or uvicorn with
  permessage-deflate negotiated): a per-socket queue that one writer task
  drains through ASGI `send`. A server whose `send` waits for the network
  then stalls only that socket's writer, and the queue is the backlog.
"""

import asyncio
import contextlib
import functools
import logging
from collections import deque

from .lean import lighten

logger = logging.getLogger(__name__)

# After the 4408 close frame, a client that still does not read is cut off
# after this many seconds, which frees its backlog.
ABORT_AFTER = 2.0


def frame_text(payload: bytes) -> bytes:
    """An unmasked, unfragmented WebSocket text frame (RFC 6455, 5.2)."""
    length = len(payload)
    if length < 126:
        header = bytes((0x81, length))
    elif length < 1 << 16:
        header = bytes((0x81, 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + length.to_bytes(8, "big")
    return header + payload


class Prepared(str):
    """A frame sent to many sockets: its UTF-8 and its WebSocket framing are
    computed on first use and shared by every socket of the process."""

    def framed(self) -> bytes:
        try:
            return self._framed
        except AttributeError:
            self._framed = frame_text(self.encode())
            return self._framed


def _server_send(send):
    """The server's own `send` under the middlewares' wrappers."""
    for _ in range(8):
        owner = getattr(send, "__self__", None)
        inner = getattr(owner, "real_send", None)  # channels' session wrapper
        if inner is None:
            return send
        send = inner
    return send


def outlet_for(send, *, limit: int):
    """The way out for a socket whose ASGI `send` is `send`."""
    send = _server_send(send)
    if isinstance(send, functools.partial) and send.args:
        protocol = send.args[0]
        transport = getattr(protocol, "transport", None)
        if hasattr(protocol, "sendData") and _buffered(transport) is not None:
            return DirectOutlet(protocol, limit=limit)
    owner = getattr(send, "__self__", None)
    if _sans_io_plain(owner):
        return TransportOutlet(owner, send, limit=limit)
    return QueuedOutlet(send, limit=limit)


def _sans_io_plain(protocol) -> bool:
    """Whether `protocol` is uvicorn's sans-I/O WebSocket protocol (a
    `websockets` ServerProtocol over an asyncio transport) with no extension
    negotiated: then a frame is the same bytes whoever builds it."""
    conn = getattr(protocol, "conn", None)
    return (
        hasattr(protocol, "close_sent")
        and hasattr(getattr(protocol, "transport", None), "get_write_buffer_size")
        and conn is not None
        and getattr(conn, "extensions", None) == []
    )


def _buffered(transport) -> int | None:
    """Bytes a Twisted TCP transport holds for the kernel (None: not one)."""
    try:
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except AttributeError:
        return None


class DirectOutlet:
    OPEN = 3  # autobahn's WebSocketProtocol.STATE_OPEN

    def __init__(self, protocol, *, limit: int):
        self.protocol = protocol
        self.limit = limit

    def backlog(self) -> int:
        return _buffered(self.protocol.transport) or 0

    def write(self, text: str) -> bool:
        """Write one frame; False when the backlog is past the limit."""
        return self.write_many((text,))

    def write_many(self, texts) -> bool:
        """Write frames in one go (one system call when the kernel takes
        them); False when the backlog is past the limit."""
        protocol = self.protocol
        if protocol.state != self.OPEN:
            return True  # closing: the server drops it, like daphne does
        data = b"".join(
            text.framed() if isinstance(text, Prepared) else frame_text(text.encode())
            for text in texts
        )
        transport = protocol.transport
        if protocol.send_queue or not transport.connected or transport.disconnecting:
            protocol.sendData(data)  # autobahn's own queue goes first
        elif not _buffered(transport):
            # Nothing waits: hand the frame to the kernel now, which is what
            # the reactor would do a moment later, without registering the
            # socket for writing and unregistering it again. What the kernel
            # does not take waits in the transport's buffer, as usual.
            sent = transport.writeSomeData(data)
            if not isinstance(sent, int):
                return True  # the connection is gone; the reactor will notice
            if sent < len(data):
                transport.write(data[sent:])
        else:
            transport.write(data)
        if not self.limit or self.backlog() <= self.limit:
            return True
        # Twisted hands its buffer to the kernel only between turns of the
        # loop, so a burst (a large group commit) piles up even for a fast
        # reader: offer it to the kernel now, then judge what is left.
        with contextlib.suppress(Exception):
            transport.doWrite()
        return self.backlog() <= self.limit

    async def overflow(self, code: int) -> None:
        """Close with `code` behind the backlog; cut the connection (and drop
        the backlog) if the client still has not read it after a moment."""
        protocol = self.protocol
        protocol.sendClose(code=code)
        loop = asyncio.get_running_loop()
        loop.call_later(ABORT_AFTER, _abort, protocol.transport)


def _abort(transport) -> None:
    with contextlib.suppress(Exception):
        # Twisted's transports, or asyncio's.
        abort = getattr(transport, "abortConnection", None) or transport.abort
        abort()


class TransportOutlet:
    """Under uvicorn (its sans-I/O WebSocket protocol, no compression): the
    frame is written straight to the connection's asyncio transport, as
    DirectOutlet does under daphne, instead of through a writer task and
    ASGI `send` per socket; the backlog is what the transport holds."""

    __slots__ = ("closer", "limit", "protocol", "send", "transport")  # one per socket

    def __init__(self, protocol, send, *, limit: int):
        self.protocol = protocol
        self.transport = protocol.transport
        self.send = send
        self.limit = limit
        lighten(protocol)  # what an idle socket need not keep (rooms/realtime/lean.py)

    def backlog(self) -> int:
        return self.transport.get_write_buffer_size()

    def write(self, text: str) -> bool:
        return self.write_many((text,))

    def write_many(self, texts) -> bool:
        if self.protocol.close_sent or self.transport.is_closing():
            return True  # closing: dropped, as the server drops it
        self.transport.write(
            b"".join(
                text.framed() if isinstance(text, Prepared) else frame_text(text.encode())
                for text in texts
            )
        )
        return not self.limit or self.backlog() <= self.limit

    async def overflow(self, code: int) -> None:
        """Close with `code` behind the backlog, in the background; cut the
        connection if the client still does not read after a moment."""
        self.closer = asyncio.get_running_loop().create_task(_close(self.send, code))


async def _close(send, code: int) -> None:
    try:
        await asyncio.wait_for(send({"type": "websocket.close", "code": code}), ABORT_AFTER)
    except Exception:
        # Still not reading: cut the connection, where the server lets us.
        transport = getattr(getattr(send, "__self__", None), "transport", None)
        if transport is not None:
            _abort(transport)


class QueuedOutlet:
    def __init__(self, send, *, limit: int):
        self.send = send
        self.limit = limit
        self.queue: deque[str] | None = None  # while frames wait (an idle socket holds none)
        self.queued = 0  # characters queued: the backlog, to within UTF-8's width
        self.writer: asyncio.Task | None = None
        self.failed: BaseException | None = None

    def backlog(self) -> int:
        return self.queued

    def write_many(self, texts) -> bool:
        within = True
        for text in texts:
            within = self.write(text)
        return within

    def write(self, text: str) -> bool:
        if self.failed is not None:
            raise ConnectionError("the socket's writer failed") from self.failed
        if self.queue is None:
            self.queue = deque()
        self.queue.append(text)
        self.queued += len(text)
        if self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(self._drain())
        return not self.limit or self.queued <= self.limit

    async def _drain(self) -> None:
        try:
            while self.queue:
                text = self.queue.popleft()
                self.queued -= len(text)
                await self.send({"type": "websocket.send", "text": str(text)})
        except Exception as error:
            self.failed = error
            logger.info("socket writer stopped: %s", error)
        finally:
            self.writer = None
            if not self.queue:
                self.queue = None

    async def flush(self) -> None:
        """Wait until everything queued went to the server."""
        while self.writer is not None:
            await asyncio.shield(self.writer)

    async def overflow(self, code: int) -> None:
        """Drop the backlog and close with `code` next, in the background:
        the server's `send` may wait for a client that never reads, and the
        caller (a room's delivery) must not."""
        self.queue = None
        self.queued = 0
        if self.writer is not None:
            self.writer.cancel()
        self.closer = asyncio.get_running_loop().create_task(_close(self.send, code))
