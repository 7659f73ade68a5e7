"""Full-text search of the messages a user may see (docs/search.md).

The query a user types is parsed here into one structure (`Query`) and
rendered for the database's own full-text engine: PostgreSQL's tsvector and
GIN index, or SQLite's FTS5 table. Nothing the user typed reaches either
engine's query syntax: each term is a bound parameter, given to
`phraseto_tsquery` (which has no operators) or quoted as an FTS5 string.
Both indexes are kept current by the database itself (a generated column, or
triggers; migration 0008), so every write path (send, edit, delete, prune,
the admin) updates them without code here.

Highlighting never trusts any text as markup: the engine marks the matched
words with two private-use characters that occur in none of the page's
messages, and `_segments` splits on them into (text, is_match) pairs.
"""

import datetime
import itertools
import re
import unicodedata
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from . import protocol
from .errors import RoomsError
from .models import Membership, Message, Room

MAX_QUERY_CHARS = 500
MAX_TERMS = 32  # positive and excluded terms together
MAX_PAGE = 50
MAX_PER_PAGE = 100
# A message up to this long is shown whole, with its matches marked;
# a longer one by an excerpt around them.
WHOLE_MESSAGE_CHARS = 280
EXCERPT_WORDS = 24
# PostgreSQL: the newest matches ranked by relevance, at most this many. A
# very common word matches a large part of the log, and ranking every match
# costs a read of each one; relevance among the newest is what a chat search
# wants anyway (docs/search.md, Ranking).
PG_CANDIDATES = 200

PG_CONFIG = "english"
FTS_TABLE = "rooms_message_fts"

FILTER_KEYS = {"from": "author", "in": "room", "room": "room", "after": "after"}
FILTER_KEYS |= {"before": "before", "on": "on"}
_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<neg>-)?"(?P<phrase>[^"]*)"?            # "a phrase", -"a phrase" (closing quote optional)
    | (?P<key>[A-Za-z]+):(?:"(?P<qvalue>[^"]*)"?|(?P<value>\S*))   # from:alice, in:"x"
    | (?P<negw>-)?(?P<word>[^\s"]+)              # word, -word
    )""",
    re.VERBOSE,
)
_HAS_WORD = re.compile(r"[^\W_]")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class SearchHit:
    room: str  # slug
    room_title: str
    seq: int
    author: str | None
    created_at: str  # protocol.timestamp(...) ISO string
    edited: bool
    snippet: list[tuple[str, bool]]  # the message's text (or an excerpt): (text, is_match)

    @property
    def url(self) -> str:
        return f"/rooms/{self.room}/#seq-{self.seq}"


@dataclass(frozen=True)
class SearchResults:
    query: str
    hits: list[SearchHit]
    page: int  # 1-based
    has_more: bool


@dataclass
class Query:
    """A parsed query: all `clauses` must match, each by one of its terms
    (a term is a word or a phrase, as the user wrote it); no `excluded` term
    may match; and the filters hold."""

    clauses: list[list[str]] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    rooms: set[str] = field(default_factory=set)
    authors: set[str] = field(default_factory=set)
    after: datetime.date | None = None  # on or after this day
    before: datetime.date | None = None  # before this day

    def limit_dates(self, *, after=None, before=None) -> None:
        """Narrow the date range (filters combine: all must hold)."""
        if after is not None:
            self.after = after if self.after is None else max(self.after, after)
        if before is not None:
            self.before = before if self.before is None else min(self.before, before)


def clean_text(text: str) -> str:
    """The query without what no engine should see: NUL and other control
    characters become spaces, lone surrogates go."""
    return "".join(
        " " if unicodedata.category(char) == "Cc" else char
        for char in text
        if unicodedata.category(char) != "Cs"
    )


def parse_query(text: str) -> Query:
    """Parse what the user typed (docs/search.md, Syntax). Raises RoomsError
    `invalid` (field `q`) for a query too long or a bad date; search()
    refuses one that, with the form's filters, names neither a word nor a
    filter."""
    if not isinstance(text, str):
        raise RoomsError("invalid", "The query must be text.", field="q")
    if len(text) > MAX_QUERY_CHARS:
        raise RoomsError(
            "invalid", f"A query may hold at most {MAX_QUERY_CHARS} characters.", field="q"
        )
    query = Query()
    join_next = False  # the previous token was OR
    terms = 0
    for match in _TOKEN.finditer(clean_text(text)):
        key = (match["key"] or "").lower()
        if key in FILTER_KEYS:
            _add_filter(query, FILTER_KEYS[key], match["qvalue"] or match["value"] or "")
            join_next = False
            continue
        if match["key"]:  # not a filter: a word that happens to hold a colon
            term, negated = match[0].strip(), False
        elif match["phrase"] is not None:
            term, negated = match["phrase"], bool(match["neg"])
        else:
            term, negated = match["word"], bool(match["negw"])
        if term == "OR" and not negated:
            join_next = bool(query.clauses)
            continue
        if not _HAS_WORD.search(term):
            continue  # only punctuation: nothing any engine would index
        terms += 1
        if terms > MAX_TERMS:
            raise RoomsError("invalid", f"A query may hold at most {MAX_TERMS} words.", field="q")
        if negated:
            query.excluded.append(term)
        elif join_next:
            query.clauses[-1].append(term)
        else:
            query.clauses.append([term])
        join_next = False
    return query


def _require_something(query: Query) -> None:
    if not query.clauses and not (query.rooms or query.authors or query.after or query.before):
        raise RoomsError(
            "invalid", "Search for at least one word, or filter by room, author or date.", field="q"
        )


def _add_filter(query: Query, name: str, value: str) -> None:
    value = value.strip()
    if name == "author":
        query.authors.add(value.removeprefix("@").lower())
    elif name == "room":
        query.rooms.add(value.lower())
    else:
        day = parse_date(value, field_name="q", label=f"{name}:")
        if name == "after":
            query.limit_dates(after=day)
        elif name == "before":
            query.limit_dates(before=day)
        else:  # on: that one day
            query.limit_dates(after=day, before=_next_day(day))


def parse_date(value: str, *, field_name: str, label: str) -> datetime.date:
    """A YYYY-MM-DD day, or RoomsError `invalid` naming `field_name`."""
    try:
        if _DATE.fullmatch(value):
            return datetime.date.fromisoformat(value)
    except ValueError:
        pass
    raise RoomsError("invalid", f"`{label}` takes a date as YYYY-MM-DD.", field=field_name)


def _next_day(day: datetime.date) -> datetime.date | None:
    return None if day == datetime.date.max else day + datetime.timedelta(days=1)


def search(
    *,
    user,
    query: str,
    room: str | None = None,
    author: str | None = None,
    after: datetime.date | None = None,
    before: datetime.date | None = None,
    page: int = 1,
    per_page: int = 20,
) -> SearchResults:
    """selectors.search_messages: see there."""
    if not isinstance(page, int) or not 1 <= page <= MAX_PAGE:
        raise RoomsError("invalid", f"`page` must be from 1 to {MAX_PAGE}.", field="page")
    if not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
        raise RoomsError(
            "invalid", f"`per_page` must be from 1 to {MAX_PER_PAGE}.", field="per_page"
        )
    parsed = parse_query(query)
    if room:
        parsed.rooms.add(room.lower())
    if author:
        parsed.authors.add(author.removeprefix("@").lower())
    parsed.limit_dates(after=after, before=before)
    # The filters of the form count as much as those typed in the query.
    _require_something(parsed)
    empty = SearchResults(query=query, hits=[], page=page, has_more=False)
    where = _Where.for_user(user, parsed)
    if where is None:
        return empty
    engine = _ENGINES.get(connection.vendor)
    if engine is None:
        raise RoomsError("unavailable", f"Search does not run on {connection.vendor}.")
    ids = engine.page_ids(parsed, where, limit=per_page + 1, offset=(page - 1) * per_page)
    has_more = len(ids) > per_page
    ids = ids[:per_page]
    return SearchResults(query=query, hits=_hits(engine, parsed, ids), page=page, has_more=has_more)


class _Where:
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
    def for_user(cls, user, parsed: Query) -> "_Where | None":
        """None when nothing can match: no user, a room not visible, an
        unknown author, an empty date range."""
        if user is None or not user.is_authenticated:
            return None
        where = cls()
        if len(parsed.rooms) > 1 or len(parsed.authors) > 1:
            return None  # two different rooms (or authors) at once
        if parsed.rooms:
            (slug,) = parsed.rooms
            room_id = _visible_room_id(user, slug)
            if room_id is None:
                return None  # unknown and not visible alike: existence is not revealed
            where.add("m.room_id = %s", room_id)
            where.one_room = True
        elif connection.vendor == "postgresql":
            # A constant array: PostgreSQL checks each candidate row against
            # it by hash, where a subquery's join was planned as a loop.
            where.add("m.room_id = ANY(%s)", _visible_room_ids(user))
        else:
            where.add(
                f"m.room_id IN (SELECT id FROM {Room._meta.db_table} WHERE NOT is_private "
                f"UNION SELECT room_id FROM {Membership._meta.db_table} WHERE user_id = %s)",
                user.pk,
            )
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
        after, before = _day_start(parsed.after), _day_start(parsed.before)
        if after is not None and before is not None and after >= before:
            return None
        if after is not None:
            where.add("m.created_at >= %s", connection.ops.adapt_datetimefield_value(after))
        if before is not None:
            where.add("m.created_at < %s", connection.ops.adapt_datetimefield_value(before))
        return where


def _visible_room_id(user, slug: str) -> int | None:
    if not protocol.is_slug(slug):
        return None
    rooms = Room.objects.filter(slug=slug)
    visible = rooms.filter(is_private=False) | rooms.filter(memberships__user=user)
    return visible.values_list("pk", flat=True).first()


def _visible_room_ids(user) -> list[int]:
    public = Room.objects.filter(is_private=False).values_list("pk", flat=True)
    member = Membership.objects.filter(user=user).values_list("room_id", flat=True)
    return sorted(public.union(member))


def _day_start(day: datetime.date | None) -> datetime.datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def _hits(engine, parsed: Query, ids: list[int]) -> list[SearchHit]:
    if not ids:
        return []
    rows = {
        row[0]: row
        for row in Message.objects.filter(pk__in=ids).values_list(
            "pk", "room__slug", "room__title", "seq", "author__username", "created_at",
            "edited_at", "body",
        )
    }  # fmt: skip
    bodies = [rows[pk][7] for pk in ids if pk in rows]
    marks = _markers(bodies)
    marked = engine.highlight(parsed, list(rows), marks) if parsed.clauses and marks else {}
    hits = []
    for pk in ids:
        if pk not in rows:
            continue  # pruned between the two reads
        _, slug, title, seq, author, created_at, edited_at, body = rows[pk]
        if pk in marked:
            snippet = _segments(marked[pk], *marks)
        elif len(body) <= WHOLE_MESSAGE_CHARS:
            snippet = [(body, False)]
        else:
            snippet = [(body[:WHOLE_MESSAGE_CHARS].rstrip() + "…", False)]
        hits.append(
            SearchHit(
                room=slug,
                room_title=title or slug,
                seq=seq,
                author=author,
                created_at=protocol.timestamp(created_at),
                edited=edited_at is not None,
                snippet=snippet,
            )
        )
    return hits


def _markers(bodies: list[str]) -> tuple[str, str] | None:
    """Two private-use characters found in none of `bodies`: the start and
    stop marks of a match, which no message can then fake."""
    used = set().union(*map(set, bodies))
    code_points = itertools.chain(
        range(0xE000, 0xF900), range(0xF0000, 0xFFFFE), range(0x100000, 0x10FFFE)
    )
    free = (chr(code) for code in code_points if chr(code) not in used)
    start, stop = next(free, None), next(free, None)
    return (start, stop) if stop is not None else None


def _segments(text: str, start: str, stop: str) -> list[tuple[str, bool]]:
    """Split a marked text into (text, is_match) segments, adjacent
    segments of the same kind merged, empty ones left out."""
    segments: list[tuple[str, bool]] = []
    for piece, matched in _pieces(text, start, stop):
        if not piece:
            continue
        if segments and segments[-1][1] == matched:
            segments[-1] = (segments[-1][0] + piece, matched)
        else:
            segments.append((piece, matched))
    return segments


def _pieces(text: str, start: str, stop: str):
    matched = False
    for part in re.split(f"({re.escape(start)}|{re.escape(stop)})", text):
        if part == start:
            matched = True
        elif part == stop:
            matched = False
        else:
            yield part, matched


class _Postgres:
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
    def page_ids(cls, parsed: Query, where: _Where, *, limit: int, offset: int) -> list[int]:
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


class _Sqlite:
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
    def page_ids(cls, parsed: Query, where: _Where, *, limit: int, offset: int) -> list[int]:
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
            raise RoomsError("invalid", "This query cannot be searched.", field="q") from None
        raise


_ENGINES = {"postgresql": _Postgres, "sqlite": _Sqlite}


# --- The index (created by migration 0008) -----------------------------------

SEARCHABLE = "kind = 'text' AND NOT deleted"  # the rows both engines index


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
