"""Rooms as lists show them: the rooms a user may see with their unread and
mention counts (the room list, the API), the ones of them the room list
joins (at most ROOM_LIST_JOIN_LIMIT, the most recently active first), one
room's detail, and the operators' counts (the admin's changelist,
`roomstats`)."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from .. import access, protocol
from ..models import Membership, Mention, Message, ReadCursor, Room
from .compiled import PerUserQuery
from .direct import direct_people_by_room, hidden_rooms, newest_entry_time
from .members import online_users

# How many rooms the room list joins (docs/ui.md, How much a page joins): one
# socket holding a thousand would pass the frame budget and the server's cap
# on joined rooms.
ROOM_LIST_JOIN_LIMIT = 100


def room_summary(room: Room) -> dict:
    """What every listing of a room says of it (the room list, the API)."""
    return {
        "slug": room.slug,
        "title": room.display_title,
        "kind": room.kind,
        "private": room.is_private,
        "archived": room.is_archived,
        "head": room.last_seq,
    }


def rooms_for_user(*, user: AbstractBaseUser) -> list[dict]:
    """The rooms `user` may see (access.visible_rooms), with head, unread
    and mention counts and last activity; not the direct conversations they
    hid while nothing was posted since (hidden_rooms)."""
    if not user.is_authenticated:
        return []
    rows = _LISTING.rows(user)
    rooms = [Room(**{name: row[name] for name in _LISTED_FIELDS}) for row in rows]
    people = direct_people_by_room(
        user=user, room_ids=[room.id for room in rooms if room.is_direct]
    )
    listed = []
    for room, row in zip(rooms, rows, strict=True):
        listed.append(
            {
                **room_summary(room),
                "unread": row["unread"],
                "mentions": row["mentions"],
                "last_activity": (
                    protocol.timestamp(row["last_activity"]) if row["last_activity"] else None
                ),
            }
        )
        if room.is_direct:
            # A direct conversation is named after the other people, for each viewer.
            others = people.get(room.id, [])
            listed[-1].update(people=others, title=", ".join(others) or room.display_title)
    return listed


def _listing(user: AbstractBaseUser) -> QuerySet:
    """rooms_for_user's one query: the rooms with the fields room_summary
    reads and the counts. Built and compiled once per database
    (compiled.PerUserQuery); its SQL depends on nothing but the user's id."""
    cursor = ReadCursor.objects.filter(room=OuterRef("pk"), user=user).values("seq")[:1]
    rooms = access.visible_rooms(user).exclude(pk__in=hidden_rooms(user=user)).order_by("slug")
    rooms = rooms.annotate(
        last_activity=newest_entry_time(),
        read=Coalesce(Subquery(cursor), 0),
    )
    # Messages of others after the cursor; change entries never count.
    unread = (
        Message.objects.filter(
            room=OuterRef("pk"), seq__gt=OuterRef("read"), kind__in=Message.MESSAGE_KINDS
        )
        .exclude(author=user)
        .order_by()
        .values("room")
        .annotate(total=Count("*"))
        .values("total")
    )
    rooms = rooms.annotate(unread=Coalesce(Subquery(unread, output_field=IntegerField()), 0))
    rooms = rooms.annotate(mentions=_unread_mentions(user))
    return rooms.values(*_LISTED_FIELDS, "last_activity", "unread", "mentions")


# What room_summary reads of a Room (and is_direct).
_LISTED_FIELDS = ("id", "slug", "title", "kind", "is_private", "is_archived", "last_seq")
_LISTING = PerUserQuery(_listing)


def rooms_to_join(*, rooms: list[dict], limit: int = ROOM_LIST_JOIN_LIMIT) -> list[str]:
    """The slugs of the rooms of a listing (rooms_for_user) that the room
    list joins: at most `limit`, the most recently active first, rooms
    without messages last. The others stay listed, with the counts the
    server made, and are joined on demand (docs/ui.md)."""
    # `last_activity` is protocol.timestamp's fixed-width UTC: its text sorts as its time.
    active = sorted(
        (room for room in rooms if room["last_activity"]),
        key=lambda room: room["last_activity"],
        reverse=True,
    )
    idle = [room for room in rooms if not room["last_activity"]]
    return [room["slug"] for room in [*active, *idle][:limit]]


def room_detail(*, room: Room, user: AbstractBaseUser) -> dict:
    """One room as the API shows it, with the caller's role and whether they
    may manage it."""
    role = Membership.objects.filter(room=room, user=user).values_list("role", flat=True).first()
    return {
        **room_summary(room),
        "role": role,
        "can_manage": access.may_manage(user=user, role=role, kind=room.kind),
    }


def with_room_stats(rooms: QuerySet) -> QuerySet:
    """`rooms` annotated with message_count, member_count and last_activity,
    in the same query (the admin's changelist, `roomstats`)."""
    return rooms.annotate(
        message_count=_count_of(Message.objects.filter(kind__in=Message.MESSAGE_KINDS), "room"),
        member_count=_count_of(Membership.objects.all(), "room"),
        last_activity=newest_entry_time(),
    )


def room_stats(*, slug: str | None = None) -> list[Room]:
    """Rooms (or the one named) with their counts, last activity and `online`."""
    rooms = Room.objects.all() if slug is None else Room.objects.filter(slug=slug)
    rooms = list(with_room_stats(rooms).order_by("slug"))
    online = online_users(room_ids={room.id for room in rooms})
    for room in rooms:
        room.online = len(online.get(room.id, ()))
    return rooms


def _count_of(queryset: QuerySet, column: str) -> Coalesce:
    """A correlated COUNT(*) per room, so counting two relations never
    multiplies their rows together."""
    counted = queryset.filter(**{column: OuterRef("pk")}).order_by().values(column)
    total = counted.annotate(total=Count("*")).values("total")
    return Coalesce(Subquery(total, output_field=IntegerField()), 0)


def _unread_mentions(user: AbstractBaseUser) -> Coalesce:
    """Mentions of `user` in messages after the read cursor (the `read`
    annotation), by others, not deleted: the room list's mention badge."""
    mentions = (
        Mention.objects.filter(
            room=OuterRef("pk"), user=user, seq__gt=OuterRef("read"), message__deleted=False
        )
        .exclude(message__author=user)
        .order_by()
        .values("room")
        .annotate(total=Count("*"))
        .values("total")
    )
    return Coalesce(Subquery(mentions, output_field=IntegerField()), 0)
