"""Which messages of a room notify a user (services.notification_level_set
chooses it): mentions only by default, every message in a direct
conversation."""

from django.contrib.auth.models import AbstractBaseUser

from ..models import NotificationSetting, Room

# A direct conversation notifies of every message unless its person chose otherwise.
DIRECT_NOTIFICATION_DEFAULT = NotificationSetting.Level.ALL


def notification_level(*, user: AbstractBaseUser, room_id: int) -> str:
    """Which messages of the room `user` is notified of: all, mentions, none
    (by default mentions only in a room, all in a direct conversation)."""
    level = NotificationSetting.objects.filter(user=user, room_id=room_id).values_list(
        "level", flat=True
    )
    chosen = level.first()
    if chosen:
        return chosen
    if Room.objects.filter(id=room_id, kind=Room.Kind.DIRECT).exists():
        return DIRECT_NOTIFICATION_DEFAULT
    return NotificationSetting.DEFAULT


def notification_levels(*, user: AbstractBaseUser) -> dict[str, str]:
    """{room slug: level} of the rooms whose level for `user` is not the
    pages' default, mentions only: chosen ones, and the direct conversations
    left at theirs."""
    chosen = dict(NotificationSetting.objects.filter(user=user).values_list("room__slug", "level"))
    direct = Room.objects.filter(kind=Room.Kind.DIRECT, memberships__user=user)
    for slug in direct.values_list("slug", flat=True):
        chosen.setdefault(slug, DIRECT_NOTIFICATION_DEFAULT)
    return {slug: level for slug, level in chosen.items() if level != NotificationSetting.DEFAULT}
