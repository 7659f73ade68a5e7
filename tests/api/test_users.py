"""GET /api/users, the user picker (docs/direct-messages.md): suggestions
only from a prefix of two characters or more, at most USER_PICKER_LIMIT of
them, and no way to page past them, so the picker cannot list every username.
What it suggests (active users, any case, sorted): tests/services/test_direct.py.
Its share of the read budget: tests/api/test_read_budget.py."""

import pytest
from django.test import Client

from rooms import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(alice):
    token = services.api_token_issue(user=alice)
    return Client(headers={"Authorization": f"Bearer {token}"})


def suggested(api, **params) -> list[str]:
    response = api.get("/api/users", params)
    assert response.status_code == 200, response.content
    return response.json()["users"]


def test_an_empty_or_one_character_prefix_suggests_nobody(api, bob, user_factory):
    user_factory("bobby")
    assert suggested(api) == []
    assert suggested(api, q="") == []
    assert suggested(api, q="b") == []
    assert suggested(api, q=" b ") == []
    assert suggested(api, q="bo") == ["bob", "bobby"]


def test_suggestions_are_capped_and_cannot_be_paged(api, user_factory):
    for n in range(selectors.USER_PICKER_LIMIT + 5):
        user_factory(f"many{n:02}")
    first = suggested(api, q="ma")
    assert len(first) == selectors.USER_PICKER_LIMIT
    # No parameter reaches past the cap.
    for params in ({"page": "2"}, {"offset": "20"}, {"limit": "1000"}, {"after": first[-1]}):
        assert suggested(api, q="ma", **params) == first
