"""Who is online in a room, across processes.

Presence is gossiped between processes on the room groups: each process
announces its local users of a room when they change and every
PRESENCE_HEARTBEAT seconds; a process that stops announcing drops out after
PRESENCE_TTL. Each process also keeps its own row of the presence snapshot
(for `roomstats`) up to date. A feed shows the union to its sockets
(RoomFeed.presence_changed, rooms/realtime/feed.py).
"""

import asyncio
import logging
import time

from rooms import events, selectors, services
from rooms.broadcast import PROCESS_ID

from . import db

logger = logging.getLogger(__name__)

PRESENCE_HEARTBEAT = 10.0
PRESENCE_TTL = selectors.PRESENCE_TTL.total_seconds()


async def announce(hub, feed, *, ask: bool = False) -> None:
    """Show the room's users to this process's sockets, and tell the other
    processes who is online here (`ask`: and ask them for theirs)."""
    await feed.presence_changed()
    if hub.shared:
        event = events.Presence(
            room_id=feed.room_id,
            process=PROCESS_ID,
            users=tuple(sorted(feed.local_users)),
            ask=ask,
        )
        await hub.forward(events.encode(event, origin=PROCESS_ID))


def heard(hub, feed, event: events.Presence) -> None:
    """Another process's users of a room, valid for PRESENCE_TTL; an ask is
    answered with this process's."""
    if event.process == PROCESS_ID:
        return
    expires = time.monotonic() + PRESENCE_TTL
    feed.remote_users[event.process] = (frozenset(event.users), expires)
    hub.spawn(feed.presence_changed())
    if event.ask:
        hub.spawn(hub.announce_presence(feed))


async def run(hub) -> None:
    """Gossip this process's users to the other processes, and keep its
    presence snapshot (for `roomstats`) fresh: at once after a change,
    else every PRESENCE_HEARTBEAT seconds."""
    loop = asyncio.get_running_loop()
    last_beat = loop.time()
    while True:
        await asyncio.sleep(1.0)
        beat = loop.time() - last_beat >= PRESENCE_HEARTBEAT
        if beat:
            last_beat = loop.time()
            for feed in list(hub.feeds.values()):
                await hub.announce_presence(feed)
        if beat or hub.presence_dirty:
            await save(hub)


async def save(hub) -> None:
    """Write this process's row of the presence snapshot: its local users of
    each room (none, once every socket is gone)."""
    hub.presence_dirty = False
    rooms = {
        feed.room_id: sorted(feed.local_users) for feed in hub.feeds.values() if feed.local_users
    }
    try:
        await db.write(services.presence_snapshot_save)(process_id=PROCESS_ID, rooms=rooms)
    except Exception:
        hub.presence_dirty = True
        logger.warning("could not save the presence snapshot", exc_info=True)
