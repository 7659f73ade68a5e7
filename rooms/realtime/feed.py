"""One room's stream in one process: the feed that orders its entries and
repairs gaps, and the subscriptions (a socket's join, or `tailroom`) it
delivers to. The Hub (rooms/realtime/hub.py) owns the feeds and the channel
layer.

A subscription's `socket` is anything with `username`, `send_text(text)` and
`lose_room(subscription)` (the consumer; `tailroom`'s printer; a test's fake).
"""

import asyncio
import dataclasses
import heapq
import logging
import time
from collections import Counter

from django.conf import settings

from rooms import access, protocol, selectors
from rooms.events import room_group
from rooms.ops import metrics

from . import db, resume
from .outlet import Prepared
from .window import ResumeWindow

logger = logging.getLogger(__name__)

REPAIR_BATCH = 500
GAP_GRACE = 0.05  # seconds a gap may wait for the layer before the database
PRESENCE_INTERVAL = 0.25  # seconds between two `presence` frames of a room


class Subscription:
    """One socket's join of one room: the room's stream for that socket.

    `last_sent` is the last seq this socket received. While the backfill
    runs, live messages are not sent (the backfill reads them from the
    database instead); the backfill turns the subscription live at a moment
    when it has sent everything up to the feed's head, so from then on the
    feed's contiguous deliveries continue the stream exactly.
    """

    # Slots: one per joined socket (docs/benchmarks.md, issue 23, idle memory).
    __slots__ = ("backfill_task", "last_sent", "live", "present", "room", "socket", "started")

    def __init__(self, *, socket, room: access.RoomAccess, since: int, present: bool = True):
        self.socket = socket
        self.present = present  # listed in the room's presence
        self.started = False  # `joined` sent: other frames of the room may follow
        self.room = room
        self.last_sent = since
        self.live = False
        self.backfill_task: asyncio.Task | None = None

    async def catch_up(self, feed: "RoomFeed", send_page) -> None:
        """Send everything after `last_sent` as pages of entries to
        `send_page` (from the feed's resume window, or the database), until
        nothing is left between the stream and the feed's head; then go
        live (rooms/realtime/resume.py)."""
        await resume.catch_up(self, feed, send_page)

    async def change_view(self, **changes) -> None:
        """Apply new facts about the room (title, archived, private, the
        user's role): the socket loses the room when its user may no longer
        see it, else gets a `room` frame when what it shows changed."""
        before = self.room
        after = self.room = dataclasses.replace(before, **changes)
        if not after.visible:
            await self.socket.lose_room(self)
        elif self.started and (before.title, before.read_only) != (after.title, after.read_only):
            await self.socket.send_text(
                protocol.room_changed(after.slug, after.title, after.read_only)
            )

    async def deliver(self, frames: list[tuple[int, str]]) -> None:
        """Send the frames of entries this stream has not had yet (seq above
        `last_sent`; above last_sent + 1 only where retention pruned)."""
        if not self.live or frames[-1][0] <= self.last_sent:
            return
        new = [text for seq, text in frames if seq > self.last_sent]
        self.last_sent = frames[-1][0]
        send_many = getattr(self.socket, "send_many", None)
        if send_many is not None:
            await send_many(new)
        else:
            for text in new:
                await self.socket.send_text(text)


class RoomFeed:
    def __init__(self, hub, room_id: int, slug: str):
        # `hub` is the Hub that owns this feed (not imported: the hub imports us).
        self.hub = hub
        self.room_id = room_id
        self.slug = slug
        self.group = room_group(room_id)
        self.head: int | None = None
        self.subscriptions: set[Subscription] = set()
        self.local_users: Counter[str] = Counter()
        self.remote_users: dict[str, tuple[frozenset[str], float]] = {}
        self.shown_users: frozenset[str] = frozenset()
        self.presence_sent_at = float("-inf")
        self.presence_timer: asyncio.TimerHandle | None = None
        self.pending: dict[int, str] = {}  # seq -> message JSON, not yet delivered
        self.pending_seqs: list[int] = []  # a heap of pending's keys
        self.repair_wanted = False
        self.wake = asyncio.Event()
        self.gap_deadline: float | None = None  # when an open gap is read from the database
        self.task: asyncio.Task | None = None
        self.ready = asyncio.Event()
        self.state: selectors.RoomState | None = None  # title and archived, as last announced
        # RoomChanged events heard, and how many of them the last read of
        # `state` began after: a join decides from `state` only when current.
        self.state_asked = self.state_read = 0
        self.window: ResumeWindow | None = None  # the newest entries, for resuming joins

    @property
    def state_current(self) -> bool:
        return self.state_read == self.state_asked

    async def run(self) -> None:
        """The feed's task: subscribe and read the head (with the newest
        entries, for the resume window), then deliver."""
        await self.hub.sync_group(self.group, lambda: self.room_id in self.hub.feeds)
        count, size = self.hub.window_limits
        while True:
            # Without its head the feed cannot order anything: the joins
            # waiting on `ready` wait for the database to answer.
            asked = self.state_asked
            try:
                state, newest = await db.read(selectors.feed_start)(
                    room_id=self.room_id, slug=self.slug, newest=count
                )
                break
            except Exception:
                logger.warning("room %s: head unreadable; retrying", self.slug, exc_info=True)
                await asyncio.sleep(settings.ROOMS_REPAIR_INTERVAL)
        self.head = state.head if state else 0
        self.state = state
        self.state_read = asked
        self.window = ResumeWindow(self.head - len(newest), max_entries=count, max_bytes=size)
        self.window.extend(newest)
        self.ready.set()
        await self.hub.announce_presence(self, ask=True)
        while True:
            await self.wake.wait()
            self.wake.clear()
            try:
                await self._drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("room %s: delivery failed; retrying on the next repair", self.slug)

    def offer(self, seq: int, text: str) -> None:
        if (self.head is None or seq > self.head) and seq not in self.pending:
            self.pending[seq] = text
            heapq.heappush(self.pending_seqs, seq)
            self.wake.set()

    def want_repair(self) -> None:
        self.repair_wanted = True
        self.wake.set()

    async def _drain(self) -> None:
        while self.pending or self.repair_wanted:
            if self.repair_wanted:
                self.repair_wanted = False
                await self._fill(up_to=None)
                continue
            seq = self.pending_seqs[0]
            if seq not in self.pending or seq <= self.head:
                heapq.heappop(self.pending_seqs)
                self.pending.pop(seq, None)
            elif seq == self.head + 1:
                # Every pending entry that continues the stream, in one go:
                # each socket gets them in one write.
                run = []
                while self.pending_seqs and self.pending_seqs[0] == self.head + 1 + len(run):
                    seq = heapq.heappop(self.pending_seqs)
                    run.append((seq, self.pending.pop(seq)))
                await self._deliver(run)
            elif self._gap_may_close():
                return  # woken again when the missing seqs come, or at the deadline
            else:
                metrics.GAP_REPAIRS.inc()
                log = "room %s: gap repair: seq %d to %d read from the database"
                logger.info(log, self.slug, self.head + 1, seq - 1, extra={"room": self.slug})
                await self._fill(up_to=seq - 1)
                # Whatever the database lacks below seq was pruned: move on.
                self.head = max(self.head, seq - 1)
                if self.window is not None and self.window.head != self.head:
                    self.window.reset(self.head)
        self.gap_deadline = None

    def _gap_may_close(self) -> bool:
        """Whether to wait a moment before reading a gap from the database.

        With several workers, a batch from another worker often arrives just
        after a newer local one (their broadcasts crossed): waiting up to
        GAP_GRACE for the layer saves every worker a query per crossing. A
        gap still open at the deadline is read from the database (the layer
        dropped it). The in-memory layer never brings another process's
        messages, so there the gap is read at once."""
        if not self.hub.shared:
            return False
        loop = asyncio.get_running_loop()
        if self.gap_deadline is None:
            self.gap_deadline = loop.time() + GAP_GRACE
            loop.call_at(self.gap_deadline, self.wake.set)
        return loop.time() < self.gap_deadline

    async def _fill(self, *, up_to: int | None) -> None:
        """Deliver messages above head (up to `up_to`) from the database."""
        while True:
            rows = await db.read(selectors.entries_after)(
                room_id=self.room_id,
                slug=self.slug,
                after=self.head,
                limit=REPAIR_BATCH,
                up_to=up_to,
            )
            for seq, _ in rows:
                self.pending.pop(seq, None)
            if rows:
                await self._deliver(rows)
            if len(rows) < REPAIR_BATCH:
                return

    async def _deliver(self, run: list[tuple[int, str]]) -> None:
        """Deliver entries that continue the stream, ascending."""
        # Each frame is built once per message, for every socket, and only
        # for an entry that is delivered (not for a duplicate broadcast).
        frames = [(seq, Prepared(protocol.message(self.slug, text))) for seq, text in run]
        self.head = run[-1][0]
        if self.window is not None:
            self.window.extend(run)
        self.gap_deadline = None  # any gap below head is closed
        for subscription in list(self.subscriptions):
            try:
                await subscription.deliver(frames)
            except Exception:
                logger.exception("room %s: could not deliver seq %s", self.slug, self.head)
        for _, text in run:
            metrics.entry_delivered(text)  # the delivery lag

    async def send_all(self, text: str, *, skip_user: str | None = None) -> None:
        """Send a non-stream frame (presence, typing) to the
        subscriptions whose `joined` has gone out."""
        shared = Prepared(text)
        for subscription in list(self.subscriptions):
            if subscription.started and subscription.socket.username != skip_user:
                await subscription.socket.send_text(shared)

    async def room_changed(self, state: selectors.RoomState) -> None:
        """Apply a room's new title, archived or private state once, however
        it was learnt (a RoomChanged event, or the repair loop): each socket
        whose view changed gets a `room` frame with its own `read_only`, and
        one that may no longer see a room made private loses it."""
        known = self.state
        self.state = state
        if self.window is not None:
            self.window.trim_below(state.oldest)
        if known is not None and known.same_view(state):
            return
        for subscription in list(self.subscriptions):
            await subscription.change_view(
                title=state.title, is_archived=state.is_archived, is_private=state.is_private
            )

    async def room_gone(self) -> None:
        """The room was deleted: nobody may see it any more."""
        for subscription in list(self.subscriptions):
            await subscription.socket.lose_room(subscription)

    # --- presence ----------------------------------------------------------

    def users(self) -> frozenset[str]:
        now = time.monotonic()
        users = set(self.local_users)
        for process, (names, expires) in list(self.remote_users.items()):
            if expires < now:
                del self.remote_users[process]
            else:
                users |= names
        return frozenset(users)

    async def presence_changed(self) -> None:
        """Show the room's users to its sockets: at once when the last
        `presence` frame is older than PRESENCE_INTERVAL, else once at the
        end of that interval for every change within it. A reconnect storm
        of N users then costs each socket a few frames, not N."""
        if self.presence_timer is not None:
            return  # the trailing frame will show this change too
        loop = asyncio.get_running_loop()
        due = self.presence_sent_at + PRESENCE_INTERVAL
        if loop.time() >= due:
            await self._show_presence()
        else:
            self.presence_timer = loop.call_at(due, lambda: self.hub.spawn(self._show_presence()))

    async def _show_presence(self) -> None:
        self.presence_timer = None
        users = self.users()
        if users != self.shown_users:
            self.presence_sent_at = asyncio.get_running_loop().time()
            self.shown_users = users
            await self.send_all(protocol.presence(self.slug, users))
