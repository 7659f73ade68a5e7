"""What the realtime runtime (rooms/realtime/: the hubs and their feeds)
re-reads to repair what events may have missed: rooms' heads and what their
`room` frames say, and whether the users (with their rights), tokens,
sessions and roles behind open sockets still hold."""

from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from ..models import ApiToken, Membership, Message, ReadCursor, Room, RoomRestriction
from .log import entries_after


@dataclass(frozen=True)
class RoomState:
    """What the hub watches of a room: its head, and what a `room` frame says."""

    head: int
    title: str
    is_archived: bool
    is_private: bool
    kind: str = Room.Kind.ROOM
    oldest: int | None = None  # the lowest seq still stored (retention)

    def same_view(self, other: "RoomState") -> bool:
        """Whether nothing a socket shows of the room differs (the head aside)."""
        return (self.title, self.is_archived, self.is_private) == (
            other.title,
            other.is_archived,
            other.is_private,
        )


def room_states(*, room_ids) -> dict[int, RoomState]:
    """{room id: RoomState} in one query (the hub's repair loop)."""
    oldest = Message.objects.filter(room=OuterRef("pk")).order_by("seq").values("seq")[:1]
    columns = ("id", "last_seq", "title", "slug", "is_archived", "is_private", "kind", "oldest")
    rows = (
        Room.objects.filter(id__in=list(room_ids))
        .annotate(oldest=Subquery(oldest))
        .values_list(*columns)
    )
    return {
        room_id: RoomState(
            head=head,
            title=title or slug,
            is_archived=archived,
            is_private=private,
            kind=kind,
            oldest=first,
        )
        for room_id, head, title, slug, archived, private, kind, first in rows
    }


def feed_start(
    *, room_id: int, slug: str, newest: int
) -> tuple[RoomState | None, list[tuple[int, str]]]:
    """A feed's start: its room's state and up to `newest` of its newest
    entries (seq, JSON) up to that state's head, for its resume window."""
    state = room_states(room_ids=[room_id]).get(room_id)
    if state is None or not newest or not state.head:
        return state, []
    after = max(0, state.head - newest)
    rows = entries_after(room_id=room_id, slug=slug, after=after, limit=newest, up_to=state.head)
    return state, rows


@dataclass(frozen=True)
class UserRights:
    """What a socket's user object says about its rights, as it is now."""

    is_staff: bool
    is_superuser: bool


@dataclass(frozen=True)
class AccessSnapshot:
    """What the open sockets of one process still hold, read in a few
    queries each repair interval (the hub's access check)."""

    active_users: dict[int, UserRights]  # the users still active, and their rights
    live_tokens: set[str]  # token hashes not revoked
    live_sessions: dict[str, int]  # session key -> the user it still logs in
    roles: dict[tuple[int, int], str]  # (room id, user id) -> role
    cursors: dict[tuple[int, int], int] | None = None  # (room id, user id) -> read seq
    restricted: frozenset[tuple[int, int]] = frozenset()  # (room id, user id) made read-only


def access_snapshot(
    *,
    user_ids: set[int],
    token_hashes: set[str],
    session_keys: set[str],
    pairs: set[tuple],
    cursor_pairs: bool = False,
) -> AccessSnapshot:
    """What the process's sockets still hold; with `cursor_pairs`, also the
    read cursors and read-only restrictions of `pairs` (the joins a hub
    answers from memory, rooms/realtime/known.py)."""
    User = get_user_model()
    users = {
        user.pk: user
        for user in User.objects.filter(pk__in=user_ids, is_active=True).only(
            "pk", "password", "is_staff", "is_superuser"
        )
    }
    tokens = set(
        ApiToken.objects.filter(token_hash__in=token_hashes, revoked_at__isnull=True)
        .filter(user_id__in=users)
        .values_list("token_hash", flat=True)
    )
    roles, cursors, restricted = {}, {}, frozenset()
    if pairs:
        among = {
            "room_id__in": {room_id for room_id, _ in pairs},
            "user_id__in": {user_id for _, user_id in pairs},
        }
        rows = Membership.objects.filter(**among).values_list("room_id", "user_id", "role")
        roles = {(room_id, user_id): role for room_id, user_id, role in rows}
        if cursor_pairs:
            rows = ReadCursor.objects.filter(**among).values_list("room_id", "user_id", "seq")
            cursors = {(room_id, user_id): seq for room_id, user_id, seq in rows}
            restricted = frozenset(
                RoomRestriction.objects.filter(**among).values_list("room_id", "user_id")
            )
    rights = {pk: UserRights(user.is_staff, user.is_superuser) for pk, user in users.items()}
    sessions = _live_sessions(session_keys, users)
    return AccessSnapshot(rights, tokens, sessions, roles, cursors, restricted)


def _live_sessions(keys: set[str], users: dict) -> dict[str, int]:
    """{key: user id} of the sessions that still log an active user in, by
    the rules of Django's own `get_user` (django/contrib/auth/__init__.py):
    the session exists (no logout, not expired), names an allowed backend,
    and carries the hash of the user's current password, so a password
    change ends every session but the one it was made from (which
    update_session_auth_hash gave the new hash)."""
    live = {}
    for key, data in _session_data(keys).items():
        try:
            user_id = get_user_model()._meta.pk.to_python(data[SESSION_KEY])
        except (KeyError, ValidationError):
            continue
        user = users.get(user_id)
        if (
            user is not None
            and data.get(BACKEND_SESSION_KEY) in settings.AUTHENTICATION_BACKENDS
            and _hash_verified(user, data.get(HASH_SESSION_KEY))
        ):
            live[key] = user_id
    return live


def _hash_verified(user, session_hash: str | None) -> bool:
    """The session's hash is the password's, under SECRET_KEY or one of
    SECRET_KEY_FALLBACKS (the next request of that session re-signs it)."""
    if not session_hash:
        return False
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return any(constant_time_compare(session_hash, valid) for valid in hashes)


def _session_data(keys: set[str]) -> dict[str, dict]:
    """{key: the session's data} for the sessions that still exist."""
    if not keys:
        return {}
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        from django.contrib.sessions.models import Session

        live = Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
        return {
            key: store().decode(data)
            for key, data in live.values_list("session_key", "session_data")
        }
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.signed_cookies":
        # The cookie is the session: a logout cannot be seen, a password
        # change can (the hash is in it).
        return {key: store(session_key=key).load() for key in keys}
    return {key: store(session_key=key).load() for key in keys if store().exists(key)}
