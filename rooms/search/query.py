"""The search query (docs/search.md, Syntax): what a user types, parsed into
one structure, `Query`, that each engine renders in its own syntax; the
filters (rooms, authors, days) and the limits on a query and its pages.
Nothing here reads the database."""

import datetime
import re
import unicodedata
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext

from ..errors import RoomsError

MAX_QUERY_CHARS = 500
MAX_TERMS = 32  # positive and excluded terms together
MAX_PAGE = 50
MAX_PER_PAGE = 100

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

    def add_room(self, slug: str) -> None:
        """A room is named exactly by its slug: slugs are case-sensitive, as
        stored, here as on the room's page (typed `in:` and the `room`
        argument alike)."""
        self.rooms.add(slug)

    def add_author(self, name: str) -> None:
        """An author by their username in any case, `@` optional."""
        self.authors.add(name.removeprefix("@").lower())

    def limit_dates(self, *, after=None, before=None) -> None:
        """Narrow the date range (filters combine: all must hold)."""
        if after is not None:
            self.after = after if self.after is None else max(self.after, after)
        if before is not None:
            self.before = before if self.before is None else min(self.before, before)

    def require_something(self) -> None:
        """`invalid` (field `q`) for a query, the form's filters included,
        that names neither a word nor a filter."""
        if not self.clauses and not (self.rooms or self.authors or self.after or self.before):
            raise RoomsError(
                "invalid",
                gettext("Search for at least one word, or filter by room, author or date."),
                field="q",
            )


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
        raise RoomsError("invalid", gettext("The query must be text."), field="q")
    if len(text) > MAX_QUERY_CHARS:
        raise RoomsError(
            "invalid",
            gettext("A query may hold at most %(count)d characters.") % {"count": MAX_QUERY_CHARS},
            field="q",
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
            raise RoomsError(
                "invalid",
                gettext("A query may hold at most %(count)d words.") % {"count": MAX_TERMS},
                field="q",
            )
        if negated:
            query.excluded.append(term)
        elif join_next:
            query.clauses[-1].append(term)
        else:
            query.clauses.append([term])
        join_next = False
    return query


def _add_filter(query: Query, name: str, value: str) -> None:
    value = value.strip()
    if name == "author":
        query.add_author(value)
    elif name == "room":
        query.add_room(value)
    else:
        day = parse_date(value, field_name="q", label=f"{name}:")
        if name == "after":
            query.limit_dates(after=day)
        elif name == "before":
            query.limit_dates(before=day)
        else:  # on: that one day
            query.limit_dates(after=day, before=_next_day(day))


# --- Days ---------------------------------------------------------------------


def parse_date(value: str, *, field_name: str, label: str) -> datetime.date:
    """A YYYY-MM-DD day, or RoomsError `invalid` naming `field_name`."""
    try:
        if _DATE.fullmatch(value):
            return datetime.date.fromisoformat(value)
    except ValueError:
        pass
    raise RoomsError(
        "invalid",
        gettext("`%(label)s` takes a date as YYYY-MM-DD.") % {"label": label},
        field=field_name,
    )


def _next_day(day: datetime.date) -> datetime.date | None:
    return None if day == datetime.date.max else day + datetime.timedelta(days=1)


def day_start(day: datetime.date | None) -> datetime.datetime | None:
    """The first instant of `day` in the server's time zone (TIME_ZONE)."""
    if day is None:
        return None
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))
