"""Who belongs to a room, in which role: an operator's writes
(`membership_set_role`, `membership_remove`: the admin, `createroom`), a
room manager's (`membership_invite_by`, `membership_set_role_by`,
`membership_remove_by`: the manage page, the API), which first check who
acts and keep a moderator in the room, and a member's own
(`membership_leave`) (docs/room-management.md).

Every write here but leaving passes `access.check_people_changeable`: a
direct conversation's people are fixed, whoever asks; one may only leave a
group conversation. Each write locks the room's row first and only then
checks who acts, so management writes of a room run one at a time and each
sees the roles the one before it left. Making someone read-only leaves a
RoomRestriction that outlives the membership; a writing role lifts it. The
member's open sockets learn what they may now do after commit.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from .. import access, broadcast, events, selectors, validators
from ..errors import RoomsError
from ..models import Membership, RecentStart, Room, RoomRestriction
from . import starts

LAST_MODERATOR = gettext_noop(
    "A room keeps at least one moderator: make someone else moderator first."
)


def membership_set_role(
    *, room: Room, user: AbstractBaseUser, role: str = Membership.Role.MEMBER
) -> Membership:
    """Make `user` a member of `room` with `role` (creating the membership or
    changing its role); their open sockets learn what they may now do.
    Read-only restricts them beyond the membership; a writing role lifts
    the restriction."""
    _check_role(role)
    access.check_people_changeable(room)
    with transaction.atomic():
        lock_room(room)
        if role == Membership.Role.READ_ONLY:
            RoomRestriction.objects.get_or_create(room=room, user=user)
        else:
            RoomRestriction.objects.filter(room=room, user=user).delete()
        membership, created = Membership.objects.select_for_update().get_or_create(
            user=user, room=room, defaults={"role": role}
        )
        if not created and membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
        elif not created:
            return membership
        broadcast.publish_on_commit(events.AccessChanged(user_id=user.pk, room_id=room.pk))
    return membership


def membership_remove(*, room: Room, user: AbstractBaseUser) -> bool:
    """End `user`'s membership of `room`; where that takes the room from them
    (a private room), their open sockets get `left` with reason `removed`.
    A read-only restriction stays."""
    access.check_people_changeable(room)
    with transaction.atomic():
        lock_room(room)
        return _end_membership(room_id=room.pk, user=user)


def membership_leave(*, room: Room | access.RoomAccess, user: AbstractBaseUser) -> None:
    """`user` leaves `room`, which their open sockets lose if it is private
    (as after a removal). `not_found` (field user) for someone not a member;
    `invalid` for a room's last moderator and for a direct conversation of
    two (hide it instead: services.direct_hide). A group conversation is
    left, its other people stay; a read-only restriction stays too."""
    with transaction.atomic():
        lock_room(room)
        membership = Membership.objects.filter(room_id=room.id, user=user).first()
        if membership is None:
            raise RoomsError(
                "not_found", gettext("You are not a member of this room."), field="user"
            )
        people = Membership.objects.filter(room_id=room.id)
        if room.is_direct and people.count() <= 2:
            raise RoomsError(
                "invalid",
                gettext("A conversation of two cannot be left: hide it from your list instead."),
            )
        if membership.role == Membership.Role.MODERATOR:
            _keep_a_moderator(
                room,
                field="user",
                message=gettext_noop(
                    "You are this room's last moderator: appoint another moderator first."
                ),
            )
        _end_membership(room_id=room.id, user=user)
        if room.is_direct:
            # The others' lists name the conversation after its people.
            for user_id in people.values_list("user_id", flat=True).order_by("user_id"):
                broadcast.publish_on_commit(events.AccessChanged(user_id=user_id, room_id=room.id))


def _end_membership(*, room_id: int, user: AbstractBaseUser) -> bool:
    deleted, _ = Membership.objects.filter(room_id=room_id, user=user).delete()
    if deleted:
        broadcast.publish_on_commit(events.AccessChanged(user_id=user.pk, room_id=room_id))
    return bool(deleted)


# --- By a room's manager, who is checked first ---------------------------------


def membership_invite_by(
    *,
    room: Room,
    by: AbstractBaseUser,
    username: str,
    role: str = Membership.Role.MEMBER,
) -> Membership:
    """Make the active user `username` a member of a room `by` manages.
    `invalid` (field user) for an unknown or inactive user and for someone
    already a member; `rate_limited` past ROOMS_CREATE_RATE. The room
    appears on the invitee's open room list."""
    with transaction.atomic():
        # User rows are locked before room rows, as the group commit does.
        starts.start_lock(user=by)
        lock_room(room)
        _check_manager(room=room, by=by)
        _check_role(role)
        user = _active_user(username)
        if Membership.objects.filter(room=room, user=user).exists():
            raise RoomsError(
                "invalid",
                gettext("%(name)s is already a member of this room.")
                % {"name": user.get_username()},
                field="user",
            )
        starts.start_record(user=by, kind=RecentStart.Kind.INVITE)
        return membership_set_role(room=room, user=user, role=role)


def membership_set_role_by(
    *, room: Room, by: AbstractBaseUser, username: str, role: str
) -> Membership:
    """Change a member's role in a room `by` manages; never the last
    moderator's to anything else. Their open sockets get a `room` frame."""
    with transaction.atomic():
        lock_room(room)
        _check_manager(room=room, by=by)
        _check_role(role)
        membership = _membership(room, username)
        if membership.role == Membership.Role.MODERATOR and role != Membership.Role.MODERATOR:
            _keep_a_moderator(room, field="role")
        return membership_set_role(room=room, user=membership.user, role=role)


def membership_remove_by(*, room: Room, by: AbstractBaseUser, username: str) -> None:
    """Remove a member from a room `by` manages (themselves included), never
    the last moderator. Where that takes the room from them (a private
    room), their open sockets get `left` with reason `removed` at once."""
    with transaction.atomic():
        lock_room(room)
        _check_manager(room=room, by=by)
        membership = _membership(room, username)
        if membership.role == Membership.Role.MODERATOR:
            _keep_a_moderator(room, field="user")
        membership_remove(room=room, user=membership.user)


def _check_manager(*, room: Room, by: AbstractBaseUser) -> None:
    """access.room_manager_access, again inside the write (after
    lock_room), so that no path reaches a management write without it."""
    access.room_manager_access(user=by, slug=room.slug)


def _check_role(role: str) -> None:
    if role not in Membership.Role.values:
        raise RoomsError("invalid", gettext("No role %(role)r.") % {"role": role}, field="role")


def _active_user(username: str) -> AbstractBaseUser:
    name = (username or "").strip().removeprefix("@")
    (user,) = selectors.users_named(usernames=[name], field="user")
    return user


def _membership(room: Room, username: str) -> Membership:
    User = get_user_model()
    membership = validators.is_storable(username) and (
        Membership.objects.select_related("user")
        .filter(room=room, **{f"user__{User.USERNAME_FIELD}": username})
        .first()
    )
    if not membership:
        raise RoomsError(
            "not_found",
            gettext("%(name)r is not a member of this room.") % {"name": username[:150]},
            field="user",
        )
    return membership


def lock_room(room: Room | access.RoomAccess) -> None:
    """Lock the room's row until the commit: one management write of a room
    at a time, so two invites of one user, or two moderators demoting each
    other, cannot both pass their checks; a check made after it sees what
    the write before it committed."""
    Room.objects.select_for_update().filter(pk=room.id).values_list("pk", flat=True).get()


def _keep_a_moderator(
    room: Room | access.RoomAccess, *, field: str, message: str = LAST_MODERATOR
) -> None:
    moderators = Membership.objects.filter(
        room_id=room.id, role=Membership.Role.MODERATOR, user__is_active=True
    )
    if moderators.count() <= 1:
        raise RoomsError("invalid", gettext(message), field=field)
