"""A socket's plumbing under the consumer (rooms/realtime/consumer.py): the
loop that hands each ASGI event to its handler, and the way frames go out
(rooms/realtime/outlet.py), with the logging of what ends a socket.
"""

import contextlib
import logging

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from rooms import protocol
from rooms.ops import metrics

from .outlet import QueuedOutlet

logger = logging.getLogger("rooms.realtime.consumer")


class Socket(AsyncWebsocketConsumer):
    """Channels' WebSocket consumer with a leaner loop. No channel-layer
    channel per socket: the process's hub holds the one subscription per
    room and hands frames to sockets directly. And no hop to the database
    thread per event: Channels' own loop (AsyncConsumer.__call__) closes
    that thread's old connections before every event, which under a
    reconnect storm queues every socket's handshake and frames on one
    thread; the runtime's database work goes through
    database_sync_to_async (rooms/realtime/db.py), which does it itself.
    The same for its disconnect."""

    channel_layer = None

    async def __call__(self, scope, receive, send):
        self.scope = scope
        self.base_send = send
        try:
            while True:
                message = await receive()
                handler = getattr(self, get_handler_name(message), None)
                if handler is None:
                    raise ValueError(f"No handler for message type {message['type']}")
                await handler(message)
        except StopConsumer:
            pass

    async def websocket_disconnect(self, message):
        # Channels' own hops to the database thread here too (a fifth of a
        # storm's CPU as its 10,000 sockets close); no groups to leave either.
        await self.disconnect(message["code"])
        raise StopConsumer()

    async def send_text(self, text: str) -> None:
        """Send a frame; a socket that is gone is skipped silently (the hub
        may hand it a frame between the drop and `disconnect`). A frame that
        cannot be sent closes the socket: never joined but deaf."""
        await self.send_many((text,))

    async def send_many(self, texts) -> None:
        """Send frames in order, in one write where the server allows it."""
        if self.gone:
            return
        try:
            within_backlog = self.outlet.write_many(texts)
        except Exception:
            self.gone = True  # disconnect() follows and cleans up
            log = "socket %s of %s closed (4503): a frame could not be sent"
            logger.warning(log, *self._who(), extra=self._log_fields())
            with contextlib.suppress(Exception):
                await self.close(code=protocol.CLOSE_UNAVAILABLE)
            return
        for text in texts:
            metrics.frame_out(text)
        if not within_backlog:
            # The client does not read: drop what waits for it, and let it
            # resume with `since` like after any other drop (G5).
            self.gone = True
            logger.warning(
                "socket %s of %s closed (4408): over %d bytes unread",
                *self._who(),
                settings.ROOMS_MAX_BACKLOG,
                extra=self._log_fields(),
            )
            await self.outlet.overflow(protocol.CLOSE_BACKLOG)

    async def close(self, code=None, reason=None):
        # Queued frames go first: an error frame before its close.
        if isinstance(getattr(self, "outlet", None), QueuedOutlet):
            with contextlib.suppress(Exception):
                await self.outlet.flush()
        await super().close(code=code, reason=reason)

    def _who(self) -> tuple[str, str]:
        return self.socket_id[:8], getattr(self, "username", "?")

    def _log_fields(self, room: str | None = None) -> dict:
        """What a log line of this socket is about (JSON lines, docs/deploy.md)."""
        socket, user = self._who()
        return {"socket": socket, "user": user, "room": room}

    async def end(self, code: int, reason: str, *, told: bool = False) -> None:
        """Close the socket from the server's side (credentials gone: 4401),
        after an `auth_required` error unless the client was `told` already."""
        log = "socket %s of %s closed (%d): %s"
        logger.warning(log, *self._who(), code, reason, extra=self._log_fields())
        if code == protocol.CLOSE_UNAUTHENTICATED and not told:
            await self.send_text(protocol.error("auth_required", reason))
        self.gone = True
        with contextlib.suppress(Exception):
            await self.close(code=code)
