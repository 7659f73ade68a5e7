"""People: a room's members and roles, users looked up by name (invitations,
direct conversations, the user picker, the composer's @ list), and who is
online where."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext

from .. import protocol, validators
from ..errors import RoomsError
from ..models import Membership, PresenceSnapshot, Room

# A worker's presence snapshot older than this is a dead worker's.
PRESENCE_TTL = timedelta(seconds=30)
USER_PICKER_LIMIT = 20


def room_members(*, room: Room) -> list[dict]:
    """The room's members with their roles, moderators first, then by name."""
    order = {Membership.Role.MODERATOR: 0, Membership.Role.MEMBER: 1, Membership.Role.READ_ONLY: 2}
    rows = Membership.objects.filter(room=room).values_list(
        "user__username", "role", "joined_at", "user__is_active"
    )
    members = [
        {
            "user": username,
            "role": role,
            "joined_at": protocol.timestamp(joined_at),
            "active": active,
        }
        for username, role, joined_at, active in rows
    ]
    return sorted(members, key=lambda member: (order.get(member["role"], 3), member["user"]))


def room_member_names(*, room_id: int, limit: int = 500) -> list[str]:
    """Usernames of the room's active members, sorted (the composer's @ list)."""
    members = Membership.objects.filter(room_id=room_id, user__is_active=True)
    return list(members.order_by("user__username").values_list("user__username", flat=True)[:limit])


def users_named(*, usernames: list[str], field: str = "users") -> list[AbstractBaseUser]:
    """The active users with these usernames; `invalid` (on `field`) naming
    the first that is unknown or inactive."""
    wanted = list(dict.fromkeys(usernames))
    if len(wanted) > Room.DIRECT_MAX_PEOPLE:
        raise RoomsError(
            "invalid",
            gettext("At most %(count)d people, you included.") % {"count": Room.DIRECT_MAX_PEOPLE},
            field=field,
        )
    asked = [name for name in wanted if validators.is_storable(name)]
    found = {
        user.get_username(): user
        for user in get_user_model().objects.filter(username__in=asked, is_active=True)
    }
    for name in wanted:
        if name not in found:
            raise RoomsError(
                "invalid", gettext("No user named %(name)r.") % {"name": name[:150]}, field=field
            )
    return [found[name] for name in wanted]


def usernames_starting(*, prefix: str, limit: int = USER_PICKER_LIMIT) -> list[str]:
    """Active users whose username starts with `prefix` (any case), sorted:
    the user picker's suggestions."""
    if not validators.is_storable(prefix):
        return []
    users = get_user_model().objects.filter(is_active=True, username__istartswith=prefix)
    return list(users.order_by("username").values_list("username", flat=True)[:limit])


def online_users(*, room_ids=None) -> dict[int, set[str]]:
    """{room id: usernames online}, from the live workers' presence snapshots."""
    online: dict[int, set[str]] = {}
    fresh = PresenceSnapshot.objects.filter(updated_at__gte=timezone.now() - PRESENCE_TTL)
    for rooms in fresh.values_list("rooms", flat=True):
        for room_id, users in rooms.items():
            if room_ids is None or int(room_id) in room_ids:
                online.setdefault(int(room_id), set()).update(users)
    return online
