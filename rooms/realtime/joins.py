"""Where a join starts: the room as the user sees it and the effective since
(docs/protocol.md, The effective since), from what the hub knows when it
knows enough (rooms/realtime/known.py), else from the database, whose answer
it then remembers.

Both ways decide with the same functions: access.RoomAccess.visible (the
room's rule, rooms/access.py) and selectors.effective_since. Joins of one
user to one room that arrive while its read is under way share that read.
"""

from rooms import access, selectors
from rooms.errors import RoomsError
from rooms.ops import metrics

from . import db


async def join_start(hub, *, user, slug: str, since: int | None, limit: int | None):
    """(room, effective since, truncated) of a join, or `not_found`."""
    feed = hub.feed_of(slug)
    room = hub.known.room_access(user, feed) if feed is not None else None
    # A client ahead of this process's feed (it read another worker's
    # stream) asks the database, whose head is the room's own.
    if room is not None and (since is None or since <= room.head):
        metrics.JOINS.labels("memory").inc()
        if not room.visible:
            raise access.not_found(slug)
        start, truncated = selectors.effective_since(room, since=since, limit=limit)
        return room, start, truncated
    metrics.JOINS.labels("database").inc()
    known = hub.known
    epoch = known.epoch(user.pk)
    read = db.read(access.room_access_or_404)
    # Keyed by the epoch too: a join after an event never takes a read begun before it.
    key = ("join", user.pk, slug, epoch)
    try:
        room = await known.read_once(key, lambda: read(user=user, slug=slug))
    except RoomsError:
        # Its own error: each join's frame gets its own `ref` written into it.
        raise access.not_found(slug) from None
    known.learn_access(user.pk, room, epoch)
    start, truncated = selectors.effective_since(room, since=since, limit=limit)
    return room, start, truncated
