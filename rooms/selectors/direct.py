"""Direct conversations as their people see them (docs/direct-messages.md):
the room of a set of people, each one named after the others, and the ones
a person hid."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, QuerySet

from ..models import Membership, NotificationSetting, Room
from .notifications import DIRECT_NOTIFICATION_DEFAULT


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


def direct_conversations(*, user: AbstractBaseUser) -> list[dict]:
    """The user's direct conversations as a room page watches them for new
    messages: slug, the other people's names, head, notification level.
    Not the ones they hid (hidden_rooms)."""
    rooms = Room.objects.filter(kind=Room.Kind.DIRECT, memberships__user=user)
    rooms = list(rooms.exclude(pk__in=hidden_rooms(user=user)))
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
