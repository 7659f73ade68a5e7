"""`/api/users`: the user picker's suggestions (direct conversations,
invitations).

Usernames are not secret in a chat where anyone may message anyone, but the
picker is no directory: it answers a prefix of at least MIN_PREFIX
characters with at most selectors.USER_PICKER_LIMIT names and no way to page
past them, and every look-up spends from the user's read budget
(rooms/budgets.py)."""

from .. import budgets, selectors
from .http import dumps, endpoint, json_response

MIN_PREFIX = 2


@endpoint("GET")
def users(request, user):
    """GET /api/users?q=prefix: active usernames starting with the prefix
    (any case), sorted, at most 20; none for a prefix under 2 characters."""
    budgets.read_spend(user=user)
    prefix = request.GET.get("q", "").strip()[:150]
    if len(prefix) < MIN_PREFIX:
        return json_response(dumps({"users": []}))
    return json_response(dumps({"users": selectors.usernames_starting(prefix=prefix)}))
