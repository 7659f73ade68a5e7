"""Searching messages: the selector the search page and the API call. The
query language and the engines are rooms/search/'s; which rooms a user may
search is rooms/access.py's."""

from datetime import date

from django.contrib.auth.models import AbstractBaseUser

from .. import search
from ..search import SearchHit, SearchResults

__all__ = ["SearchHit", "SearchResults", "search_messages"]


def search_messages(
    *,
    user: AbstractBaseUser,
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
