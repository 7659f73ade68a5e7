"""The two full-text engines search runs on, and the conditions they share.

PostgreSQL: a STORED generated column `search` (the body's tsvector) with a
partial GIN index; SQLite: an FTS5 table over the message table. Nothing the
user typed reaches either engine's query syntax: each term is a bound
parameter, given to `phraseto_tsquery` (which has no operators) or quoted as
an FTS5 string. Both indexes are kept current by the database itself (a
generated column, or triggers; migration 0008), so every write path (send,
edit, delete, prune, the admin) updates them without code here.

Which rooms a user may see is not decided here: `Where` asks rooms.access.
"""

from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, transaction
from django.utils.translation import gettext

from .. import access
from ..errors import RoomsError
from ..models import Message
from .highlight import EXCERPT_WORDS, WHOLE_MESSAGE_CHARS
from .query import Query, day_start

# PostgreSQL: the newest matches ranked by relevance, at most this many. A
# very common word matches a large part of the log, and ranking every match
# costs a read of each one; relevance among the newest is what a chat search
# wants anyway (docs/search.md, Ranking).
PG_CANDIDATES = 200

PG_CONFIG = "english"
FTS_TABLE = "rooms_message_fts"

SEARCHABLE = "kind = 'text' AND NOT deleted"  # the rows both engines index


class Where:
    """The conditions that are the same on both engines: searchable rows
    (the partial index's condition, word for word), the rooms the user may
    see, and the filters. `m` is the message table."""

    def __init__(self):
        self.sql = ["m.kind = 'text'", "NOT m.deleted"]
        self.params: list = []
        self.one_room = False

    def add(self, sql: str, *params) -> None:
        self.sql.append(sql)
        self.params.extend(params)

    def __str__(self) -> str:
        return " AND ".join(self.sql)

    @classmethod
    def for_user(cls, user, parsed: Query) -> "Where | None":
        """None when nothing can match: no user, a room not visible, an
        unknown author, an empty date range."""
        if user is None or not user.is_authenticated:
            return None
        where = cls()
        if len(parsed.rooms) > 1 or len(parsed.authors) > 1:
            return None  # two different rooms (or authors) at once
        if parsed.rooms:
            (slug,) = parsed.rooms
            # The room as its own page finds it: by its exact slug, if the
            # user may see it.
            room = access.room_access(user=user, slug=slug)
            if room is None:
                return None  # unknown and not visible alike: existence is not revealed
            where.add("m.room_id = %s", room.id)
            where.one_room = True
        else:
            where.add_visible_rooms(user)
        if parsed.authors:
            (name,) = parsed.authors
            ids = list(
                get_user_model()
                .objects.filter(username__iexact=name)
                .values_list("pk", flat=True)[:10]
            )
            if not ids:
                return None
            where.add(f"m.author_id IN ({', '.join(['%s'] * len(ids))})", *ids)
        after, before = day_start(parsed.after), day_start(parsed.before)
        if after is not None and before is not None and after >= before:
            return None
        if after is not None:
            where.add("m.created_at >= %s", connection.ops.adapt_datetimefield_value(after))
        if before is not None:
            where.add("m.created_at < %s", connection.ops.adapt_datetimefield_value(before))
        return where

    def add_visible_rooms(self, user) -> None:
        """Only the rooms `user` may see, by rooms.access's own queryset."""
        rooms = access.visible_rooms(user).order_by()  # a set: no need of Room's ordering
        if connection.vendor == "postgresql":
            # A constant array: PostgreSQL checks each candidate row against
            # it by hash, where a subquery's join was planned as a loop.
            self.add("m.room_id = ANY(%s)", sorted(rooms.values_list("pk", flat=True)))
        else:
            sql, params = rooms.values("pk").query.sql_with_params()
            self.add(f"m.room_id IN ({sql})", *params)


class Postgres:
    """A STORED generated column `search` (to_tsvector of the body) with a
    partial GIN index on the searchable rows."""

    TSQUERY = f"phraseto_tsquery('{PG_CONFIG}'::regconfig, %s)"

    @classmethod
    def tsquery(cls, parsed: Query) -> tuple[str, list]:
        """One tsquery: every clause (an OR of terms), and not any excluded
        term. phraseto_tsquery reads each term as plain words, stopwords
        dropped, so no user text is ever tsquery syntax."""
        parts, params = [], []
        for clause in parsed.clauses:
            parts.append("(" + " || ".join([cls.TSQUERY] * len(clause)) + ")")
            params.extend(clause)
        if parsed.excluded:
            parts.append("!!(" + " || ".join([cls.TSQUERY] * len(parsed.excluded)) + ")")
            params.extend(parsed.excluded)
        return " && ".join(parts), params

    @classmethod
    def page_ids(cls, parsed: Query, where: Where, *, limit: int, offset: int) -> list[int]:
        table = Message._meta.db_table
        if not parsed.clauses:
            sql, params = f"SELECT m.id FROM {table} m WHERE {where}", list(where.params)
            if parsed.excluded:
                tsquery, ts_params = cls.tsquery(Query(clauses=[parsed.excluded]))
                sql += f" AND NOT (m.search @@ ({tsquery}))"
                params += ts_params
            sql += " ORDER BY m.created_at DESC, m.id DESC LIMIT %s OFFSET %s"
            return _fetch_ids(sql, [*params, limit, offset])
        tsquery, ts_params = cls.tsquery(parsed)
        # The newest PG_CANDIDATES matches, then ranked: relevance, then
        # recency. In one room, newest is by seq: the (room, seq) index.
        newest = "m.seq DESC" if where.one_room else "m.created_at DESC, m.id DESC"
        sql = f"""
            SELECT id FROM (
                SELECT m.id, m.created_at, m.search FROM {table} m
                WHERE {where} AND m.search @@ ({tsquery})
                ORDER BY {newest} LIMIT %s
            ) candidate
            ORDER BY ts_rank_cd(candidate.search, ({tsquery})) DESC,
                     candidate.created_at DESC, candidate.id DESC
            LIMIT %s OFFSET %s
        """
        candidates = max(PG_CANDIDATES, offset + limit)
        params = [*where.params, *ts_params, candidates, *ts_params, limit, offset]
        return _fetch_ids(sql, params, serial=True)

    @classmethod
    def highlight(cls, parsed: Query, ids: list[int], marks: tuple[str, str]) -> dict[int, str]:
        tsquery, ts_params = cls.tsquery(Query(clauses=parsed.clauses))
        start, stop = marks
        whole = f"StartSel={start}, StopSel={stop}, HighlightAll=true"
        excerpt = (
            f"StartSel={start}, StopSel={stop}, MaxFragments=2, "
            f'MaxWords={EXCERPT_WORDS}, MinWords={EXCERPT_WORDS // 3}, FragmentDelimiter=" … "'
        )
        headline = f"ts_headline('{PG_CONFIG}'::regconfig, body, ({tsquery}), %s)"
        sql = (
            f"SELECT id, CASE WHEN length(body) <= %s THEN {headline} ELSE {headline} END "
            f"FROM {Message._meta.db_table} WHERE id = ANY(%s)"
        )
        params = [WHOLE_MESSAGE_CHARS, *ts_params, whole, *ts_params, excerpt, ids]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return dict(cursor.fetchall())


class Sqlite:
    """An FTS5 table over the message table (external content), kept by
    triggers; porter stemming, diacritics folded."""

    @staticmethod
    def match(parsed: Query) -> str:
        """The FTS5 query: each term an FTS5 string (a phrase of the words
        the tokenizer finds in it), so no user text is FTS5 syntax."""
        clauses = ["(" + " OR ".join(map(_fts_string, clause)) + ")" for clause in parsed.clauses]
        expression = " AND ".join(clauses)
        if parsed.excluded:
            expression = f"({expression}) NOT ({' OR '.join(map(_fts_string, parsed.excluded))})"
        return expression

    @classmethod
    def page_ids(cls, parsed: Query, where: Where, *, limit: int, offset: int) -> list[int]:
        table = Message._meta.db_table
        params = list(where.params)
        if not parsed.clauses:
            sql = f"SELECT m.id FROM {table} m WHERE {where}"
            if parsed.excluded:
                sql += (
                    f" AND m.id NOT IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)"
                )
                params.append(" OR ".join(map(_fts_string, parsed.excluded)))
            sql += " ORDER BY m.created_at DESC, m.id DESC LIMIT %s OFFSET %s"
            return _fetch_ids(sql, [*params, limit, offset])
        sql = f"""
            SELECT m.id FROM {FTS_TABLE} JOIN {table} m ON m.id = {FTS_TABLE}.rowid
            WHERE {FTS_TABLE} MATCH %s AND {where}
            ORDER BY bm25({FTS_TABLE}), m.created_at DESC, m.id DESC
            LIMIT %s OFFSET %s
        """
        return _fetch_ids(sql, [cls.match(parsed), *params, limit, offset])

    @classmethod
    def highlight(cls, parsed: Query, ids: list[int], marks: tuple[str, str]) -> dict[int, str]:
        start, stop = marks
        sql = (
            f"SELECT rowid, CASE WHEN length(body) <= %s "
            f"THEN highlight({FTS_TABLE}, 0, %s, %s) "
            f"ELSE snippet({FTS_TABLE}, 0, %s, %s, '…', {EXCERPT_WORDS}) END "
            f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s "
            f"AND rowid IN ({', '.join(['%s'] * len(ids))})"
        )
        params = [WHOLE_MESSAGE_CHARS, start, stop, start, stop, cls.match(parsed), *ids]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return dict(cursor.fetchall())


ENGINES = {"postgresql": Postgres, "sqlite": Sqlite}


def engine_for(vendor: str):
    """The engine of the database `vendor`, or RoomsError `unavailable`."""
    engine = ENGINES.get(vendor)
    if engine is None:
        raise RoomsError("unavailable", f"Search does not run on {vendor}.")
    return engine


def _fts_string(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _fetch_ids(sql: str, params: list, *, serial: bool = False) -> list[int]:
    """The ids the statement selects. `serial` (PostgreSQL): without a
    parallel plan. Scanning backwards for the newest matches of a word in
    about 1 % of messages reads some 16,000 rows; the planner then starts
    parallel workers, whose start-up is half the statement's time and whose
    CPU the server's own processes need (measured in docs/benchmarks.md,
    Search)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if serial:
                cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]
    except OperationalError as error:
        # A safety net only: terms are quoted, so FTS5 should never see syntax.
        if str(error).startswith("fts5:"):
            raise RoomsError(
                "invalid", gettext("This query cannot be searched."), field="q"
            ) from None
        raise


# --- The index (created by migration 0008) -----------------------------------


def sqlite_rebuild() -> None:
    """Index the searchable rows from scratch (docs/search.md, Index
    maintenance). Not FTS5's own 'rebuild', which would index every row of
    the content table, edit entries included."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')")
        cursor.execute(
            f"INSERT INTO {FTS_TABLE}(rowid, body) "
            f"SELECT id, body FROM {Message._meta.db_table} WHERE {SEARCHABLE}"
        )
