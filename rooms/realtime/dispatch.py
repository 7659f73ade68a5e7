"""What the hub does with each event (rooms/events.py) once it is in this
process: one handler per event class, and what it hands to the feeds and
sockets of this process.

Events about a user (a moved read cursor, an access change) reach every
socket of that user here. Events about a room reach its feed, and only when
a socket of this process joined the room; any other event (a room nobody
joined here, a kind this version does not know) is dropped. Handlers run on
the hub's loop without awaiting: an entry is offered to its feed at once, in
the order the events came; anything that waits on a socket or the database
is spawned.
"""

from collections.abc import Callable

from rooms import events, protocol

from . import presence, repair


def dispatch(hub, event: events.Event | None) -> None:
    """Hand one decoded event to the sockets and feeds it concerns."""
    user_handler = USER_EVENTS.get(type(event))
    if user_handler is not None:
        user_handler(hub, event)
        return
    room_handler = ROOM_EVENTS.get(type(event))
    feed = hub.feeds.get(getattr(event, "room_id", None))
    if room_handler is not None and feed is not None:
        room_handler(hub, feed, event)


# --- events about a user ------------------------------------------------------


def _read_moved(hub, event: events.ReadMoved) -> None:
    hub.known.read_moved(event.user_id, hub.room_ids.get(event.room), event.seq)
    hub.spawn(_send_read(hub, event))


async def _send_read(hub, event: events.ReadMoved) -> None:
    text = protocol.read(event.room, event.seq)
    for socket in list(hub.user_sockets.get(event.user_id, ())):
        if socket.socket_id != event.socket_id:
            await socket.send_text(text)


def _access_changed(hub, event: events.AccessChanged) -> None:
    # At once, before anything else runs: the next join reads the database.
    hub.known.access_changed(event.user_id, event.room_id)
    hub.spawn(recheck_access(hub, event.user_id, event.room_id))


async def recheck_access(hub, user_id: int, room_id: int | None) -> None:
    """Re-read what a user may do on this process's sockets (a role
    changed, a membership went or came, the user was deactivated). A
    membership change of one room is also told to every socket of the
    user as a `rooms` frame, after any `left` it caused, so a room list
    shows a room the user was just given without a reload."""
    for socket in list(hub.user_sockets.get(user_id, ())):
        await socket.recheck_access(room_id)
        if room_id is not None:
            await socket.send_text(protocol.rooms_changed())


# --- events about a room ------------------------------------------------------


def _entries(hub, feed, event: events.Entries) -> None:
    for seq, text in event.items:
        feed.offer(seq, text)


def _typing(hub, feed, event: events.Typing) -> None:
    text = protocol.typing(feed.slug, event.user)
    hub.spawn(feed.send_all(text, skip_user=event.user))


def _room_changed(hub, feed, event: events.RoomChanged) -> None:
    # Joins read the database until the feed has read the room again.
    feed.state_asked += 1
    hub.spawn(repair.check_rooms(hub, [feed]))


USER_EVENTS: dict[type, Callable] = {
    events.ReadMoved: _read_moved,
    events.AccessChanged: _access_changed,
}
ROOM_EVENTS: dict[type, Callable] = {
    events.Entries: _entries,
    events.Presence: presence.heard,
    events.Typing: _typing,
    events.RoomChanged: _room_changed,
}
