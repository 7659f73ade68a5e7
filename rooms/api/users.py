"""`/api/users`: the user picker's suggestions (direct conversations,
invitations).

Usernames are not secret in a chat where anyone may message anyone, but the
picker is no directory: it answers a prefix of at least MIN_PREFIX
characters with at most selectors.USER_PICKER_LIMIT names and no way to page
past them, and every look-up spends from the user's read budget
(rooms/budgets.py)."""

from ninja import Query, Router, Schema

from .. import budgets, selectors
from .http import answers

router = Router(tags=["users"])

MIN_PREFIX = 2


class Suggestions(Schema):
    users: list[str]


@router.get("/users", response=answers({200: Suggestions}, 429), summary="Suggest usernames")
def users(request, q: str = Query("", description="A prefix of at least 2 characters.")):
    """Active usernames starting with the prefix (any case), sorted, at
    most 20; none for a prefix under 2 characters."""
    budgets.read_spend(user=request.auth)
    prefix = q.strip()[:150]
    if len(prefix) < MIN_PREFIX:
        return {"users": []}
    return {"users": selectors.usernames_starting(prefix=prefix)}
