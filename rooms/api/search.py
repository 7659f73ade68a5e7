"""`/api/search`: the messages a user may see that match a query, best
first, one page at a time (docs/search.md). Each search spends from the
user's read budget (rooms/budgets.py)."""

import dataclasses
from typing import Annotated

from ninja import Query, Router, Schema
from pydantic import Field

from .. import budgets, selectors
from ..search import MAX_PAGE, MAX_QUERY_CHARS, parse_date
from .http import Timestamp, answers, stated, url_integer

router = Router(tags=["search"])


class Hit(Schema):
    room: str
    room_title: str
    seq: int
    author: str | None
    created_at: Timestamp
    edited: bool
    snippet: list[tuple[str, bool]] = Field(
        description="The text (or an excerpt) in parts: [text, whether it matched]."
    )
    url: str = Field(description="The message on its room's page.")


class Results(Schema):
    query: str
    page: int
    has_more: bool
    results: list[Hit]


QueryText = Annotated[str, Field(**stated(maxLength=MAX_QUERY_CHARS))]
Day = Annotated[str, Field(**stated(format="date"))]


@router.get("/search", response=answers({200: Results}, 400, 429, 503), summary="Search messages")
def search(
    request,
    q: QueryText = Query("", description="The query (docs/search.md, Syntax)."),
    room: str | None = Query(None, description="Only this room's messages (a slug)."),
    author: str | None = Query(None, alias="from", description="Only this user's messages."),
    after: Day | None = Query(None, description="On or after this day."),
    before: Day | None = Query(None, description="Before this day."),
    page: url_integer(minimum=1, maximum=MAX_PAGE) | None = Query(None, description="From 1."),
):
    """The messages the caller may see that match `q`, best first, 20 a page."""
    budgets.read_spend(user=request.auth)
    dates = {
        name: parse_date(raw, field_name=name, label=name) if raw else None
        for name, raw in (("after", after), ("before", before))
    }
    results = selectors.search_messages(
        user=request.auth,
        query=q,
        room=room or None,
        author=author or None,
        page=page or 1,
        **dates,
    )
    hits = [{**dataclasses.asdict(hit), "url": hit.url} for hit in results.hits]
    return {
        "query": results.query,
        "page": results.page,
        "has_more": results.has_more,
        "results": hits,
    }
