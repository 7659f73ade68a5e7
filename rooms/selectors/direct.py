"""Direct conversations as their people see them (docs/direct-messages.md):
the room of a set of people, each one named after the others, the ones a
person hid, and the ones a room page watches (at most DIRECT_WATCH_LIMIT,
the most recently active first)."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from ..models import Membership, Message, NotificationSetting, Room
from .notifications import DIRECT_NOTIFICATION_DEFAULT

# How many of the user's other conversations a room page joins (docs/ui.md,
# How much a page joins): one socket holding a thousand of them would pass
# the frame budget and the server's cap on joined rooms.
DIRECT_WATCH_LIMIT = 50


def newest_entry_time() -> Subquery:
    """When a room's newest entry was stored, as a subquery on Room (NULL
    without entries): the lists' last activity."""
    # The newest entry is never pruned, and (room, seq) is indexed: one
    # index lookup per room instead of scanning its messages.
    newest = Message.objects.filter(room=OuterRef("pk"), seq=OuterRef("last_seq"))
    return Subquery(newest.values("created_at")[:1])


def direct_room(*, key: str) -> Room | None:
    """The direct conversation of the people whose sorted ids are `key`."""
    return Room.objects.filter(direct_key=key).first()


def hidden_rooms(*, user: AbstractBaseUser) -> QuerySet:
    """The ids of the direct conversations `user` hid (services.direct_hide)
    with nothing posted since, as a subquery: the lists leave them out."""
    hidden = Membership.objects.filter(user=user, hidden_at_seq__gte=F("room__last_seq"))
    return hidden.values("room_id")


def direct_people_by_room(*, user: AbstractBaseUser, room_ids: list[int]) -> dict[int, list[str]]:
    """{room id: the usernames of its people other than `user`, sorted}."""
    if not room_ids:
        return {}
    rows = (
        Membership.objects.filter(room_id__in=room_ids)
        .exclude(user=user)
        .order_by("user__username")
        .values_list("room_id", "user__username")
    )
    people: dict[int, list[str]] = {}
    for room_id, username in rows:
        people.setdefault(room_id, []).append(username)
    return people


def direct_people(*, user: AbstractBaseUser, room_id: int) -> list[str]:
    """The people of a direct conversation other than `user` (its name for them)."""
    return direct_people_by_room(user=user, room_ids=[room_id]).get(room_id, [])


def direct_conversations(
    *, user: AbstractBaseUser, limit: int | None = None, excluding: int | None = None
) -> list[dict]:
    """The user's direct conversations as a room page watches them for new
    messages: slug, the other people's names, head, notification level.
    The most recently active first (its newest entry, or its start for one
    without any: a conversation just started comes first), at most `limit`
    of them, without the room `excluding` (the page's own). Not the ones
    they hid (hidden_rooms)."""
    rooms = Room.objects.filter(kind=Room.Kind.DIRECT, memberships__user=user)
    rooms = rooms.exclude(pk__in=hidden_rooms(user=user))
    if excluding is not None:
        rooms = rooms.exclude(pk=excluding)
    rooms = rooms.annotate(active=Coalesce(newest_entry_time(), F("created_at")))
    rooms = rooms.order_by("-active", "-pk")
    rooms = list(rooms if limit is None else rooms[:limit])
    people = direct_people_by_room(user=user, room_ids=[room.id for room in rooms])
    chosen = NotificationSetting.objects.filter(user=user, room__in=rooms)
    levels = dict(chosen.values_list("room_id", "level"))
    return [
        {
            "slug": room.slug,
            "title": ", ".join(people.get(room.id, [])) or room.display_title,
            "head": room.last_seq,
            "level": levels.get(room.id, DIRECT_NOTIFICATION_DEFAULT),
        }
        for room in rooms
    ]
