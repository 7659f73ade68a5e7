"""Creating and changing rooms: an operator's writes (`room_create`,
`room_update`, `room_create_or_update`: the admin, `createroom`) and a
person's (`room_create_by`, `room_update_by`: the room list, the manage page,
the API), which first check who acts (docs/room-management.md).

Every way in checks a title the same way (`check_title`): at most 200
characters, no control characters, `invalid` on field `title`. A person's
new room counts against ROOMS_CREATE_RATE (services.starts).

A change reaches the sockets joined to the room after commit, as a `room`
frame.
"""

import unicodedata

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from .. import access, broadcast, events, validators
from ..errors import RoomsError
from ..models import Membership, RecentStart, Room
from . import memberships, starts


def room_create(
    *,
    slug: str,
    title: str = "",
    is_private: bool = False,
    is_archived: bool = False,
    moderator: AbstractBaseUser | None = None,
) -> Room:
    """Create a room; `invalid` (field slug) when the slug is malformed or
    taken, (field title) for a title check_title refuses. `moderator` (the
    user who made it) gets that role."""
    _check_slug(slug)
    title = check_title(title)
    if slug.lower().startswith(Room.DIRECT_SLUG_PREFIX):
        raise RoomsError(
            "invalid",
            gettext("Slugs starting with %(prefix)r are kept for direct conversations.")
            % {"prefix": Room.DIRECT_SLUG_PREFIX},
            field="slug",
        )
    try:
        with transaction.atomic():
            room = Room.objects.create(
                slug=slug, title=title, is_private=is_private, is_archived=is_archived
            )
            if moderator is not None:
                Membership.objects.create(user=moderator, room=room, role=Membership.Role.MODERATOR)
    except IntegrityError:
        raise RoomsError(
            "invalid", gettext("A room with this slug already exists."), field="slug"
        ) from None
    return room


def room_update(
    *,
    room: Room,
    title: str | None = None,
    is_private: bool | None = None,
    is_archived: bool | None = None,
) -> bool:
    """Set the given attributes (None: unchanged); sockets joined to the room
    learn of a change after commit. Returns whether anything changed."""
    if title is not None:
        title = check_title(title)
    changes = {
        name: value
        for name, value in (
            ("title", title),
            ("is_private", is_private),
            ("is_archived", is_archived),
        )
        if value is not None
    }
    with transaction.atomic():
        current = Room.objects.select_for_update().get(pk=room.pk)
        changed = [name for name, value in changes.items() if getattr(current, name) != value]
        for name in changed:
            setattr(current, name, changes[name])
            setattr(room, name, changes[name])
        if changed:
            current.save(update_fields=changed)
            broadcast.publish_on_commit(events.RoomChanged(room_id=current.id))
    return bool(changed)


def room_create_or_update(
    *,
    slug: str,
    title: str | None = None,
    is_private: bool | None = None,
    is_archived: bool | None = None,
    roles: dict[AbstractBaseUser, str] | None = None,
    remove: list[AbstractBaseUser] = (),
) -> tuple[Room, bool]:
    """Create the room, or update the given attributes of an existing one
    (idempotent: `createroom`); set the given users' roles and remove the
    given memberships (`invalid` for a direct conversation, whose people are
    fixed)."""
    with transaction.atomic():
        room = Room.objects.filter(slug=slug).first()
        created = room is None
        if created:
            room = room_create(
                slug=slug,
                title=title or "",
                is_private=bool(is_private),
                is_archived=bool(is_archived),
            )
        else:
            if roles or remove:
                access.check_people_changeable(room)
            room_update(room=room, title=title, is_private=is_private, is_archived=is_archived)
        for user, role in (roles or {}).items():
            memberships.membership_set_role(room=room, user=user, role=role)
        for user in remove:
            memberships.membership_remove(room=room, user=user)
    return room, created


# --- By a person, who is checked first ------------------------------------------


def room_create_by(
    *, by: AbstractBaseUser, slug: str, title: str = "", is_private: bool = False
) -> Room:
    """A room made by a person (the room list, the API): `forbidden` unless
    ROOMS_ROOM_CREATION lets them; `rate_limited` past ROOMS_CREATE_RATE;
    they become its moderator."""
    if not access.may_create_rooms(by):
        raise RoomsError("forbidden", gettext("Only staff may create rooms here."))
    title = check_title(title)
    with transaction.atomic():
        starts.start_record(user=by, kind=RecentStart.Kind.ROOM)
        return room_create(slug=slug, title=title, is_private=is_private, moderator=by)


def room_update_by(
    *,
    room: Room,
    by: AbstractBaseUser,
    title: str | None = None,
    is_private: bool | None = None,
    is_archived: bool | None = None,
) -> bool:
    """Rename, archive or unarchive, or make private or public a room `by`
    manages; open pages learn of it as a `room` frame (room_update)."""
    with transaction.atomic():
        # The room locked first, then who acts checked (again inside the
        # write, so that no path reaches it unchecked): a moderator demoted
        # meanwhile is seen demoted.
        memberships.lock_room(room)
        access.room_manager_access(user=by, slug=room.slug)
        return room_update(room=room, title=title, is_private=is_private, is_archived=is_archived)


def _check_slug(slug: str) -> None:
    if not validators.is_slug(slug):
        raise RoomsError(
            "invalid",
            gettext("A slug holds 1 to 64 letters, digits, hyphens or underscores."),
            field="slug",
        )


def check_title(title: str | None) -> str:
    """The title as stored (stripped; "" for none), or `invalid` (field
    title): at most 200 characters (the column's size), no control
    characters (a title is one line of text)."""
    if title is not None and not isinstance(title, str):
        raise RoomsError("invalid", gettext("A title is text."), field="title")
    title = (title or "").strip()
    limit = Room._meta.get_field("title").max_length
    if len(title) > limit:
        raise RoomsError(
            "invalid",
            gettext("A title holds at most %(count)d characters.") % {"count": limit},
            field="title",
        )
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in title):
        raise RoomsError(
            "invalid",
            gettext("A title holds no control characters (nor line breaks)."),
            field="title",
        )
    return title
