"""The live events that services publish and hubs receive: one class per
kind, one way to put it on the channel layer (`encode`) and one way to read
it back (`decode`).

An event is a doorbell, not the log: the database holds every entry, and a
hub that misses an event repairs from it. So events carry only what a hub
needs to act at once (the serialized entries of a commit, a typing user, a
room's new title), never anything it could not re-read.
"""

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

# channels-redis receives every process-local channel of one prefix with one
# blocking pop; local channels of another prefix would wait for that pop to
# time out. The hub and the health check share this prefix.
LOCAL_CHANNEL_PREFIX = "rooms-local"

# The channel-layer message type: Channels dispatches on it.
LAYER_TYPE = "rooms.event"


def room_group(room_id: int) -> str:
    return f"rooms.room.{room_id}"


def user_group(user_id: int) -> str:
    return f"rooms.user.{user_id}"


@dataclass(frozen=True)
class Entries:
    """Entries of one room committed together: (seq, entry JSON) ascending."""

    kind: ClassVar[str] = "entries"
    room_id: int
    items: tuple[tuple[int, str], ...]

    @property
    def group(self) -> str:
        return room_group(self.room_id)


@dataclass(frozen=True)
class Presence:
    """The users one process has online in a room; `ask` requests the
    other processes' lists in return (a process that just subscribed)."""

    kind: ClassVar[str] = "presence"
    room_id: int
    process: str
    users: tuple[str, ...]
    ask: bool = False

    @property
    def group(self) -> str:
        return room_group(self.room_id)


@dataclass(frozen=True)
class Typing:
    kind: ClassVar[str] = "typing"
    room_id: int
    user: str

    @property
    def group(self) -> str:
        return room_group(self.room_id)


@dataclass(frozen=True)
class RoomChanged:
    """A room's title, archived or private flag changed: hubs re-read the
    room and what each joined user may still do there."""

    kind: ClassVar[str] = "room"
    room_id: int

    @property
    def group(self) -> str:
        return room_group(self.room_id)


@dataclass(frozen=True)
class AccessChanged:
    """A user's role in a room changed or their membership went (`room_id`),
    or the user lost every right to be connected (`room_id` None: deactivated,
    logged out, a token revoked): hubs re-check that user's sockets."""

    kind: ClassVar[str] = "access"
    user_id: int
    room_id: int | None = None

    @property
    def group(self) -> str:
        return user_group(self.user_id)


@dataclass(frozen=True)
class ReadMoved:
    """A user's read cursor moved: their other sockets learn it."""

    kind: ClassVar[str] = "read"
    user_id: int
    room: str
    seq: int
    socket_id: str | None = None  # the socket that moved it, which needs no echo

    @property
    def group(self) -> str:
        return user_group(self.user_id)


Event = Entries | Presence | Typing | RoomChanged | AccessChanged | ReadMoved

_KINDS: dict[str, type] = {
    cls.kind: cls for cls in (Entries, Presence, Typing, RoomChanged, AccessChanged, ReadMoved)
}


def encode(event: Event, *, origin: str) -> dict:
    """The channel-layer message for `event`, tagged with the process that
    sent it (so its own hub can skip the echo)."""
    message = {"type": LAYER_TYPE, "kind": event.kind, "origin": origin}
    message.update(event.__dict__)
    return message


def decode(message: dict) -> Event | None:
    """The event a layer message carries; None for one this version does not
    know (a newer worker's, during a rolling upgrade)."""
    cls = _KINDS.get(message.get("kind"))
    if cls is None:
        return None
    fields = {f.name: message[f.name] for f in dataclasses.fields(cls) if f.name in message}
    if cls is Entries:
        fields["items"] = tuple((seq, text) for seq, text in fields["items"])
    elif cls is Presence:
        fields["users"] = tuple(fields["users"])
    try:
        return cls(**fields)
    except TypeError:
        return None


def origin_of(message: dict) -> str | None:
    return message.get("origin")
