"""Starting a direct conversation (docs/direct-messages.md): a private room
of 2 to Room.DIRECT_MAX_PEOPLE people, the same room for the same people;
and hiding one from one's lists until its next message.

Its people are fixed when it starts: this is the one write that gives a
direct conversation members; every other membership write refuses one
(access.check_people_changeable), except leaving a group
(services.membership_leave). Starting a new one counts against
ROOMS_CREATE_RATE (services.starts); reopening one does not. Each person's
open pages learn of the new room after commit, and the user's pages of a
conversation they hid.
"""

import hashlib

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from .. import access, broadcast, events, selectors
from ..errors import RoomsError
from ..models import Membership, RecentStart, Room
from . import memberships, starts


def direct_open(*, user: AbstractBaseUser, others: list[AbstractBaseUser]) -> tuple[Room, bool]:
    """The direct conversation of `user` with `others` (2 to
    Room.DIRECT_MAX_PEOPLE people in all, every one active), created with a
    membership each if it does not exist yet. Returns (room, created).

    The same people always get the same room: its `direct_key` (their sorted
    ids) is unique, so when several start it at once one INSERT wins and the
    others fail on the constraint (on PostgreSQL they wait for the winner's
    commit first) and read the winner's room. `invalid` for someone who left
    the conversation; `rate_limited` when a new one is past the user's
    ROOMS_CREATE_RATE."""
    people = {person.pk: person for person in [user, *others]}
    if len(people) < 2 or len(people) > Room.DIRECT_MAX_PEOPLE:
        raise RoomsError(
            "invalid",
            gettext("A direct conversation holds 2 to %(max)d people, you included.")
            % {"max": Room.DIRECT_MAX_PEOPLE},
            field="users",
        )
    inactive = sorted(person.get_username() for person in people.values() if not person.is_active)
    if inactive:
        raise RoomsError(
            "invalid", gettext("No active user %(name)r.") % {"name": inactive[0]}, field="users"
        )
    key = ".".join(str(pk) for pk in sorted(people))
    room = selectors.direct_room(key=key)
    if room is not None:
        return _reopened(room, user), False
    try:
        with transaction.atomic():
            starts.start_record(user=user, kind=RecentStart.Kind.DIRECT)
            room = Room.objects.create(
                slug=Room.DIRECT_SLUG_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:16],
                title=_stored_title(person.get_username() for person in people.values()),
                kind=Room.Kind.DIRECT,
                direct_key=key,
                is_private=True,
            )
            # Not membership_set_role: that refuses a direct conversation.
            Membership.objects.bulk_create(
                Membership(user=person, room=room, role=Membership.Role.MEMBER)
                for person in people.values()
            )
            # Each person's open pages learn of the room (a room list adds it).
            for pk in people:
                broadcast.publish_on_commit(events.AccessChanged(user_id=pk, room_id=room.pk))
    except IntegrityError:
        room = selectors.direct_room(key=key)
        if room is None:  # not the key's constraint that failed
            raise
        return _reopened(room, user), False
    return room, True


def direct_hide(*, room: Room | access.RoomAccess, user: AbstractBaseUser) -> None:
    """Hide a direct conversation from `user`'s lists (the room list, the
    conversations a page watches) until its next message: their membership
    keeps the head as it is now, and a message past it brings the room
    back (services.commit). `invalid` for a room that is not a direct
    conversation (leave it instead), `not_found` for someone not in it.
    The user's open pages re-read their lists after commit."""
    if not room.is_direct:
        raise RoomsError(
            "invalid", gettext("Only a direct conversation is hidden; leave a room instead.")
        )
    with transaction.atomic():
        # Locked, so no message lands between reading the head and storing it.
        memberships.lock_room(room)
        head = selectors.room_head(room_id=room.id)
        if not Membership.objects.filter(room_id=room.id, user=user).update(hidden_at_seq=head):
            raise RoomsError("not_found", gettext("You are not in this conversation."))
        broadcast.publish_on_commit(events.AccessChanged(user_id=user.pk, room_id=room.id))


def _reopened(room: Room, user: AbstractBaseUser) -> Room:
    """The existing conversation, for one of its people; `invalid` for
    someone who left it (its people are otherwise fixed)."""
    if not Membership.objects.filter(room=room, user=user).exists():
        raise RoomsError("invalid", gettext("You left this conversation."), field="users")
    return room


def _stored_title(names) -> str:
    """Everyone's names, sorted, cut to the column with "…": the frames'
    title (docs/direct-messages.md); the pages name a conversation after
    its current people, read from the memberships."""
    title = ", ".join(sorted(names))
    limit = Room._meta.get_field("title").max_length
    return title if len(title) <= limit else title[: limit - 1] + "…"
