"""What reaches a person who is away (docs/notifications.md): the messages a
delivery job names, who a batch of stored messages may need to notify, and
the settings page's and the worker's reads.

What reaches a person is decided here, once, as a filter on Message
(`_reaching`): by someone else, a message that mentions them or any message
in a direct conversation they are in, in a room they may see whose level
for them is not `none`, not deleted, above their read cursor.
"""

import re
from dataclasses import dataclass, replace

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connections, router
from django.db.models import Count, Exists, Min, OuterRef, Q, Subquery, Window
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy

from .. import access
from ..models import (
    Attachment,
    EmailPreference,
    Membership,
    Mention,
    Message,
    NotificationSetting,
    NotifyState,
    PushSubscription,
    ReadCursor,
    Room,
)

# An email lists at most this many messages, then "and N more".
EMAIL_LISTED = 20
NONE = NotificationSetting.Level.NONE
# Translators: a direct conversation's title in its emails and pushes, after "in".
DIRECT_TITLE = gettext_lazy("a direct conversation")


@dataclass(frozen=True)
class AwayMessage:
    seq: int
    author: str | None
    body: str
    created_at: object
    files: tuple[str, ...] = ()  # its attachments' names, read for a message without text
    pk: int | None = None

    @property
    def text(self) -> str:
        """What stands for it in an email or a push: its body, or for a
        message of files alone "📎 a.png, b.pdf" (as in the browser)."""
        if self.body.strip() or not self.files:
            return self.body
        return "📎 " + ", ".join(self.files)


@dataclass(frozen=True)
class AwayBatch:
    """The messages one job names: the newest first (at most `EMAIL_LISTED`),
    and how many there are in all."""

    room_slug: str
    room_title: str
    messages: list[AwayMessage]
    total: int
    is_direct: bool = False

    @property
    def newest_seq(self) -> int:
        return self.messages[0].seq


def _reaching(user: AbstractBaseUser) -> Q:
    """The messages that reach `user`, as a filter on Message (without the
    read cursor and what was already notified: the caller's floor)."""
    mine = {"room": OuterRef("room_id"), "user": user}
    in_direct = Q(room__kind=Room.Kind.DIRECT) & Exists(Membership.objects.filter(**mine))
    mentioned = Exists(Mention.objects.filter(message=OuterRef("pk"), user=user))
    silenced = Exists(NotificationSetting.objects.filter(**mine, level=NONE))
    return (
        Q(kind__in=Message.MESSAGE_KINDS, deleted=False)
        & (in_direct | mentioned)
        & ~silenced
        & access.visible_q(user, prefix="room__")
        & ~Q(author_id=user.pk)
    )


def email_wanted_q(prefix: str = "") -> Q:
    """The users who get email, as a filter on User (or via `prefix`): an
    address, and email not turned off."""
    off = EmailPreference.objects.filter(user=OuterRef(f"{prefix}pk"), enabled=False)
    return ~Q(**{f"{prefix}email": ""}) & ~Exists(off)


def _away_rows(user: AbstractBaseUser, room_id: int, channel: str, after_seq: int):
    """The ORM query of `away_batch`: the newest reaching messages, unread
    and above `after_seq`, each with the count of them all."""
    cursor = ReadCursor.objects.filter(user=user, room_id=room_id).values("seq")[:1]
    rows = Message.objects.filter(_reaching(user), room_id=room_id, seq__gt=after_seq).filter(
        seq__gt=Coalesce(Subquery(cursor), 0)
    )
    if channel == NotifyState.Channel.EMAIL:
        rows = rows.filter(Exists(get_user_model().objects.filter(email_wanted_q(), pk=user.pk)))
    rows = rows.annotate(total=Window(Count("pk"))).order_by("-seq")
    return rows.values_list(
        "seq",
        "author__username",
        "body",
        "created_at",
        "total",
        "room__slug",
        "room__title",
        "room__kind",
        "pk",
    )[:EMAIL_LISTED]


# Stand-ins for the job's user, room and floor while `_away_rows` is compiled
# once: every bound parameter equal to one is the job's value at run time.
# Within a 32-bit integer's range: the ORM compiles a lookup of a value out
# of its column's range as "matches nothing".
_USER, _ROOM, _AFTER = -2_047_000_001, -2_047_000_002, -2_047_000_003


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple  # the compiled parameters, stand-ins included
    compiler: object  # the ORM's, for its converters (e.g. SQLite's datetimes)
    converters: dict


# (database alias, vendor, channel) -> the compiled decision query.
_compiled: dict[tuple, _Compiled] = {}


def _compiled_query(channel: str) -> _Compiled:
    """The decision query's SQL, built and compiled by the ORM once per
    process and database (rebuilding it per job was ~40 % of a job's CPU:
    docs/benchmarks.md, Notifications)."""
    alias = router.db_for_read(Message)
    key = (alias, connections[alias].vendor, channel)
    found = _compiled.get(key)
    if found is None:
        stand_in = get_user_model()(pk=_USER)
        query = _away_rows(stand_in, _ROOM, channel, _AFTER).query
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        converters = compiler.get_converters(fields)
        bound = {int(p) for p in params if isinstance(p, int) and not isinstance(p, bool)}
        if not {_USER, _ROOM, _AFTER} <= bound:  # folded into the SQL: never "nothing"
            raise RuntimeError("away_batch: a stand-in is not a bound parameter.")
        found = _compiled[key] = _Compiled(sql, tuple(params), compiler, converters)
    return found


def _bound(param, values: dict):
    """`param`, or the job's value when it is a stand-in (of the same type:
    psycopg's Int8 and the like say which SQL type it is bound as)."""
    if isinstance(param, int) and not isinstance(param, bool) and int(param) in values:
        return type(param)(values[int(param)])
    return param


def away_batch(
    *, user: AbstractBaseUser, room_id: int, channel: str, after_seq: int
) -> AwayBatch | None:
    """The messages of the room that reach `user` and are still unread by
    them, above `after_seq` (the newest already notified), in ONE query: the
    read cursor, the level, access and (email) the user's address are read
    in it, so a delivery decides from one consistent view of them. None when
    there is nothing. (A message of files alone asks one query more: their
    names.)"""
    return _with_files([_batch_without_files(user, room_id, channel, after_seq)])[0]


def _batch_without_files(
    user: AbstractBaseUser, room_id: int, channel: str, after_seq: int
) -> AwayBatch | None:
    """away_batch's one query, the files' names left out."""
    compiled = _compiled_query(channel)
    values = {_USER: user.pk, _ROOM: room_id, _AFTER: after_seq}
    params = [_bound(param, values) for param in compiled.params]
    with connections[router.db_for_read(Message)].cursor() as cursor:
        cursor.execute(compiled.sql, params)
        found = cursor.fetchall()
    return _batch_of(_converted(compiled, found))


def away_batches(*, wanted: list[tuple[AbstractBaseUser, int, str, int]]) -> list:
    """`away_batch` for each (user, room id, channel, after_seq) of `wanted`,
    in its order. On PostgreSQL in one query per channel: the same compiled
    query, joined LATERAL to the list of values (one round trip and one plan
    for a whole sweep, not one each); elsewhere one query each (SQLite keeps
    the statement prepared). The names of the files of messages without text
    take one query more for them all."""
    alias = router.db_for_read(Message)
    if connections[alias].vendor != "postgresql":
        return _with_files([_batch_without_files(*row) for row in wanted])
    found: list = [None] * len(wanted)
    for channel in {channel for _, _, channel, _ in wanted}:
        which = [index for index, row in enumerate(wanted) if row[2] == channel]
        compiled = _compiled_query(channel)
        sql, params = _lateral(compiled)
        arrays = [
            [wanted[i][column].pk if column == 0 else wanted[i][column] for i in which]
            for column in (0, 1, 3)
        ]
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, [*arrays, *params])
            rows = cursor.fetchall()
        groups: dict[int, list] = {}
        for number, row in zip(
            [row[0] for row in rows], _converted(compiled, [row[1:] for row in rows]), strict=True
        ):
            groups.setdefault(number, []).append(row)
        for number, group in groups.items():
            group.sort(key=lambda row: row[0], reverse=True)  # the newest first, as away_batch
            found[which[number - 1]] = _batch_of(group)
    return _with_files(found)


_PLACEHOLDER = re.compile(r"%%|%s")
_COLUMNS = {_USER: "away_s.u", _ROOM: "away_s.r", _AFTER: "away_s.a"}


def _lateral(compiled: _Compiled) -> tuple[str, list]:
    """The compiled query with each stand-in's placeholder replaced by the
    column of the values it stands for, LATERAL to them; and the other
    parameters, in order."""
    params, kept = iter(compiled.params), []

    def swap(match: re.Match) -> str:
        if match.group() == "%%":
            return "%%"
        param = next(params)
        if isinstance(param, int) and not isinstance(param, bool) and int(param) in _COLUMNS:
            return _COLUMNS[int(param)]
        kept.append(param)
        return "%s"

    inner = _PLACEHOLDER.sub(swap, compiled.sql)
    sql = (
        "SELECT away_s.n, q.* FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) "
        f"WITH ORDINALITY AS away_s(u, r, a, n) CROSS JOIN LATERAL ({inner}) AS q"
    )
    return sql, kept


def _converted(compiled: _Compiled, rows: list) -> list[tuple]:
    if not compiled.converters:
        return [tuple(row) for row in rows]
    return [tuple(row) for row in compiled.compiler.apply_converters(rows, compiled.converters)]


def _batch_of(found: list[tuple]) -> AwayBatch | None:
    """The AwayBatch of the decision query's rows (the newest first)."""
    if not found:
        return None
    messages = [
        AwayMessage(seq, author, body, at, pk=pk) for seq, author, body, at, *_, pk in found
    ]
    _, _, _, _, total, slug, title, kind, _ = found[0]
    direct = kind == Room.Kind.DIRECT
    title = DIRECT_TITLE if direct else (title or slug)
    return AwayBatch(
        room_slug=slug, room_title=title, messages=messages, total=total, is_direct=direct
    )


def _with_files(batches: list[AwayBatch | None]) -> list[AwayBatch | None]:
    """`batches` with the names of the files of each message that has no
    text (AwayMessage.text), read for all of them in one query; no query
    when every message has text (nearly always)."""
    bare = [m.pk for batch in batches if batch for m in batch.messages if not m.body.strip()]
    if not bare:
        return batches
    names: dict[int, list[str]] = {}
    rows = Attachment.objects.filter(message_id__in=bare).order_by("message_id", "position")
    for message_pk, name in rows.values_list("message_id", "name"):
        names.setdefault(message_pk, []).append(name)

    def named(message: AwayMessage) -> AwayMessage:
        found = names.get(message.pk)
        return replace(message, files=tuple(found)) if found else message

    return [
        batch and replace(batch, messages=[named(message) for message in batch.messages])
        for batch in batches
    ]


def direct_people(*, room_ids: list[int]) -> set[tuple[int, int]]:
    """{(user id, room id)} of the people of these direct conversations: whom
    their new messages may notify (the authors among them are weeded out by
    the job, which reads every rule again)."""
    if not room_ids:
        return set()
    people = Membership.objects.filter(room_id__in=room_ids)
    return set(people.values_list("user_id", "room_id"))


def away_channels(*, user_ids: set[int], email: bool, push: bool) -> dict[int, list[str]]:
    """{user id: the channels that can reach them}: email with an address
    and email on; push with a subscription."""
    channels: dict[int, list[str]] = {}
    if email:
        users = get_user_model().objects.filter(email_wanted_q(), pk__in=user_ids)
        for pk in users.values_list("pk", flat=True):
            channels.setdefault(pk, []).append(NotifyState.Channel.EMAIL)
    if push:
        subscribed = PushSubscription.objects.filter(user_id__in=user_ids)
        for pk in set(subscribed.values_list("user_id", flat=True)):
            channels.setdefault(pk, []).append(NotifyState.Channel.PUSH)
    return channels


def push_subscriptions_of(*, user_ids: set[int]) -> dict[int, list[PushSubscription]]:
    """{user id: their subscriptions}, for a batch of deliveries in one query."""
    found: dict[int, list[PushSubscription]] = {}
    for subscription in PushSubscription.objects.filter(user_id__in=user_ids).order_by("pk"):
        found.setdefault(subscription.user_id, []).append(subscription)
    return found


def deliveries_due(*, now) -> bool:
    """Whether a NotifyState row is due (the worker's sweep takes it)."""
    return NotifyState.objects.filter(due_at__lte=now).exists()


def deliveries_waiting() -> int:
    """NotifyState rows with a delivery pending, due or not."""
    return NotifyState.objects.exclude(due_at=None).count()


def oldest_delivery_due():
    """When the row waiting longest was due (None: nothing pending)."""
    return NotifyState.objects.exclude(due_at=None).aggregate(since=Min("due_at"))["since"]


def email_settings(*, user: AbstractBaseUser) -> dict:
    """What the settings page shows: the address and whether email is on."""
    enabled = EmailPreference.objects.filter(user=user).values_list("enabled", flat=True).first()
    return {"email": user.email, "enabled": enabled is not False}
