"""The WebSocket adapter: one socket, many rooms (docs/protocol.md).

Each client frame type maps to one `on_<type>` method; a RoomsError raised
anywhere becomes one `error` frame in `receive`. Database work runs in small
sync functions of selectors/services (rooms/realtime/db.py: reads on a pool
of threads, writes on one); live delivery and ordering belong to the hub
(rooms/realtime/hub.py).
"""

import asyncio
import contextlib
import logging
import secrets
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError

from rooms import access, protocol, selectors, services
from rooms.errors import RoomsError
from rooms.ops import metrics
from rooms.services import EntryRequest

from . import batching, db, joins, shutdown
from .auth import credentials_of
from .feed import Subscription
from .flow import Coalescer, FrameBudget
from .hub import get_hub
from .outlet import outlet_for
from .socket import Socket

logger = logging.getLogger(__name__)

# Frames that spend the socket's frame budget (stored entries have the
# stored-entry rate limit instead; typing and read their own throttles).
BUDGETED = frozenset({"join", "leave", "history", "ping"})
# Errors that refuse a frame for a reason of policy, logged once each
# (auth_required is logged by `end`, which closes the socket).
LOGGED_REFUSALS = frozenset({"rate_limited", "forbidden", "read_only", "too_large"})


class RoomsConsumer(Socket):
    async def connect(self):
        self.user = self.scope.get("user")
        self.socket_id = secrets.token_hex(8)  # in logs, and to skip echoing a read
        self.subscriptions: dict[str, Subscription] = {}
        self.hub = None
        self.gone = False
        rate = settings.ROOMS_FRAME_RATE
        self.budget = FrameBudget(*rate) if rate is not None else None
        self.reads = Coalescer(settings.ROOMS_READ_COALESCE)
        self.read_flush: asyncio.TimerHandle | None = None
        await self.accept()
        self.outlet = outlet_for(self.base_send, limit=settings.ROOMS_MAX_BACKLOG)
        if self.user is None or not self.user.is_authenticated:
            host, port = self.scope.get("client") or ("?", 0)
            why = (
                "the API token is not valid" if self.scope.get("auth") == "token" else "no session"
            )
            log = "socket refused (4401) from %s:%s: %s"
            logger.warning(log, host, port, why, extra={"client": f"{host}:{port}"})
            await self.send_text(
                protocol.error("auth_required", "Log in, or connect with an API token.")
            )
            await self.close(code=protocol.CLOSE_UNAUTHENTICATED)
            return
        self.username = self.user.get_username()
        if shutdown.draining():  # this worker is stopping: resume on another (G5)
            await self.close(code=protocol.CLOSE_UNAVAILABLE)
            return
        hub = get_hub()
        cap = settings.ROOMS_MAX_SOCKETS_PER_USER
        if cap and len(hub.user_sockets.get(self.user.pk, ())) >= cap:
            metrics.RATE_LIMITED.labels("sockets").inc()
            log = "socket %s of %s refused (4429): %d sockets open already"
            logger.warning(log, *self._who(), cap, extra=self._log_fields())
            await self.send_text(
                protocol.error("rate_limited", f"At most {cap} open sockets per user.")
            )
            await self.close(code=protocol.CLOSE_TOO_MANY_SOCKETS)
            return
        self.credentials = credentials_of(self.scope)
        self.scope = None  # all read: an idle socket need not keep its copy (lean.py)
        self.hub = hub
        await self.hub.attach_user(self.user.pk, self)
        hub.known.connected(self.user)  # its joins may be answered from memory now
        await self.send_text(protocol.hello(self.username))

    async def disconnect(self, code):
        self.gone = True
        if self.read_flush is not None:
            self.read_flush.cancel()
        if self.hub is None:
            return
        # Reads still coalescing are stored: the person did read up to there
        # (a cursor left behind would badge and notify what was read).
        for slug, seq in self.reads.drain():
            await self._store_read(slug, seq)
        for subscription in list(self.subscriptions.values()):
            await self._drop(subscription)
        self.subscriptions.clear()
        await self.hub.detach_user(self.user.pk, self)

    # --- frames ----------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.hub is None:
            return
        ref = None
        try:
            frame = protocol.parse_frame(
                text_data,
                bytes_data,
                max_bytes=settings.ROOMS_MAX_FRAME_BYTES,
                max_body=settings.ROOMS_MAX_BODY,
                history_limit=settings.ROOMS_HISTORY_LIMIT,
            )
            ref = frame.ref
            metrics.frame_in(frame.type)
            if frame.type in BUDGETED and self.budget is not None:
                retry_after = self.budget.spend()
                if retry_after is not None:
                    metrics.RATE_LIMITED.labels("frames").inc()
                    raise RoomsError(
                        "rate_limited", "Too many frames: slow down.", retry_after=retry_after
                    )
            await getattr(self, f"on_{frame.type}")(frame)
        except RoomsError as error:
            if error.ref is None:
                error.ref = ref
            await self.send_text(protocol.error_from(error))
            if error.code in LOGGED_REFUSALS:
                log = "socket %s of %s: frame refused (%s): %s"
                logger.info(log, *self._who(), error.code, error.message, extra=self._log_fields())
            if error.code == "too_large":
                await self.close(code=protocol.CLOSE_TOO_LARGE)
            elif error.code == "auth_required":
                await self.end(protocol.CLOSE_UNAUTHENTICATED, error.message, told=True)
        except (OperationalError, InterfaceError):
            # The database is unreachable: the client sends the frame again.
            logger.warning("socket %s of %s: database unavailable", *self._who())
            error = protocol.unavailable()
            error.ref = ref
            await self.send_text(protocol.error_from(error))
        except Exception:
            logger.exception(
                "socket %s of %s: frame failed", *self._who(), extra=self._log_fields()
            )
            await self.send_text(protocol.error("server_error", "Something went wrong.", ref=ref))

    async def _room(self, slug: str) -> access.RoomAccess:
        """The room a frame names, which this socket must have joined."""
        subscription = self.subscriptions.get(slug)
        if subscription is not None:
            return subscription.room
        await db.read(access.room_access_or_404)(user=self.user, slug=slug)
        raise RoomsError("not_joined", f"Join {slug[:64]!r} first.")

    # --- access changes (the hub calls these) ------------------------------------

    async def lose_room(self, subscription: Subscription) -> None:
        """The user may no longer see a joined room: `left` with reason
        `removed`, and nothing more of that room."""
        if self.subscriptions.get(subscription.room.slug) is not subscription:
            return
        del self.subscriptions[subscription.room.slug]
        await self._drop(subscription)
        await self.send_text(protocol.left(room=subscription.room.slug, ref=None, reason="removed"))

    async def recheck_access(self, room_id: int | None) -> None:
        """Re-read the user's access to its joined rooms (one, or all): a
        role change becomes a `room` frame, a lost access a `left`."""
        for subscription in list(self.subscriptions.values()):
            if room_id is not None and subscription.room.id != room_id:
                continue
            after = await db.read(access.room_access)(user=self.user, slug=subscription.room.slug)
            if after is None or after.id != subscription.room.id:
                await self.lose_room(subscription)
            else:
                await subscription.change_view(role=after.role, title=after.title)

    async def on_join(self, frame: protocol.Frame):
        args = frame.args
        room, since, truncated = await joins.join_start(
            self.hub, user=self.user, slug=frame.room, since=args["since"], limit=args["limit"]
        )
        cap = settings.ROOMS_MAX_ROOMS_PER_SOCKET
        if cap and room.slug not in self.subscriptions and len(self.subscriptions) >= cap:
            metrics.RATE_LIMITED.labels("rooms").inc()
            raise RoomsError("rate_limited", f"At most {cap} rooms joined per socket.")
        subscription = Subscription(
            socket=self, room=room, since=since, present=frame.args["presence"]
        )
        feed = await self.hub.subscribe(subscription)
        # A re-join: the new stream is subscribed before the old one goes, so
        # the others see no leave-and-join in presence; the old stream sends
        # nothing after this, and the new one nothing before `joined`.
        old = self.subscriptions.get(room.slug)
        if old is not None:
            await self._drop(old)
        self.subscriptions[room.slug] = subscription
        await self.send_text(
            protocol.joined(
                room=room.slug,
                ref=frame.ref,
                head=room.head,
                since=since,
                truncated=truncated,
                title=room.title,
                read_only=room.read_only,
                read=room.last_read_seq,
            )
        )
        subscription.started = True
        await self.send_text(protocol.presence(room.slug, feed.users()))
        subscription.backfill_task = asyncio.create_task(self._backfill(subscription, feed))

    async def _backfill(self, subscription: Subscription, feed) -> None:
        async def send_page(page: list[str]) -> None:
            metrics.BACKFILL_ENTRIES.inc(len(page))
            await self.send_text(protocol.backfill(subscription.room.slug, page))

        started = time.perf_counter()
        try:
            await subscription.catch_up(feed, send_page)
            metrics.BACKFILL_SECONDS.observe(time.perf_counter() - started)
            subscription.backfill_task = None  # done: an idle socket keeps no task
        except asyncio.CancelledError:
            raise
        except Exception:
            slug = subscription.room.slug
            log = "socket %s of %s: backfill of %s failed; closing (4503)"
            logger.exception(log, *self._who(), slug, extra=self._log_fields(slug))
            await self.close(code=protocol.CLOSE_UNAVAILABLE)

    async def _drop(self, subscription: Subscription) -> None:
        task = subscription.backfill_task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.hub.unsubscribe(subscription)

    async def on_leave(self, frame):
        room = await self._room(frame.room)
        await self._drop(self.subscriptions.pop(room.slug))
        await self.send_text(protocol.left(room=room.slug, ref=frame.ref, reason="leave"))

    async def on_send(self, frame):
        await self._store(frame, **{k: frame.args[k] for k in ("body", "reply_to", "attachments")})

    async def on_edit(self, frame):
        await self._store(frame, kind="edit", target=frame.args["seq"], body=frame.args["body"])

    async def on_delete(self, frame):
        await self._store(frame, kind="delete", target=frame.args["seq"])

    async def on_react(self, frame):
        args = frame.args
        await self._store(
            frame, kind="reaction", target=args["seq"], emoji=args["emoji"], on=args["on"]
        )

    async def _store(self, frame, **entry) -> None:
        """Store one entry in this process's next group commit; `ack` after
        the commit. The service checks target, role and archive inside the
        transaction that stores it."""
        room = await self._room(frame.room)
        if shutdown.draining():
            raise protocol.unavailable("The server is restarting: send it again.")
        result = await batching.post(
            EntryRequest(room=room, author=self.user, client_id=frame.args["client_id"], **entry)
        )
        await self.send_text(
            protocol.ack(
                ref=frame.ref,
                room=room.slug,
                seq=result.seq,
                client_id=result.client_id,
                duplicate=result.duplicate,
            )
        )

    async def on_typing(self, frame):
        room = await self._room(frame.room)
        # At most one relayed per user and room per interval; extras vanish.
        if not room.read_only and self.hub.typing.allow((self.user.pk, room.id)):
            services.typing_notify(user=self.user, room=room)

    async def on_read(self, frame):
        room = await self._room(frame.room)
        # The first read of a quiet room is written at once; the ones that
        # follow within the interval coalesce into the last of them.
        if self.reads.submit(room.slug, frame.args["seq"]):
            await self._write_read(room.slug, frame.args["seq"])
        elif self.read_flush is None:
            delay = self.reads.next_due_in() or 0.0
            self.read_flush = asyncio.get_running_loop().call_later(
                delay, lambda: self.hub.spawn(self._flush_reads())
            )

    async def _flush_reads(self) -> None:
        self.read_flush = None
        for slug, seq in self.reads.due():
            await self._write_read(slug, seq)
        delay = self.reads.next_due_in()
        if delay is not None and not self.gone:
            self.read_flush = asyncio.get_running_loop().call_later(
                delay, lambda: self.hub.spawn(self._flush_reads())
            )

    async def _write_read(self, slug: str, seq: int) -> None:
        if not self.gone:  # closing: disconnect() stores what is pending
            await self._store_read(slug, seq)

    async def _store_read(self, slug: str, seq: int) -> None:
        subscription = self.subscriptions.get(slug)
        if subscription is None:
            return  # left (or lost) the room meanwhile: the cursor stays
        await db.write(services.read_cursor_advance)(
            user=self.user, room=subscription.room, seq=seq, socket_id=self.socket_id
        )

    async def on_history(self, frame):
        room = await self._room(frame.room)
        rows, has_more = await db.read(selectors.messages_before)(
            room_id=room.id,
            slug=room.slug,
            before=frame.args["before"],
            limit=frame.args["limit"],
            max_bytes=protocol.MAX_PAGE_BYTES - protocol.history_overhead(room.slug),
        )
        messages = [text for _, text in rows]
        await self.send_text(
            protocol.history(room=room.slug, ref=frame.ref, messages=messages, has_more=has_more)
        )

    async def on_ping(self, frame):
        heads = {}
        if self.subscriptions:
            by_id = await db.read(selectors.room_heads)(
                room_ids=[s.room.id for s in self.subscriptions.values()]
            )
            heads = {slug: by_id.get(s.room.id, 0) for slug, s in self.subscriptions.items()}
        await self.send_text(protocol.pong(ref=frame.ref, heads=heads))
