"""Per-process fan-out: one subscription per room per process, ordered and
gapless delivery to the sockets of this process.

Every daphne process runs one Hub. For each room that has a socket joined in
this process, a RoomFeed (rooms/realtime/feed.py) subscribes the process's
one layer channel to the room's group, keeps the room's `head` (the last seq
delivered), and hands each message, serialized once, to the room's local
subscriptions in seq order. When a message arrives whose seq is above
head + 1 (the layer dropped one, or two processes' broadcasts crossed), the
feed reads the gap from the database first.

The hub itself owns the lifecycle (its loops start with the first socket and
stop with the last), the subscriptions of rooms and users, the layer groups
and the receive loop. What each event becomes is dispatch.py's; presence
gossip is presence.py's; the periodic check against the database (heads,
rooms, access) is repair.py's.
"""

import asyncio
import contextlib
import logging
import weakref

from channels.layers import get_channel_layer
from django.conf import settings

from rooms import events
from rooms.broadcast import PROCESS_ID, add_local_sink, layer_is_shared, remove_local_sink
from rooms.events import LOCAL_CHANNEL_PREFIX, user_group
from rooms.ops import metrics

from . import dispatch, presence, repair, shutdown
from .feed import RoomFeed, Subscription
from .flow import Throttle
from .known import Known

logger = logging.getLogger(__name__)

_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub]" = weakref.WeakKeyDictionary()


def _watch_cleaners(layer) -> None:
    """channels-redis removes each received message from a backup queue in a
    task of its own that nobody awaits; when Redis goes away meanwhile, that
    task's error would be logged as "never retrieved". The repair loop covers
    what it concerns (at worst a message arrives twice, and feeds drop
    duplicates by seq), so take the error here."""
    for cleaner in getattr(layer, "receive_cleaners", ()):
        cleaner.add_done_callback(_retrieve)


def _retrieve(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()


def get_hub(*, repair_interval: float | None = None) -> "Hub":
    """The hub of the running event loop: one per event loop, so one per
    server process (daphne and uvicorn run one loop). `repair_interval`
    applies to a hub created by this call (`tailroom --interval`)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub(loop, repair_interval=repair_interval)
    return hub


class Hub:
    """This process's feeds, its users' sockets and its one layer channel."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        repair_interval: float | None = None,
        layer=None,
    ):
        self.loop = loop
        self.repair_interval = repair_interval or settings.ROOMS_REPAIR_INTERVAL
        # The configured channel layer, unless given one (a test's fake).
        self.layer = get_channel_layer() if layer is None else layer
        self.shared = layer_is_shared(self.layer)
        self.channel: str | None = None
        self.feeds: dict[int, RoomFeed] = {}
        self.user_sockets: dict[int, set] = {}
        self.tasks: list[asyncio.Task] = []
        self.running = False
        self.layer_ok = True
        self.repair_failures = 0
        self.presence_dirty = False
        self.typing = Throttle(settings.ROOMS_TYPING_INTERVAL)
        # What handshakes and joins may take without the database (known.py).
        self.known = Known()
        self.room_ids: dict[str, int] = {}  # slug -> id of the rooms with a feed
        self.window_limits: tuple[int, int] = settings.ROOMS_RESUME_WINDOW
        self._starting: asyncio.Future | None = None
        self._groups: set[str] = set()  # layer groups this process is subscribed to
        self._group_locks: dict[str, asyncio.Lock] = {}
        self._background: set[asyncio.Task] = set()
        metrics.watch_hub(self)  # /metrics reads its sockets and rooms

    def spawn(self, coro) -> None:
        """Run `coro` in the background, holding a reference until it ends."""
        task = self.loop.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- lifecycle -----------------------------------------------------------

    async def _ensure_running(self) -> None:
        if self.running:
            return
        if self._starting is None:
            self._starting = self.loop.create_future()
            if self.shared and self.channel is None:
                # One channel for the hub's lifetime, across idle stops.
                self.channel = await self.layer.new_channel(prefix=LOCAL_CHANNEL_PREFIX)
            self.running = True
            shutdown.install(self)  # SIGTERM drains this process's sockets first
            add_local_sink(self._local_sink)
            if self.shared:
                self.tasks.append(asyncio.create_task(self._receive_loop(), name="rooms-receive"))
            self.tasks.append(asyncio.create_task(repair.run(self), name="rooms-repair"))
            self.tasks.append(asyncio.create_task(presence.run(self), name="rooms-presence"))
            self._starting.set_result(None)
            self._starting = None
        else:
            await self._starting

    async def _stop_if_idle(self) -> None:
        """With no socket left, stop the loops (a test's event loop must end
        clean; a worker starts them again on the next connection). Not
        awaited: a cancelled blocking receive may take a while to unwind."""
        if self.feeds or self.user_sockets or not self.running:
            return
        self.running = False
        remove_local_sink(self._local_sink)
        tasks, self.tasks = self.tasks, []
        for task in tasks:
            task.cancel()
        self.spawn(self._finish_stop(tasks))

    async def _finish_stop(self, tasks: list[asyncio.Task]) -> None:
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await presence.save(self)  # nobody online here any more (unless back)

    async def sync_group(self, group: str, wanted) -> None:
        """Make this process's layer subscription to `group` match `wanted()`.

        Joins and leaves of one group are serialized by a lock and each
        re-reads `wanted()` under it, so however subscribes and unsubscribes
        interleave, the last one leaves the layer in the state the hub needs
        (a discard can never land after the add of a newer feed)."""
        if not self.shared:
            return
        lock = self._group_locks.setdefault(group, asyncio.Lock())
        async with lock:
            want = wanted()
            try:
                if want and group not in self._groups:
                    await self.layer.group_add(group, self.channel)
                    self._groups.add(group)
                elif not want and group in self._groups:
                    self._groups.discard(group)
                    await self.layer.group_discard(group, self.channel)
            except Exception:
                self.layer_ok = False
                metrics.LAYER_ERRORS.labels("subscribe").inc()
                logger.warning("channel layer unavailable: %s is synced when it is back", group)
        if not want and not lock.locked() and not getattr(lock, "_waiters", None):
            self._group_locks.pop(group, None)

    def feed_of(self, slug: str) -> RoomFeed | None:
        """The ready feed of the room `slug`, if one runs here."""
        feed = self.feeds.get(self.room_ids.get(slug))
        return feed if feed is not None and feed.ready.is_set() else None

    def _room_wanted(self, room_id: int):
        return lambda: room_id in self.feeds

    def _user_wanted(self, user_id: int):
        return lambda: user_id in self.user_sockets

    # --- rooms -----------------------------------------------------------------

    async def subscribe(self, subscription: Subscription) -> RoomFeed:
        """Attach a socket's subscription to its room's feed, starting the
        feed (layer group and head) on the first one in this process.

        From finding a ready feed to adding the subscription there is no
        await, so a feed torn down meanwhile is never joined."""
        await self._ensure_running()
        room = subscription.room
        while True:
            feed = self.feeds.get(room.id)
            if feed is None:
                feed = self.feeds[room.id] = RoomFeed(self, room.id, room.slug)
                self.room_ids[room.slug] = room.id
                feed.task = asyncio.create_task(feed.run(), name=f"rooms-feed-{room.id}")
            await feed.ready.wait()
            if self.feeds.get(room.id) is feed:
                break
        feed.subscriptions.add(subscription)
        username = subscription.socket.username
        if subscription.present:
            feed.local_users[username] += 1
            if feed.local_users[username] == 1:
                self.presence_dirty = True
                # The newcomer itself is not started yet (send_all skips it):
                # it gets its own presence frame after `joined`.
                await self.announce_presence(feed)
        return feed

    async def unsubscribe(self, subscription: Subscription) -> None:
        feed = self.feeds.get(subscription.room.id)
        if feed is None or subscription not in feed.subscriptions:
            return
        feed.subscriptions.discard(subscription)
        username = subscription.socket.username
        gone = False
        if subscription.present:
            feed.local_users[username] -= 1
            if feed.local_users[username] <= 0:
                del feed.local_users[username]
                self.presence_dirty = gone = True
        if not feed.subscriptions:
            # Decided with no await since the discard: nobody joined meanwhile.
            del self.feeds[feed.room_id]
            self.room_ids.pop(feed.slug, None)
            if feed.task:
                feed.task.cancel()
            await self.announce_presence(feed)  # other processes: nobody here now
            if feed.presence_timer is not None:
                feed.presence_timer.cancel()  # nobody here to show it to
            await self.sync_group(feed.group, self._room_wanted(feed.room_id))
            await self._stop_if_idle()
        elif gone:
            await self.announce_presence(feed)

    # --- users (read cursors between a user's sockets) --------------------------

    async def attach_user(self, user_id: int, socket) -> None:
        await self._ensure_running()
        self.user_sockets.setdefault(user_id, set()).add(socket)
        await self.sync_group(user_group(user_id), self._user_wanted(user_id))

    async def detach_user(self, user_id: int, socket) -> None:
        sockets = self.user_sockets.get(user_id)
        if not sockets or socket not in sockets:
            return
        sockets.discard(socket)
        if not sockets:
            del self.user_sockets[user_id]
            self.known.forget_user(user_id)  # no socket here: no event keeps it current
            await self.sync_group(user_group(user_id), self._user_wanted(user_id))
            await self._stop_if_idle()

    # --- events ------------------------------------------------------------------

    def _local_sink(self, message: dict) -> bool:
        """broadcast.publish's way in, from any thread: this hub delivers the
        event and forwards it to the layer for the other processes."""
        if self.loop.is_closed():
            return False
        self.loop.call_soon_threadsafe(self.ingest, message, True)
        return True

    def ingest(self, message: dict, local: bool = False) -> None:
        """Take one encoded event (from this process, or from the layer)."""
        if not local and events.origin_of(message) == PROCESS_ID:
            return  # delivered locally already
        if local and self.shared:
            self.spawn(self.forward(message))
        dispatch.dispatch(self, events.decode(message))

    async def forward(self, message: dict) -> None:
        """Send an encoded event to the other processes on the layer."""
        try:
            await self.layer.group_send(events.decode(message).group, message)
        except Exception:
            self.layer_ok = False
            metrics.LAYER_ERRORS.labels("send").inc()
            logger.warning("channel layer unavailable: %s not forwarded", message.get("kind"))

    async def announce_presence(self, feed: RoomFeed, *, ask: bool = False) -> None:
        """Show a room's presence here and tell the other processes
        (rooms/realtime/presence.py); the feeds call it."""
        await presence.announce(self, feed, ask=ask)

    # --- the layer ---------------------------------------------------------------------

    async def _receive_loop(self) -> None:
        while True:
            try:
                event = await self.layer.receive(self.channel)
                _watch_cleaners(self.layer)
            except asyncio.CancelledError:
                raise
            except Exception:
                metrics.LAYER_ERRORS.labels("receive").inc()
                if self.layer_ok:
                    logger.warning("channel layer receive failed; resubscribing", exc_info=True)
                self.layer_ok = False
                await asyncio.sleep(min(1.0, settings.ROOMS_REPAIR_INTERVAL))
                continue
            if event.get("type") == events.LAYER_TYPE:
                self.ingest(event)

    async def resubscribe(self) -> None:
        """Join every group again: after the layer lost its state (Redis
        restarted) and, on a healthy layer, now and then to refresh the
        groups' expiry. The repair loop fills whatever was missed meanwhile."""
        was_down = not self.layer_ok
        try:
            for group in list(self._groups):
                await self.layer.group_add(group, self.channel)
        except Exception:
            self.layer_ok = False
            metrics.LAYER_ERRORS.labels("subscribe").inc()
            return
        self.layer_ok = True
        # Groups whose first add failed while the layer was down.
        for room_id, feed in list(self.feeds.items()):
            await self.sync_group(feed.group, self._room_wanted(room_id))
        for user_id in list(self.user_sockets):
            await self.sync_group(user_group(user_id), self._user_wanted(user_id))
        if was_down:
            metrics.LAYER_RECONNECTS.inc()
            logger.info("channel layer back: %d groups restored", len(self._groups))
            for feed in list(self.feeds.values()):
                await self.announce_presence(feed, ask=True)

    async def close_all(self, code: int) -> None:
        """Close every socket joined to a room here: its stream cannot be vouched for."""
        sockets = {s.socket for feed in self.feeds.values() for s in feed.subscriptions}
        logger.error("closing %d sockets with %d: streams cannot be repaired", len(sockets), code)
        for socket in sockets:
            await socket.close(code=code)
