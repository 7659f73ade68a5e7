"""Every write of the rooms app. Each function checks what it needs, changes
the database in one transaction, and publishes its live event only after the
commit (`transaction.on_commit`), so nobody hears of a change that could
still roll back.

The WebSocket consumer, the HTTP API, the admin and the management commands
call these functions; none of them writes a message any other way.
"""

import hashlib
import secrets
import threading
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from .. import access, broadcast, entries, events, metrics, protocol, selectors
from ..entries import EntryRequest, EntryResult
from ..errors import RoomsError
from ..models import (
    ApiToken,
    Membership,
    Message,
    PresenceSnapshot,
    PrunedClientId,
    ReadCursor,
    Room,
)

# Attempts of a group commit that lost a client_id race (each one is another
# transaction's commit landing between our check and our INSERT).
BATCH_ATTEMPTS = 3


def message_post(
    *,
    room: Room | access.RoomAccess,
    author: AbstractBaseUser | None,
    body: str,
    client_id: str | None = None,
    reply_to: int | None = None,
    check_rate: bool = True,
) -> EntryResult:
    """Store a message with the room's next seq; broadcast it after commit.

    A client_id already used by the same author in the same room (or by a
    system message, when `author` is None) stores nothing: the result holds
    the original seq and `duplicate=True` (G4). Raises RoomsError (invalid,
    not_found, forbidden, read_only, rate_limited).
    """
    return entry_post(
        room=room,
        author=author,
        body=body,
        client_id=client_id,
        reply_to=reply_to,
        check_rate=check_rate,
    )


def entry_post(**request) -> EntryResult:
    """Store one entry (EntryRequest's fields: a message, or an `edit`,
    `delete` or `reaction` of one); raises its RoomsError."""
    result = entry_post_many([EntryRequest(**request)])[0]
    if isinstance(result, RoomsError):
        raise result
    return result


def entry_post_many(requests: list[EntryRequest]) -> list[EntryResult | RoomsError]:
    """Store several entries in one transaction: group commit for the frames
    that arrive together (rooms/realtime/batching.py). Each request gets
    exactly what storing it alone would give it, its own error included: a
    refused request stores nothing and stops no other. The entries are
    published after the commit."""
    attempt = 1
    reconnected = False
    while True:
        results: list[EntryResult | RoomsError | None] = [None] * len(requests)
        started = time.perf_counter()
        try:
            with transaction.atomic():
                published = entries.store_batch(requests, results)
                if published:
                    transaction.on_commit(
                        lambda stored=published: broadcast.publish_entries(stored)
                    )
            metrics.entries_committed(requests, results, started)
            return results
        except IntegrityError:
            # A concurrent transaction stored one of these client_ids after
            # our duplicate check. It has committed (the constraint waited
            # for it), so the next attempt's check finds it: G4.
            if attempt == BATCH_ATTEMPTS:
                raise
            attempt += 1
        except (OperationalError, InterfaceError):
            # A dropped connection (the database restarted, a proxy cut it):
            # nothing was committed, so one retry on a new connection is
            # safe; a database still down fails the batch.
            # An entry without a client_id could have been committed just
            # before the connection dropped: only a batch whose every entry
            # G4 protects may run again.
            if (
                reconnected
                or connection.in_atomic_block
                or any(request.client_id is None for request in requests)
            ):
                raise
            reconnected = True
            connection.close()


def read_cursor_advance(
    *, user: AbstractBaseUser, room: access.RoomAccess, seq: int, socket_id: str | None = None
) -> int:
    """Move the user's read cursor forward to `seq` (never back, never past
    the head); tell the user's other sockets. Returns the cursor. A cursor
    grants nothing: it is not a membership."""
    seq = min(seq, selectors.room_head(room_id=room.id))
    with transaction.atomic():
        cursor, created = ReadCursor.objects.select_for_update().get_or_create(
            user=user, room_id=room.id, defaults={"seq": seq}
        )
        if not created:
            if cursor.seq >= seq:
                return cursor.seq
            ReadCursor.objects.filter(pk=cursor.pk).update(seq=seq)
        event = events.ReadMoved(user_id=user.pk, room=room.slug, seq=seq, socket_id=socket_id)
        transaction.on_commit(lambda: broadcast.publish(event))
    return seq


def typing_notify(*, user: AbstractBaseUser, room: access.RoomAccess) -> None:
    broadcast.publish(events.Typing(room_id=room.id, user=user.get_username()))


def _room_changed(room: Room) -> None:
    event = events.RoomChanged(room_id=room.id)
    transaction.on_commit(lambda: broadcast.publish(event))


def _access_changed(*, user_id: int, room_id: int) -> None:
    event = events.AccessChanged(user_id=user_id, room_id=room_id)
    transaction.on_commit(lambda: broadcast.publish(event))


def _check_slug(slug: str) -> None:
    if not protocol.is_slug(slug):
        raise RoomsError(
            "invalid", "A slug holds 1 to 64 letters, digits, hyphens or underscores.", field="slug"
        )


def room_create(
    *,
    slug: str,
    title: str = "",
    is_private: bool = False,
    is_archived: bool = False,
    moderator: AbstractBaseUser | None = None,
) -> Room:
    """Create a room; `invalid` (field slug) when the slug is malformed or
    taken. `moderator` (the user who made it) gets that role."""
    _check_slug(slug)
    if slug.lower().startswith(DIRECT_SLUG_PREFIX):
        raise RoomsError(
            "invalid",
            f"Slugs starting with {DIRECT_SLUG_PREFIX!r} are kept for direct conversations.",
            field="slug",
        )
    try:
        with transaction.atomic():
            room = Room.objects.create(
                slug=slug, title=title or "", is_private=is_private, is_archived=is_archived
            )
            if moderator is not None:
                Membership.objects.create(user=moderator, room=room, role=Membership.Role.MODERATOR)
    except IntegrityError:
        raise RoomsError("invalid", "A room with this slug already exists.", field="slug") from None
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
            _room_changed(current)
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
    given memberships."""
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
            room_update(room=room, title=title, is_private=is_private, is_archived=is_archived)
        for user, role in (roles or {}).items():
            membership_set_role(room=room, user=user, role=role)
        for user in remove:
            membership_remove(room=room, user=user)
    return room, created


def membership_set_role(
    *, room: Room, user: AbstractBaseUser, role: str = Membership.Role.MEMBER
) -> Membership:
    """Make `user` a member of `room` with `role` (creating the membership or
    changing its role); their open sockets learn what they may now do."""
    if role not in Membership.Role.values:
        raise RoomsError("invalid", f"No role {role!r}.", field="role")
    with transaction.atomic():
        membership, created = Membership.objects.select_for_update().get_or_create(
            user=user, room=room, defaults={"role": role}
        )
        if not created and membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
        elif not created:
            return membership
        _access_changed(user_id=user.pk, room_id=room.pk)
    return membership


def membership_remove(*, room: Room, user: AbstractBaseUser) -> bool:
    """End `user`'s membership of `room`; where that takes the room from them
    (a private room), their open sockets get `left` with reason `removed`."""
    with transaction.atomic():
        deleted, _ = Membership.objects.filter(room=room, user=user).delete()
        if deleted:
            _access_changed(user_id=user.pk, room_id=room.pk)
    return bool(deleted)


# --- Direct conversations (docs/direct-messages.md) ---------------------------

DIRECT_SLUG_PREFIX = "dm-"


def direct_open(*, user: AbstractBaseUser, others: list[AbstractBaseUser]) -> tuple[Room, bool]:
    """The direct conversation of `user` with `others` (2 to
    Room.DIRECT_MAX_PEOPLE people in all, every one active), created with a
    membership each if it does not exist yet. Returns (room, created).

    The same people always get the same room: its `direct_key` (their sorted
    ids) is unique, so when several start it at once one INSERT wins and the
    others fail on the constraint (on PostgreSQL they wait for the winner's
    commit first) and read the winner's room."""
    people = {person.pk: person for person in [user, *others]}
    if len(people) < 2 or len(people) > Room.DIRECT_MAX_PEOPLE:
        raise RoomsError(
            "invalid",
            f"A direct conversation holds 2 to {Room.DIRECT_MAX_PEOPLE} people, you included.",
            field="users",
        )
    inactive = sorted(person.get_username() for person in people.values() if not person.is_active)
    if inactive:
        raise RoomsError("invalid", f"No active user {inactive[0]!r}.", field="users")
    key = ".".join(str(pk) for pk in sorted(people))
    room = selectors.direct_room(key=key)
    if room is not None:
        return room, False
    try:
        with transaction.atomic():
            room = Room.objects.create(
                slug=DIRECT_SLUG_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:16],
                # Everyone's names; each person is shown the others' (selectors).
                title=", ".join(sorted(person.get_username() for person in people.values())),
                kind=Room.Kind.DIRECT,
                direct_key=key,
                is_private=True,
            )
            Membership.objects.bulk_create(
                Membership(user=person, room=room, role=Membership.Role.MEMBER)
                for person in people.values()
            )
            # Each person's open pages learn of the room (a room list adds it).
            for pk in people:
                _access_changed(user_id=pk, room_id=room.pk)
    except IntegrityError:
        room = selectors.direct_room(key=key)
        if room is None:  # not the key's constraint that failed
            raise
        return room, False
    return room, True


# --- Room management by people (docs/room-management.md) ------------------------
#
# What a room's moderators (and staff) do from the room's manage page or the
# API. Unlike the operator's writes above (admin, `createroom`), each one
# checks who acts, and keeps the room manageable.


def room_create_by(
    *, by: AbstractBaseUser, slug: str, title: str = "", is_private: bool = False
) -> Room:
    """A room made by a person (the room list, the API): `forbidden` unless
    ROOMS_ROOM_CREATION lets them; they become its moderator."""
    if not access.may_create_rooms(by):
        raise RoomsError("forbidden", "Only staff may create rooms here.")
    return room_create(slug=slug, title=_checked_title(title), is_private=is_private, moderator=by)


def room_edit(
    *,
    room: Room,
    by: AbstractBaseUser,
    title: str | None = None,
    is_private: bool | None = None,
    is_archived: bool | None = None,
) -> bool:
    """Rename, archive or unarchive, or make private or public a room `by`
    manages; open pages learn of it as a `room` frame (room_update)."""
    _check_manager(room=room, by=by)
    if title is not None:
        title = _checked_title(title)
    return room_update(room=room, title=title, is_private=is_private, is_archived=is_archived)


def membership_invite(
    *,
    room: Room,
    by: AbstractBaseUser,
    username: str,
    role: str = Membership.Role.MEMBER,
) -> Membership:
    """Make the active user `username` a member of a room `by` manages.
    `invalid` (field user) for an unknown or inactive user and for someone
    already a member. The room appears on the invitee's open room list."""
    _check_manager(room=room, by=by)
    _check_role(role)
    user = _active_user(username)
    with transaction.atomic():
        _lock(room)
        if Membership.objects.filter(room=room, user=user).exists():
            raise RoomsError(
                "invalid", f"{user.get_username()} is already a member of this room.", field="user"
            )
        return membership_set_role(room=room, user=user, role=role)


def membership_change_role(
    *, room: Room, by: AbstractBaseUser, username: str, role: str
) -> Membership:
    """Change a member's role in a room `by` manages; never the last
    moderator's to anything else. Their open sockets get a `room` frame."""
    _check_manager(room=room, by=by)
    _check_role(role)
    with transaction.atomic():
        _lock(room)
        membership = _membership(room, username)
        if membership.role == Membership.Role.MODERATOR and role != Membership.Role.MODERATOR:
            _keep_a_moderator(room, field="role")
        return membership_set_role(room=room, user=membership.user, role=role)


def membership_revoke(*, room: Room, by: AbstractBaseUser, username: str) -> None:
    """Remove a member from a room `by` manages (themselves included), never
    the last moderator. Where that takes the room from them (a private
    room), their open sockets get `left` with reason `removed` at once."""
    _check_manager(room=room, by=by)
    with transaction.atomic():
        _lock(room)
        membership = _membership(room, username)
        if membership.role == Membership.Role.MODERATOR:
            _keep_a_moderator(room, field="user")
        membership_remove(room=room, user=membership.user)


def _check_manager(*, room: Room, by: AbstractBaseUser) -> None:
    """access.room_manager_access, again inside the write, so that no
    path reaches a management write without it."""
    access.room_manager_access(user=by, slug=room.slug)


def _checked_title(title: str) -> str:
    title = (title or "").strip()
    limit = Room._meta.get_field("title").max_length
    if len(title) > limit:
        raise RoomsError("invalid", f"A title holds at most {limit} characters.", field="title")
    return title


def _check_role(role: str) -> None:
    if role not in Membership.Role.values:
        raise RoomsError("invalid", f"No role {role!r}.", field="role")


def _active_user(username: str) -> AbstractBaseUser:
    name = (username or "").strip().removeprefix("@")
    (user,) = selectors.users_named(usernames=[name], field="user")
    return user


def _membership(room: Room, username: str) -> Membership:
    User = get_user_model()
    membership = (
        Membership.objects.select_related("user")
        .filter(room=room, **{f"user__{User.USERNAME_FIELD}": username})
        .first()
    )
    if membership is None:
        raise RoomsError(
            "not_found", f"{username[:150]!r} is not a member of this room.", field="user"
        )
    return membership


def _lock(room: Room) -> None:
    # One management write of a room at a time: two invites of one user, or
    # two moderators demoting each other, cannot both pass their checks.
    Room.objects.select_for_update().filter(pk=room.pk).values_list("pk", flat=True).get()


def _keep_a_moderator(room: Room, *, field: str) -> None:
    moderators = Membership.objects.filter(
        room=room, role=Membership.Role.MODERATOR, user__is_active=True
    )
    if moderators.count() <= 1:
        raise RoomsError(
            "invalid",
            "A room keeps at least one moderator: make someone else moderator first.",
            field=field,
        )


PRUNE_BATCH = 5000  # rows a DELETE statement of retention names at once


def messages_prune(
    *, older_than: timedelta, room: Room | None = None, dry_run: bool = False
) -> int:
    """Retention: delete the entries created before now - `older_than`, and
    with a message every change of it, so the log never holds a change
    without its message or the reverse. Never the newest entry of a room (nor
    the message it changes), so seq continues after retention. Returns the
    number of entries deleted (or that would be)."""
    cutoff = timezone.now() - older_than
    rooms = Room.objects.filter(last_seq__gt=0)
    if room is not None:
        rooms = rooms.filter(pk=room.pk)  # its current head, not the caller's copy
    total = 0
    for each in rooms:
        with transaction.atomic():
            # The room's row lock keeps changes from targeting what we prune.
            head = (
                Room.objects.select_for_update().values_list("last_seq", flat=True).get(pk=each.pk)
            )
            log = Message.objects.filter(room=each)
            old = log.filter(created_at__lt=cutoff, seq__lt=head)
            newest = log.filter(seq=head).values_list("target", flat=True).first()
            if newest is not None:
                old = old.exclude(seq=newest).exclude(target=newest)
            pruned_messages = old.filter(kind__in=Message.MESSAGE_KINDS).values("seq")
            doomed = list(
                log.filter(Q(pk__in=old.values("pk")) | Q(target__in=pruned_messages)).values_list(
                    "pk", flat=True
                )
            )
            if dry_run:
                total += len(doomed)
                continue
            for start in range(0, len(doomed), PRUNE_BATCH):
                chunk = log.filter(pk__in=doomed[start : start + PRUNE_BATCH])
                _keep_client_ids(chunk)
                total += chunk.delete()[1].get(Message._meta.label, 0)
    return total


def _keep_client_ids(entries) -> None:
    """Remember the client_ids of entries about to be pruned (G4 outlives
    retention: a late resend is still a duplicate)."""
    keys = entries.filter(client_id__isnull=False).values_list(
        "room_id", "author_id", "kind", "client_id", "seq"
    )
    PrunedClientId.objects.bulk_create(
        [
            PrunedClientId(
                room_id=room_id,
                author_id=None if kind == Message.Kind.SYSTEM else author_id,
                client_id=client_id,
                seq=seq,
            )
            for room_id, author_id, kind, client_id, seq in keys
        ],
        ignore_conflicts=True,
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_issue(*, user: AbstractBaseUser) -> str:
    """A new API token for `user`. Only its hash is stored: the token is
    returned once, here."""
    token = "rooms_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, token_hash=token_hash(token), prefix=token[6:12])
    return token


def api_token_revoke_all(*, user: AbstractBaseUser) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def api_token_authenticate(*, token: str):
    """The active user owning `token`, or None. Marks the token used (at most
    once a minute, to keep logins from writing on every connect)."""
    if not token or len(token) > 200:
        return None
    found = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True)
        .first()
    )
    if found is None or not found.user.is_active:
        return None
    now = timezone.now()
    stale = found.last_used_at is None or now - found.last_used_at > TOKEN_TOUCH_EVERY
    if stale and _claim_touch(found.token_hash):
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
    return found.user


# When many sockets of one token connect at once (a reconnect storm), every
# one of them reads the same stale last_used_at: only the first of this
# process writes it, the others do not queue for the write lock.
TOKEN_TOUCH_EVERY = timedelta(minutes=1)
_touched: dict[str, float] = {}  # token hash -> when this process last wrote it
_touched_lock = threading.Lock()


def _claim_touch(key: str) -> bool:
    now = time.monotonic()
    with _touched_lock:
        if now - _touched.get(key, float("-inf")) < TOKEN_TOUCH_EVERY.total_seconds():
            return False
        if len(_touched) > 10_000:
            _touched.clear()
        _touched[key] = now
        return True


def api_tokens_revoke(*, token_ids) -> int:
    """Revoke the given API tokens (the admin's action); returns how many
    were still active. Their owners' other tokens keep working."""
    return ApiToken.objects.filter(pk__in=list(token_ids), revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def presence_snapshot_save(*, process_id: str, rooms: dict[int, list[str]]) -> None:
    """Record which users this worker process has online in which rooms
    (selectors.online_users); an empty one removes the process's row."""
    if not rooms:
        PresenceSnapshot.objects.filter(process_id=process_id).delete()
        return
    PresenceSnapshot.objects.update_or_create(
        process_id=process_id,
        defaults={"rooms": {str(k): v for k, v in rooms.items()}, "updated_at": timezone.now()},
    )


def notification_level_set(*, user: AbstractBaseUser, room: access.RoomAccess, level: str) -> str:
    """Choose which messages of `room` notify `user`: `all`, `mentions` (the
    default) or `none`. Stored per (user, room) apart from Membership, so a
    setting never grants access; the caller has checked that the user may
    see the room."""
    from ..models import NotificationSetting

    if level not in NotificationSetting.Level.values:
        choices = ", ".join(NotificationSetting.Level.values)
        raise RoomsError("invalid", f"`level` must be one of {choices}.", field="level")
    NotificationSetting.objects.update_or_create(
        user=user, room_id=room.id, defaults={"level": level}
    )
    return level
