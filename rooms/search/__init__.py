"""Full-text search of the messages a user may see (docs/search.md).

`search` is the one way in (selectors.search_messages calls it): the query
a user types is parsed into one structure (`query`), rendered for the
database's own full-text engine, PostgreSQL's tsvector or SQLite's FTS5
(`engines`), and each hit's text is shown with its matches marked
(`highlight`). Which rooms the user may see is rooms.access's to say.
"""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.utils.translation import gettext

from .. import protocol
from ..errors import RoomsError
from ..models import Message
from .engines import (
    FTS_TABLE,
    PG_CANDIDATES,
    PG_CONFIG,
    SEARCHABLE,
    Where,
    engine_for,
    sqlite_rebuild,
)
from .highlight import EXCERPT_WORDS, WHOLE_MESSAGE_CHARS, markers, snippet
from .query import (
    FILTER_KEYS,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    Query,
    clean_text,
    parse_date,
    parse_query,
)

__all__ = [
    "EXCERPT_WORDS",
    "FILTER_KEYS",
    "FTS_TABLE",
    "MAX_PAGE",
    "MAX_PER_PAGE",
    "MAX_QUERY_CHARS",
    "MAX_TERMS",
    "PG_CANDIDATES",
    "PG_CONFIG",
    "SEARCHABLE",
    "WHOLE_MESSAGE_CHARS",
    "Query",
    "SearchHit",
    "SearchResults",
    "clean_text",
    "parse_date",
    "parse_query",
    "search",
    "sqlite_rebuild",
]


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
        raise RoomsError(
            "invalid",
            gettext("`page` must be from 1 to %(max)d.") % {"max": MAX_PAGE},
            field="page",
        )
    if not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
        raise RoomsError(
            "invalid", f"`per_page` must be from 1 to {MAX_PER_PAGE}.", field="per_page"
        )
    parsed = parse_query(query)
    if room:
        parsed.add_room(room)
    if author:
        parsed.add_author(author)
    parsed.limit_dates(after=after, before=before)
    # The filters of the form count as much as those typed in the query.
    parsed.require_something()
    empty = SearchResults(query=query, hits=[], page=page, has_more=False)
    where = Where.for_user(user, parsed)
    if where is None:
        return empty
    engine = engine_for(connection.vendor)
    ids = engine.page_ids(parsed, where, limit=per_page + 1, offset=(page - 1) * per_page)
    has_more = len(ids) > per_page
    ids = ids[:per_page]
    return SearchResults(query=query, hits=_hits(engine, parsed, ids), page=page, has_more=has_more)


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
    marks = markers(bodies)
    marked = engine.highlight(parsed, list(rows), marks) if parsed.clauses and marks else {}
    hits = []
    for pk in ids:
        if pk not in rows:
            continue  # pruned between the two reads
        _, slug, title, seq, author, created_at, edited_at, body = rows[pk]
        hits.append(
            SearchHit(
                room=slug,
                room_title=title or slug,
                seq=seq,
                author=author,
                created_at=protocol.timestamp(created_at),
                edited=edited_at is not None,
                snippet=snippet(body, marked.get(pk), marks),
            )
        )
    return hits
