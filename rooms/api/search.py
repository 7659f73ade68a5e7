"""`/api/search`: the messages a user may see that match a query, best
first, one page at a time (docs/search.md). Each search spends from the
user's read budget (rooms/budgets.py)."""

import dataclasses

from .. import budgets, selectors
from ..search import MAX_PAGE, parse_date
from .http import dumps, endpoint, int_param, json_response


@endpoint("GET")
def search(request, user):
    """GET /api/search?q=…&room=&from=&after=&before=&page=."""
    budgets.read_spend(user=user)
    dates = {}
    for name in ("after", "before"):
        raw = request.GET.get(name) or None
        dates[name] = None if raw is None else parse_date(raw, field_name=name, label=name)
    results = selectors.search_messages(
        user=user,
        query=request.GET.get("q", ""),
        room=request.GET.get("room") or None,
        author=request.GET.get("from") or None,
        page=int_param(request, "page", minimum=1, maximum=MAX_PAGE) or 1,
        **dates,
    )
    hits = [
        {**dataclasses.asdict(hit), "snippet": [list(part) for part in hit.snippet], "url": hit.url}
        for hit in results.hits
    ]
    return json_response(
        dumps(
            {
                "query": results.query,
                "page": results.page,
                "has_more": results.has_more,
                "results": hits,
            }
        )
    )
