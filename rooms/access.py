"""Who may see, post in, moderate and manage a room: the one place that
decides it.

Every other layer asks here. The fetch-and-authorize calls (`room_access`,
`room_access_or_404`, `room_manager_access`) read a room and the user's
right to it in one go, in the shape of Zulip's `access_stream_common`: to
someone who may not see a room, a private room and a missing one look the
same (`not_found`). `visible_rooms` is the same rule as a queryset, for
every listing and search; the `may_*` predicates are the rule on values
already read (a group commit's roles, the users a message mentions, a hub's
snapshot).
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext, gettext_noop

from . import validators
from .errors import RoomsError
from .models import Membership, Message, ReadCursor, Room, RoomRestriction

DIRECT_IS_FIXED = gettext_noop("A direct conversation's people are fixed: it cannot be managed.")


# --- The rules, on values already read --------------------------------------


def may_see(*, is_private: bool, role: str | None) -> bool:
    """A public room is seen by everyone; a private one by its members only.
    Staff too: they manage private rooms (and their own membership) in the
    admin, not by seeing every conversation."""
    return not is_private or role is not None


def may_write(*, is_archived: bool, role: str | None, restricted: bool = False) -> bool:
    """Whether a user who sees the room may add to its log: not when it is
    archived or they are a read-only member, nor when they were made
    read-only and then removed or left (`restricted`: a RoomRestriction,
    which outlives the membership until a writing role is given again)."""
    # A writing role is only ever given together with lifting the
    # restriction, so a role decides for a member; the restriction speaks
    # for someone who has none (a view read before the removal stays right).
    if role is None and restricted:
        return False
    return not is_archived and role != Membership.Role.READ_ONLY


def is_operator(user: AbstractBaseUser) -> bool:
    """Active staff: an operator's tool (the admin) acts for them in any
    room, a member or not; they moderate every room they see."""
    return bool(user.is_staff and user.is_active)


def may_moderate(*, user: AbstractBaseUser, role: str | None) -> bool:
    """Delete others' messages and manage the room: its moderators, and
    active staff."""
    return role == Membership.Role.MODERATOR or is_operator(user)


def may_manage(*, user: AbstractBaseUser, role: str | None, kind: str) -> bool:
    """Manage the room (title, privacy, members): moderators and staff, never
    of a direct conversation, whose people are fixed."""
    return kind != Room.Kind.DIRECT and may_moderate(user=user, role=role)


def may_create_rooms(user: AbstractBaseUser) -> bool:
    """Any active user when ROOMS_ROOM_CREATION is `everyone` (the default);
    with `staff`, staff and users granted the `rooms.add_room` permission."""
    if not user.is_authenticated or not user.is_active:
        return False
    if settings.ROOMS_ROOM_CREATION == "everyone":
        return True
    return user.is_staff or user.has_perm("rooms.add_room")


def check_people_changeable(room: Room) -> None:
    """`invalid` for a direct conversation: every write that adds, removes or
    re-roles a member passes here, whoever asks (page, API, admin, command)."""
    if room.is_direct:
        raise RoomsError("invalid", gettext(DIRECT_IS_FIXED))


# --- The rule as a queryset ------------------------------------------------


def visible_q(user: AbstractBaseUser | None, *, prefix: str = "") -> Q:
    """The rooms `user` may see, as a filter on Room (or, with `prefix` such
    as "room__", on a model that points at a room)."""
    public = Q(**{f"{prefix}is_private": False})
    if user is None or not user.is_authenticated:
        return public
    mine = Membership.objects.filter(user=user).values("room_id")
    return public | Q(**{f"{prefix}pk__in": mine})


def visible_rooms(user: AbstractBaseUser | None) -> QuerySet[Room]:
    """Every room `user` may see, without duplicates."""
    return Room.objects.filter(visible_q(user))


# --- Fetch and authorize in one call ---------------------------------------


@dataclass(frozen=True, slots=True)
class RoomAccess:
    """A room as one user sees it."""

    id: int
    slug: str
    title: str
    head: int
    is_archived: bool
    role: str | None  # the user's membership role, None when not a member
    last_read_seq: int | None
    is_private: bool = False
    operator: bool = False  # an operator's tool (tailroom): sees every room
    oldest: int | None = None  # the lowest seq still stored, when it was read
    kind: str = Room.Kind.ROOM
    restricted: bool = False  # made read-only here once, and not given a writing role since

    @property
    def is_direct(self) -> bool:
        return self.kind == Room.Kind.DIRECT

    @property
    def read_only(self) -> bool:
        return not may_write(
            is_archived=self.is_archived, role=self.role, restricted=self.restricted
        )

    @property
    def visible(self) -> bool:
        """Whether its user may see the room (members only, when private)."""
        return self.operator or may_see(is_private=self.is_private, role=self.role)


def as_access(
    room: Room,
    role: str | None,
    *,
    last_read_seq: int | None = None,
    operator: bool = False,
    oldest: int | None = None,
    restricted: bool = False,
) -> RoomAccess:
    return RoomAccess(
        id=room.id,
        slug=room.slug,
        title=room.display_title,
        head=room.last_seq,
        is_archived=room.is_archived,
        role=role,
        last_read_seq=last_read_seq,
        is_private=room.is_private,
        operator=operator,
        oldest=oldest,
        kind=room.kind,
        restricted=restricted,
    )


def room_stream(*, room: Room) -> RoomAccess:
    """A room as an operator's tool reads it: no user, every message."""
    room.refresh_from_db(fields=["last_seq", "title", "is_archived", "is_private"])
    return as_access(room, None, operator=True)


def room_access(*, user: AbstractBaseUser, slug: str) -> RoomAccess | None:
    """The room `slug` if `user` may see it; None for no such room and for a
    private room the user is not a member of (its existence is not revealed)."""
    if not validators.is_slug(slug):
        return None
    # One query, as every join starts here (a reconnect storm is joins).
    mine = {"room": OuterRef("pk"), "user": user}
    room = (
        Room.objects.filter(slug=slug)
        .annotate(
            role=Subquery(Membership.objects.filter(**mine).values("role")[:1]),
            cursor=Subquery(ReadCursor.objects.filter(**mine).values("seq")[:1]),
            oldest=Subquery(
                Message.objects.filter(room=OuterRef("pk")).order_by("seq").values("seq")[:1]
            ),
            restricted=Exists(RoomRestriction.objects.filter(**mine)),
        )
        .first()
    )
    if room is None or not may_see(is_private=room.is_private, role=room.role):
        return None
    return as_access(
        room,
        room.role,
        last_read_seq=room.cursor,
        oldest=room.oldest,
        restricted=room.restricted,
    )


def not_found(slug: str) -> RoomsError:
    """The one wording of "no such room" (or none you may see)."""
    return RoomsError("not_found", gettext("No room %(slug)r.") % {"slug": slug[:64]})


def room_access_or_404(*, user: AbstractBaseUser, slug: str) -> RoomAccess:
    """room_access, raising `not_found`."""
    room = room_access(user=user, slug=slug)
    if room is None:
        raise not_found(slug)
    return room


def room_manager_access(*, user: AbstractBaseUser, slug: str) -> Room:
    """The room `slug` for a user who may manage it (a moderator of it, or
    staff); `not_found` when they cannot see it, `forbidden` when they can
    see it but may not manage it, `invalid` for a direct conversation. Every
    management path starts here."""
    access = room_access_or_404(user=user, slug=slug)
    if access.is_direct:
        raise RoomsError("invalid", gettext(DIRECT_IS_FIXED))
    if not may_manage(user=user, role=access.role, kind=access.kind):
        raise RoomsError("forbidden", gettext("Only the room's moderators may manage it."))
    return Room.objects.get(pk=access.id)
