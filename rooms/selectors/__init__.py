"""Every read of the rooms app: rooms a user may see, heads, and keyset pages
of messages by seq.

Message reads select only the columns a message object needs and return it
already serialized (protocol.message_json), so the consumer, the HTTP API and
the commands share one rendering.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import Count, IntegerField, Min, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from .. import access, protocol, search
from ..access import (  # noqa: F401  (re-exported until the adapters import access)
    DIRECT_IS_FIXED,
    RoomAccess,
    room_access,
    room_access_or_404,
    room_manager_access,
    room_stream,
    visible_q,
)
from ..errors import RoomsError
from ..models import (
    ApiToken,
    Membership,
    Mention,
    Message,
    NotificationSetting,
    PresenceSnapshot,
    PrunedClientId,
    Reaction,
    ReadCursor,
    Room,
)
from ..search import SearchHit, SearchResults  # noqa: F401  (the selector's types)

# A worker's presence snapshot older than this is a dead worker's.
PRESENCE_TTL = timedelta(seconds=30)

ENTRY_COLUMNS = (
    "pk",
    "seq",
    "kind",
    "author__username",
    "body",
    "created_at",
    "client_id",
    "deleted",
    "edited_at",
    "reply_to",
    "target",
    "emoji",
    "reaction_on",
)


def join_start(
    *, user: AbstractBaseUser, slug: str, since: int | None, limit: int | None
) -> tuple[RoomAccess, int, bool]:
    """Authorize a join and work out where its stream starts: the room, the
    effective since S, and whether S was moved up past messages the client
    asked for (`truncated`). PROTOCOL.md, Join and backfill semantics."""
    room = room_access_or_404(user=user, slug=slug)
    head = room.head
    truncated = False
    if since is not None:
        start = min(since, head)
    elif room.last_read_seq is not None:
        start = min(room.last_read_seq, head)
    else:
        start = max(0, head - 50)
    if limit is not None and head - limit > start:
        start, truncated = head - limit, True
    if start < head:
        # Retention may have pruned what the client asked for.
        oldest = room.oldest
        if oldest is not None and oldest - 1 > start:
            start, truncated = oldest - 1, True
    return room, start, truncated


def _room_summary(room: Room) -> dict:
    """What every listing of a room says of it (the room list, the API)."""
    return {
        "slug": room.slug,
        "title": room.display_title,
        "kind": room.kind,
        "private": room.is_private,
        "archived": room.is_archived,
        "head": room.last_seq,
    }


def rooms_for_user(*, user) -> list[dict]:
    """The rooms `user` may see, with head, unread and mention counts and
    last activity."""
    if isinstance(user, AnonymousUser):
        return []
    cursor = ReadCursor.objects.filter(room=OuterRef("pk"), user=user).values("seq")[:1]
    rooms = Room.objects.filter(visible_q(user)).distinct().order_by("slug")
    rooms = rooms.annotate(
        last_activity=_newest_message_time(),
        read=Coalesce(Subquery(cursor), 0),
    )
    # Messages of others after the cursor; change entries never count.
    unread = (
        Message.objects.filter(
            room=OuterRef("pk"), seq__gt=OuterRef("read"), kind__in=Message.MESSAGE_KINDS
        )
        .exclude(author=user)
        .order_by()
        .values("room")
        .annotate(total=Count("*"))
        .values("total")
    )
    rooms = rooms.annotate(unread=Coalesce(Subquery(unread, output_field=IntegerField()), 0))
    rooms = rooms.annotate(mentions=_unread_mentions(user))
    rooms = list(rooms)
    people = _direct_people(user=user, room_ids=[room.id for room in rooms if room.is_direct])
    listed = []
    for room in rooms:
        listed.append(
            {
                **_room_summary(room),
                "unread": room.unread,
                "mentions": room.mentions,
                "last_activity": (
                    protocol.timestamp(room.last_activity) if room.last_activity else None
                ),
            }
        )
        if room.is_direct:
            # A direct conversation is named after the other people, for each viewer.
            others = people.get(room.id, [])
            listed[-1].update(people=others, title=", ".join(others) or room.display_title)
    return listed


def room_heads(*, room_ids) -> dict[int, int]:
    """{room id: head} in one query."""
    return dict(Room.objects.filter(id__in=list(room_ids)).values_list("id", "last_seq"))


@dataclass(frozen=True)
class RoomState:
    """What the hub watches of a room: its head, and what a `room` frame says."""

    head: int
    title: str
    is_archived: bool
    is_private: bool

    def same_view(self, other: "RoomState") -> bool:
        """Whether nothing a socket shows of the room differs (the head aside)."""
        return (self.title, self.is_archived, self.is_private) == (
            other.title,
            other.is_archived,
            other.is_private,
        )


def room_states(*, room_ids) -> dict[int, RoomState]:
    """{room id: RoomState} in one query (the hub's repair loop)."""
    rows = Room.objects.filter(id__in=list(room_ids)).values_list(
        "id", "last_seq", "title", "slug", "is_archived", "is_private"
    )
    return {
        room_id: RoomState(head=head, title=title or slug, is_archived=archived, is_private=private)
        for room_id, head, title, slug, archived, private in rows
    }


def room_head(*, room_id: int) -> int:
    return Room.objects.filter(id=room_id).values_list("last_seq", flat=True).first() or 0


def oldest_seq(*, room_id: int) -> int | None:
    """The lowest seq still stored (retention may have pruned older ones)."""
    return Message.objects.filter(room_id=room_id).aggregate(low=Min("seq"))["low"]


def _render(slug: str, rows) -> list[tuple[int, str]]:
    """(seq, entry JSON) for rows of ENTRY_COLUMNS, with the messages'
    current reactions read in one query."""
    rows = list(rows)
    message_pks = [row[0] for row in rows if row[2] in Message.MESSAGE_KINDS and not row[7]]
    reactions: dict[int, dict[str, list[str]]] = {}
    if message_pks:
        held = (
            Reaction.objects.filter(message_id__in=message_pks)
            .order_by("message_id", "emoji", "user__username")
            .values_list("message_id", "emoji", "user__username")
        )
        for message_pk, emoji, username in held:
            reactions.setdefault(message_pk, {}).setdefault(emoji, []).append(username)
    return [
        (
            seq,
            protocol.entry_json(
                seq=seq,
                room=slug,
                kind=kind,
                author=author,
                created_at=created_at,
                client_id=client_id,
                body=body,
                deleted=deleted,
                edited_at=edited_at,
                reply_to=reply_to,
                reactions=reactions.get(pk),
                target=target,
                emoji=emoji,
                on=on,
            ),
        )
        for pk, seq, kind, author, body, created_at, client_id, deleted, edited_at, reply_to, target, emoji, on in rows  # noqa: E501
    ]


def entries_after(
    *, room_id: int, slug: str, after: int, limit: int, up_to: int | None = None
) -> list[tuple[int, str]]:
    """Up to `limit` entries with seq > `after` (and <= `up_to`), ascending, as
    (seq, entry JSON); messages in their current state. An index range scan
    on (room, seq)."""
    query = Message.objects.filter(room_id=room_id, seq__gt=after)
    if up_to is not None:
        query = query.filter(seq__lte=up_to)
    rows = query.order_by("seq").values_list(*ENTRY_COLUMNS)[:limit]
    return _render(slug, rows)


def backfill_pages(*, room: RoomAccess, after: int) -> tuple[list[list[str]], int]:
    """The next backfill frames' worth of entries after `after`: pages of at
    most 500 entries and 256 KiB of frame each (docs/protocol.md, so clients with
    a 1 MiB frame limit are safe), read in one query. Returns the pages and
    the last seq read (`after` when there was nothing)."""
    max_messages = settings.ROOMS_BACKFILL_MAX_MESSAGES
    budget = settings.ROOMS_BACKFILL_MAX_BYTES - protocol.backfill_overhead(room.slug)
    rows = entries_after(room_id=room.id, slug=room.slug, after=after, limit=max_messages * 4)
    pages: list[list[str]] = []
    page: list[str] = []
    size = 0
    for seq, text in rows:
        cost = len(text.encode()) + 1  # and its comma
        if page and (len(page) >= max_messages or size + cost > budget):
            pages.append(page)
            page, size = [], 0
        page.append(text)
        size += cost
        after = seq
    if page:
        pages.append(page)
    return pages, after


def messages_before(
    *, room_id: int, slug: str, before: int | None, limit: int, max_bytes: int | None = None
) -> tuple[list[tuple[int, str]], bool]:
    """The `limit` messages (not changes) just below seq `before` (default:
    the newest ones), ascending, in their current state, and whether older
    ones exist. With `max_bytes`, the oldest are left out until the page's
    messages (and their commas) fit; `has_more` then says so."""
    if before is None:
        before = room_head(room_id=room_id) + 1
    rows = list(
        Message.objects.filter(room_id=room_id, seq__lt=before, kind__in=Message.MESSAGE_KINDS)
        .order_by("-seq")
        .values_list(*ENTRY_COLUMNS)[: limit + 1]
    )
    has_more = len(rows) > limit
    page = _render(slug, reversed(rows[:limit]))
    if max_bytes is not None:
        size, keep = 0, len(page)
        for _, text in reversed(page):
            cost = len(text.encode()) + 1
            if size + cost > max_bytes:
                break
            size += cost
            keep -= 1
        if keep:
            page, has_more = page[keep:], True
    return page, has_more


@dataclass(frozen=True)
class PostAccess:
    """What decides whether users may post in a room, read in one go."""

    exists: bool
    is_private: bool
    is_archived: bool
    roles: dict[int, str]  # user id -> membership role, for the users asked about

    def hidden(self, author) -> RoomsError | None:
        """`not_found` when the room is gone or private to `author` (None: a
        system message, which an operator posts anywhere)."""
        role = self.roles.get(author.pk) if author is not None else None
        if not self.exists or (self.is_private and author is not None and role is None):
            return RoomsError("not_found", "No such room.")
        return None


def post_access(*, room_id: int, author_ids: list[int]) -> PostAccess:
    """The room's flags and the authors' roles in one round trip: it runs in
    every group commit, inside the transaction."""
    placeholders = ", ".join(["%s"] * len(author_ids)) or "NULL"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.is_private, r.is_archived, m.user_id, m.role "
            f"FROM {Room._meta.db_table} r LEFT JOIN {Membership._meta.db_table} m "
            f"ON m.room_id = r.id AND m.user_id IN ({placeholders}) WHERE r.id = %s",
            [*author_ids, room_id],
        )
        rows = cursor.fetchall()
    if not rows:
        return PostAccess(False, False, False, {})
    roles = {user_id: role for _, _, user_id, role in rows if user_id is not None}
    return PostAccess(True, bool(rows[0][0]), bool(rows[0][1]), roles)


def seqs_by_client_id(*, keys: list[tuple[int, int | None, str]]) -> dict[tuple, int]:
    """{(room id, author id or None for system, client_id): seq} of the keys
    already stored, in one query."""
    if not keys:
        return {}
    wanted = set(keys)
    rows = Message.objects.filter(
        room_id__in={room_id for room_id, _, _ in keys},
        client_id__in={client_id for _, _, client_id in keys},
    ).values_list("room_id", "author_id", "kind", "client_id", "seq")
    found = {}
    for room_id, author_id, kind, client_id, seq in rows:
        key = (room_id, None if kind == Message.Kind.SYSTEM else author_id, client_id)
        if key in wanted:
            found[key] = seq
    if len(found) < len(wanted):
        # Entries that retention deleted keep their client_ids here.
        pruned = PrunedClientId.objects.filter(
            room_id__in={room_id for room_id, _, _ in keys},
            client_id__in={client_id for _, _, client_id in keys},
        ).values_list("room_id", "author_id", "client_id", "seq")
        for room_id, author_id, client_id, seq in pruned:
            key = (room_id, author_id, client_id)
            if key in wanted:
                found.setdefault(key, seq)
    return found


def iter_entries(*, room: Room, since: int, batch: int = 1000) -> Iterator[str]:
    """Every entry with seq > `since`, as JSON, in keyset batches: constant
    memory however long the room is (exportroom, tailroom)."""
    after = since
    while True:
        page = entries_after(room_id=room.id, slug=room.slug, after=after, limit=batch)
        if not page:
            return
        for _, text in page:
            yield text
        after = page[-1][0]


def _count_of(queryset: QuerySet, column: str) -> Coalesce:
    """A correlated COUNT(*) per room, so counting two relations never
    multiplies their rows together."""
    counted = queryset.filter(**{column: OuterRef("pk")}).order_by().values(column)
    total = counted.annotate(total=Count("*")).values("total")
    return Coalesce(Subquery(total, output_field=IntegerField()), 0)


def _newest_message_time() -> Subquery:
    # The newest message is never pruned, and (room, seq) is indexed: one
    # index lookup per room instead of scanning its messages.
    newest = Message.objects.filter(room=OuterRef("pk"), seq=OuterRef("last_seq"))
    return Subquery(newest.values("created_at")[:1])


def with_room_stats(rooms: QuerySet) -> QuerySet:
    """`rooms` annotated with message_count, member_count and last_activity,
    in the same query (the admin's changelist, `roomstats`)."""
    return rooms.annotate(
        message_count=_count_of(Message.objects.filter(kind__in=Message.MESSAGE_KINDS), "room"),
        member_count=_count_of(Membership.objects.all(), "room"),
        last_activity=_newest_message_time(),
    )


def online_users(*, room_ids=None) -> dict[int, set[str]]:
    """{room id: usernames online}, from the live workers' presence snapshots."""
    online: dict[int, set[str]] = {}
    fresh = PresenceSnapshot.objects.filter(updated_at__gte=timezone.now() - PRESENCE_TTL)
    for rooms in fresh.values_list("rooms", flat=True):
        for room_id, users in rooms.items():
            if room_ids is None or int(room_id) in room_ids:
                online.setdefault(int(room_id), set()).update(users)
    return online


def room_stats(*, slug: str | None = None) -> list[Room]:
    """Rooms (or the one named) with their counts, last activity and `online`."""
    rooms = Room.objects.all() if slug is None else Room.objects.filter(slug=slug)
    rooms = list(with_room_stats(rooms).order_by("slug"))
    online = online_users(room_ids={room.id for room in rooms})
    for room in rooms:
        room.online = len(online.get(room.id, ()))
    return rooms


@dataclass(frozen=True)
class AccessSnapshot:
    """What the open sockets of one process still hold, read in a few
    queries each repair interval (the hub's access check)."""

    active_users: set[int]
    live_tokens: set[str]  # token hashes not revoked
    live_sessions: set[str]  # session keys not ended (logout, expiry)
    roles: dict[tuple[int, int], str]  # (room id, user id) -> role


def access_snapshot(
    *, user_ids: set[int], token_hashes: set[str], session_keys: set[str], pairs: set[tuple]
) -> AccessSnapshot:
    User = get_user_model()
    active = set(User.objects.filter(pk__in=user_ids, is_active=True).values_list("pk", flat=True))
    tokens = set(
        ApiToken.objects.filter(token_hash__in=token_hashes, revoked_at__isnull=True)
        .filter(user_id__in=active)
        .values_list("token_hash", flat=True)
    )
    roles = {}
    if pairs:
        rows = Membership.objects.filter(
            room_id__in={room_id for room_id, _ in pairs},
            user_id__in={user_id for _, user_id in pairs},
        ).values_list("room_id", "user_id", "role")
        roles = {(room_id, user_id): role for room_id, user_id, role in rows}
    return AccessSnapshot(active, tokens, _live_sessions(session_keys), roles)


def _live_sessions(keys: set[str]) -> set[str]:
    if not keys:
        return set()
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.signed_cookies":
        return set(keys)  # no server-side state: a logout cannot be seen
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        from django.contrib.sessions.models import Session

        live = Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
        return set(live.values_list("session_key", flat=True))
    return {key for key in keys if store().exists(key)}


def _unread_mentions(user) -> Coalesce:
    """Mentions of `user` in messages after the read cursor (the `read`
    annotation), by others, not deleted: the room list's mention badge."""
    mentions = (
        Mention.objects.filter(
            room=OuterRef("pk"), user=user, seq__gt=OuterRef("read"), message__deleted=False
        )
        .exclude(message__author=user)
        .order_by()
        .values("room")
        .annotate(total=Count("*"))
        .values("total")
    )
    return Coalesce(Subquery(mentions, output_field=IntegerField()), 0)


# A direct conversation notifies of every message unless its person chose otherwise.
DIRECT_NOTIFICATION_DEFAULT = NotificationSetting.Level.ALL


def notification_level(*, user, room_id: int) -> str:
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


def notification_levels(*, user) -> dict[str, str]:
    """{room slug: level} of the rooms whose level for `user` is not the
    pages' default, mentions only: chosen ones, and the direct conversations
    left at theirs."""
    chosen = dict(NotificationSetting.objects.filter(user=user).values_list("room__slug", "level"))
    direct = Room.objects.filter(kind=Room.Kind.DIRECT, memberships__user=user)
    for slug in direct.values_list("slug", flat=True):
        chosen.setdefault(slug, DIRECT_NOTIFICATION_DEFAULT)
    return {slug: level for slug, level in chosen.items() if level != NotificationSetting.DEFAULT}


def room_member_names(*, room_id: int, limit: int = 500) -> list[str]:
    """Usernames of the room's active members, sorted (the composer's @ list)."""
    members = Membership.objects.filter(room_id=room_id, user__is_active=True)
    return list(members.order_by("user__username").values_list("user__username", flat=True)[:limit])


def search_messages(
    *,
    user,
    query: str,
    room: str | None = None,
    author: str | None = None,
    after: date | None = None,
    before: date | None = None,
    page: int = 1,
    per_page: int = 20,
) -> SearchResults:
    """The text messages `user` may see that match `query` (docs/search.md:
    words, "phrases", -excluded, OR, from: in: after: before: on:), by
    relevance then recency, one page at a time. `room`, `author`, `after`
    (that day on) and `before` (up to that day) narrow it like the in-query
    filters. Raises RoomsError `invalid` (with its field) for a query that
    cannot be searched; an unknown author or a room the user cannot see
    gives no results."""
    return search.search(
        user=user, query=query, room=room, author=author, after=after, before=before,
        page=page, per_page=per_page,
    )  # fmt: skip


# --- Room management (docs/room-management.md) ---------------------------------


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


def room_detail(*, room: Room, user) -> dict:
    """One room as the API shows it, with the caller's role and whether they
    may manage it."""
    role = Membership.objects.filter(room=room, user=user).values_list("role", flat=True).first()
    return {
        **_room_summary(room),
        "role": role,
        "can_manage": access.may_manage(user=user, role=role, kind=room.kind),
    }


# --- Direct conversations (docs/direct-messages.md) ---------------------------

USER_PICKER_LIMIT = 20


def direct_room(*, key: str) -> Room | None:
    """The direct conversation of the people whose sorted ids are `key`."""
    return Room.objects.filter(direct_key=key).first()


def _direct_people(*, user, room_ids: list[int]) -> dict[int, list[str]]:
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


def direct_conversations(*, user) -> list[dict]:
    """The user's direct conversations as a room page watches them for new
    messages: slug, the other people's names, head, notification level."""
    rooms = list(Room.objects.filter(kind=Room.Kind.DIRECT, memberships__user=user))
    people = _direct_people(user=user, room_ids=[room.id for room in rooms])
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


def direct_people(*, user, room_id: int) -> list[str]:
    """The people of a direct conversation other than `user` (its name for them)."""
    return _direct_people(user=user, room_ids=[room_id]).get(room_id, [])


def users_named(*, usernames: list[str], field: str = "users") -> list[AbstractBaseUser]:
    """The active users with these usernames; `invalid` (on `field`) naming
    the first that is unknown or inactive."""
    wanted = list(dict.fromkeys(usernames))
    if len(wanted) > Room.DIRECT_MAX_PEOPLE:
        raise RoomsError(
            "invalid", f"At most {Room.DIRECT_MAX_PEOPLE} people, you included.", field=field
        )
    found = {
        user.get_username(): user
        for user in get_user_model().objects.filter(username__in=wanted, is_active=True)
    }
    for name in wanted:
        if name not in found:
            raise RoomsError("invalid", f"No user named {name[:150]!r}.", field=field)
    return [found[name] for name in wanted]


def usernames_starting(*, prefix: str, limit: int = USER_PICKER_LIMIT) -> list[str]:
    """Active users whose username starts with `prefix` (any case), sorted:
    the user picker's suggestions."""
    users = get_user_model().objects.filter(is_active=True, username__istartswith=prefix)
    return list(users.order_by("username").values_list("username", flat=True)[:limit])
