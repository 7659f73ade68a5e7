"""The hub's repair loop: what the channel layer failed to say is read from
the database once per ROOMS_REPAIR_INTERVAL.

One query compares every feed's head with the database, which delivers what
no broadcast announced: a post from `manage.py` on the in-memory layer, or
the last message of a burst the layer lost. The same query notices a room
whose title, archived or private state changed in another process, and
sends the `room` frame. A few more queries re-read what the open sockets
may still do (`check_access`): the user's rights, credentials and roles.
So a lost access event, or a change that has none (staff taken away, a
password changed), never leaves a socket with rights it no longer has for
longer than one interval.
"""

import asyncio
import logging

from rooms import protocol, selectors
from rooms.ops import metrics

from . import db

logger = logging.getLogger(__name__)

# After this many failed repairs in a row the hub cannot vouch for its
# streams: it closes its sockets with 4503 so clients resume elsewhere (G5).
MAX_REPAIR_FAILURES = 5
# Seconds between two refreshes of the layer groups' expiry.
GROUP_REFRESH = 30


async def run(hub) -> None:
    """The loop: resubscribe when the layer was down (and now and then to
    refresh the groups' expiry on a healthy layer), then check."""
    interval = hub.repair_interval
    refresh_every = max(1, int(GROUP_REFRESH / interval))
    ticks = 0
    while True:
        await asyncio.sleep(interval)
        ticks += 1
        if hub.shared and (not hub.layer_ok or ticks % refresh_every == 0):
            # Also refreshes the groups' expiry on a healthy layer.
            await hub.resubscribe()
        await check(hub)


async def check(hub) -> None:
    """One query for the heads of every room joined in this process; feeds
    behind the database fetch what they missed. Then what the sockets
    may still do: a lost event never leaves access stale for longer than
    one interval."""
    await check_rooms(hub, [feed for feed in hub.feeds.values() if feed.head is not None])
    await check_access(hub)


async def check_rooms(hub, feeds: list) -> None:
    """Read the state of the feeds' rooms in one query: repair the heads
    behind it, and announce a changed title, archived or private state."""
    if not feeds:
        return
    asked = {feed: feed.state_asked for feed in feeds}
    try:
        states = await db.read(selectors.room_states)(room_ids=[feed.room_id for feed in feeds])
    except Exception:
        hub.repair_failures += 1
        logger.warning("repair: database unavailable (%d)", hub.repair_failures)
        if hub.repair_failures >= MAX_REPAIR_FAILURES:
            await hub.close_all(protocol.CLOSE_UNAVAILABLE)
        return
    hub.repair_failures = 0
    for feed in feeds:
        state = states.get(feed.room_id)
        if state is None:
            feed.state = None  # joins read the database, which knows no such room
            await feed.room_gone()
            continue
        if feed.head is not None and state.head > feed.head:
            metrics.HEAD_REPAIRS.inc()
            log = "room %s: head-check repair: head %d, the database's %d"
            logger.info(log, feed.slug, feed.head, state.head, extra={"room": feed.slug})
            feed.want_repair()
        await feed.room_changed(state)
        # Current for joins, unless a RoomChanged came in since the read began.
        feed.state_read = max(feed.state_read, asked[feed])


async def check_access(hub) -> None:
    """Close the sockets whose user was deactivated, whose token was
    revoked or whose session ended (4401: a logout, an expiry, a password
    changed elsewhere); bring every socket's user (staff, superuser) and
    every subscription's role up to date (a `room` frame, or `left` when
    the room is private and the membership went). A few queries for the
    whole process."""
    sockets = [socket for group in hub.user_sockets.values() for socket in group]
    subscriptions = [
        subscription
        for feed in hub.feeds.values()
        for subscription in feed.subscriptions
        if not subscription.room.operator
    ]
    known = hub.known
    if not sockets:
        return
    tokens = {value for kind, value in (s.credentials for s in sockets) if kind == "token"}
    sessions = {value for kind, value in (s.credentials for s in sockets) if kind == "session"}
    user_ids = {socket.user.pk for socket in sockets}
    # What joins answer from memory is re-read with the rest (known.py).
    remembered = known.pairs()
    epochs = known.epochs_of(user_ids)
    try:
        snapshot = await db.read(selectors.access_snapshot)(
            user_ids=user_ids,
            token_hashes=tokens | set(known.tokens),
            session_keys={key for key in sessions if key},
            pairs={(s.room.id, s.socket.user.pk) for s in subscriptions} | remembered,
            cursor_pairs=bool(remembered),
        )
    except Exception:
        logger.warning("access check: database unavailable", exc_info=True)
        return
    known.check(snapshot, asked=remembered, epochs=epochs, connected=set(hub.user_sockets))
    for socket in sockets:
        kind, value = socket.credentials
        rights = snapshot.active_users.get(socket.user.pk)
        if rights is None:
            await socket.end(protocol.CLOSE_UNAUTHENTICATED, "The account is deactivated.")
        elif kind == "token" and value not in snapshot.live_tokens:
            await socket.end(protocol.CLOSE_UNAUTHENTICATED, "The API token was revoked.")
        elif kind == "session" and snapshot.live_sessions.get(value) != socket.user.pk:
            await socket.end(protocol.CLOSE_UNAUTHENTICATED, "The session has ended.")
        else:
            # The socket's user is what its frames are decided with (the
            # group commit's delete rule reads is_staff from it): as it is now.
            socket.user.is_staff = rights.is_staff
            socket.user.is_superuser = rights.is_superuser
    for subscription in subscriptions:
        role = snapshot.roles.get((subscription.room.id, subscription.socket.user.pk))
        if role != subscription.room.role and not subscription.socket.gone:
            # Whether the user still sees the room is access.may_see's to
            # say (RoomAccess.visible): change_view asks it.
            await subscription.change_view(role=role)
