"""Every write of the rooms app. Each function checks what it needs, changes
the database in one transaction, and publishes its live event only after the
commit (`transaction.on_commit`), so nobody hears of a change that could
still roll back.

The WebSocket consumer, the HTTP API, the admin and the management commands
call these functions; none of them writes a message any other way.
"""

import hashlib
import itertools
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Min
from django.utils import timezone

from . import broadcast, events, protocol, selectors
from .errors import RoomsError
from .models import ApiToken, Membership, Message, PresenceSnapshot, Room


@dataclass(frozen=True)
class PostResult:
    seq: int
    client_id: str | None
    duplicate: bool
    message: str | None = None  # the message object as JSON; None for a duplicate


# Attempts of a group commit that lost a client_id race (each one is another
# transaction's commit landing between our check and our INSERT).
BATCH_ATTEMPTS = 3


@dataclass(frozen=True)
class PostRequest:
    """One message to store: what `message_post` takes."""

    room: Room | selectors.RoomAccess
    author: AbstractBaseUser | None
    body: str
    client_id: str | None = None
    check_rate: bool = True


def message_post(
    *,
    room: Room | selectors.RoomAccess,
    author: AbstractBaseUser | None,
    body: str,
    client_id: str | None = None,
    check_rate: bool = True,
) -> PostResult:
    """Store a message with the room's next seq; broadcast it after commit.

    A client_id already used by the same author in the same room (or by a
    system message, when `author` is None) stores nothing: the result holds
    the original seq and `duplicate=True` (G4). Raises RoomsError (invalid,
    not_found, read_only, rate_limited).
    """
    request = PostRequest(room, author, body, client_id, check_rate)
    result = message_post_many([request])[0]
    if isinstance(result, RoomsError):
        raise result
    return result


def message_post_many(requests: list[PostRequest]) -> list[PostResult | RoomsError]:
    """Store several messages in one transaction: group commit for the sends
    that arrive together (rooms/realtime/batching.py). Each request gets exactly what
    `message_post` would give it, its own error included: a refused request
    stores nothing and stops no other. Broadcasts go out after the commit."""
    attempt = 1
    while True:
        results: list[PostResult | RoomsError | None] = [None] * len(requests)
        try:
            with transaction.atomic():
                events = _store_batch(requests, results)
                if events:
                    transaction.on_commit(lambda stored=events: broadcast.publish_entries(stored))
            return results
        except IntegrityError:
            # A concurrent transaction stored one of these client_ids after
            # our duplicate check. It has committed (the constraint waited
            # for it), so the next attempt's check finds it: G4.
            if attempt == BATCH_ATTEMPTS:
                raise
            attempt += 1


def _store_batch(requests: list[PostRequest], results: list) -> list[tuple[int, int, str]]:
    """A group commit, inside the caller's transaction: a few statements per
    batch (duplicates, permissions, then per room one counter bump and one
    multi-row INSERT), so a room's row lock is held briefly however many sends
    share the batch. Fills `results`; returns the events to publish. Raises
    IntegrityError when a concurrent transaction stored one of the client_ids
    first."""
    prepared = []
    for index, request in enumerate(requests):
        try:
            body = protocol.check_body(request.body, max_body=settings.ROOMS_MAX_BODY)
            client_id = protocol.check_client_id(request.client_id)
        except RoomsError as error:
            results[index] = error
            continue
        author_id = request.author.pk if request.author is not None else None
        prepared.append((index, request, body, client_id, (request.room.id, author_id, client_id)))
    # A client_id already stored, or used earlier in this very batch: G4.
    stored = selectors.seqs_by_client_id(keys=[key for *_, key in prepared if key[2]])
    first_of: dict[tuple, int] = {}
    repeats: list[tuple[int, int]] = []
    fresh = []
    for index, request, body, client_id, key in prepared:
        if client_id and key in stored:
            results[index] = PostResult(seq=stored[key], client_id=client_id, duplicate=True)
        elif client_id and key in first_of:
            repeats.append((index, first_of[key]))
        else:
            if client_id:
                first_of[key] = index
            fresh.append((index, request, body, client_id))
    events = []
    # Rooms in id order: two processes' batches lock room rows in the same
    # order, so they queue rather than deadlock.
    fresh.sort(key=lambda item: item[1].room.id)
    for _, group in itertools.groupby(fresh, key=lambda item: item[1].room.id):
        events += _store_room(list(group), results)
    for index, first in repeats:
        original = results[first]
        if isinstance(original, PostResult):
            original = PostResult(seq=original.seq, client_id=original.client_id, duplicate=True)
        results[index] = original
    return events


def _store_room(group: list[tuple], results: list) -> list[tuple[int, int, str]]:
    """Store the requests of one room that are allowed: refusals first, in the
    protocol's precedence (not_found, forbidden, read_only, rate_limited)."""
    room = group[0][1].room
    authors = {request.author.pk: request.author for _, request, *_ in group if request.author}
    access = selectors.post_access(room_id=room.id, author_ids=list(authors))
    budgets: dict[int, list] = {}
    allowed = []
    for index, request, body, client_id in group:
        refusal = access.refusal(request.author)
        if refusal is None and request.author is not None and request.check_rate:
            refusal = _spend_rate(budgets, request.author)
        if refusal is not None:
            results[index] = refusal
        else:
            allowed.append((index, request, body, client_id))
    if not allowed:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Room._meta.db_table} SET last_seq = last_seq + %s "
            "WHERE id = %s AND NOT is_archived RETURNING last_seq",
            [len(allowed), room.id],
        )
        row = cursor.fetchone()
    if row is None:  # archived since post_access read it
        for index, *_ in allowed:
            results[index] = RoomsError("read_only", "This room is archived.")
        return []
    first_seq = row[0] - len(allowed) + 1
    messages = Message.objects.bulk_create(
        [
            Message(
                room_id=room.id,
                seq=first_seq + offset,
                author_id=request.author.pk if request.author is not None else None,
                body=body,
                client_id=client_id,
                kind=Message.Kind.TEXT if request.author is not None else Message.Kind.SYSTEM,
            )
            for offset, (_, request, body, client_id) in enumerate(allowed)
        ]
    )
    events = []
    for (index, request, _, client_id), message in zip(allowed, messages, strict=True):
        text = protocol.message_json(
            seq=message.seq,
            room=room.slug,
            author=request.author.get_username() if request.author is not None else None,
            body=message.body,
            created_at=message.created_at,
            client_id=client_id,
            kind=message.kind,
        )
        results[index] = PostResult(
            seq=message.seq, client_id=client_id, duplicate=False, message=text
        )
        events.append((room.id, message.seq, text))
    return events


def _spend_rate(budgets: dict[int, list], author: AbstractBaseUser) -> RoomsError | None:
    """Take one send from the author's rate budget, or return rate_limited.
    At most N stored sends per window per user, counted in the database so
    every worker process agrees; the count is read once per batch."""
    limit = settings.ROOMS_RATE_LIMIT
    if limit is None:
        return None
    count, window = limit
    if author.pk not in budgets:
        since = timezone.now() - timedelta(seconds=window)
        stats = Message.objects.filter(author=author, created_at__gt=since).aggregate(
            oldest=Min("created_at"), sent=Count("id")
        )
        oldest = stats["oldest"] or timezone.now()
        retry = (oldest + timedelta(seconds=window) - timezone.now()).total_seconds()
        budgets[author.pk] = [count - stats["sent"], round(max(retry, 0.001), 3)]
    budget = budgets[author.pk]
    if budget[0] <= 0:
        return RoomsError(
            "rate_limited",
            f"At most {count} messages per {window:g} seconds.",
            retry_after=budget[1],
        )
    budget[0] -= 1
    return None


def read_cursor_advance(
    *, user: AbstractBaseUser, room: selectors.RoomAccess, seq: int, socket_id: str | None = None
) -> int:
    """Move the user's read cursor forward to `seq` (never back, never past
    the head); tell the user's other sockets. Returns the cursor."""
    seq = min(seq, selectors.room_head(room_id=room.id))
    with transaction.atomic():
        membership, _ = Membership.objects.get_or_create(user=user, room_id=room.id)
        if membership.last_read_seq is not None and membership.last_read_seq >= seq:
            return membership.last_read_seq
        Membership.objects.filter(pk=membership.pk).update(last_read_seq=seq)
        event = events.ReadMoved(user_id=user.pk, room=room.slug, seq=seq, socket_id=socket_id)
        transaction.on_commit(lambda: broadcast.publish(event))
    return seq


def typing_notify(*, user: AbstractBaseUser, room: selectors.RoomAccess) -> None:
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
    _check_slug(slug)
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


def message_redact(*, message: Message) -> Message:
    """Blank a message's body, keeping its seq; sockets get a `redact` frame."""
    with transaction.atomic():
        if Message.objects.filter(pk=message.pk, redacted=False).update(redacted=True, body=""):
            message.redacted, message.body = True, ""
            slug = Room.objects.filter(pk=message.room_id).values_list("slug", flat=True).get()
            event = events.Redacted(room_id=message.room_id, seq=message.seq, room=slug)
            transaction.on_commit(lambda: broadcast.publish(event))
    return message


def messages_prune(
    *, older_than: timedelta, room: Room | None = None, dry_run: bool = False
) -> int:
    """Delete messages created before now - `older_than`, never the newest
    message of a room, so seq continues after retention."""
    cutoff = timezone.now() - older_than
    rooms = Room.objects.filter(last_seq__gt=0)
    if room is not None:
        rooms = rooms.filter(pk=room.pk)  # its current head, not the caller's copy
    total = 0
    for each in rooms:
        doomed = Message.objects.filter(room=each, created_at__lt=cutoff, seq__lt=each.last_seq)
        total += doomed.count() if dry_run else doomed.delete()[0]
    return total


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_issue(*, user: AbstractBaseUser) -> str:
    """A new API token for `user`. Only its hash is stored: the token is
    returned once, here."""
    token = "rooms_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, token_hash=_hash_token(token), prefix=token[6:12])
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
        .filter(token_hash=_hash_token(token), revoked_at__isnull=True)
        .first()
    )
    if found is None or not found.user.is_active:
        return None
    now = timezone.now()
    if found.last_used_at is None or now - found.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
    return found.user


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
