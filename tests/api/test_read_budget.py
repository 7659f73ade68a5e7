"""The read budget (ROOMS_READ_RATE, docs/security.md, Limits) on the API's
reads that cost the most: `/api/search` and the user picker `/api/users`
share one budget per user, and past it answer `429 rate_limited` with
`retry_after` and `Retry-After`. Through Redis the budget holds across worker
processes. The search page's side: tests/web/test_search.py."""

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from django.test import Client

from rooms import services

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def api_of(user) -> Client:
    token = services.api_token_issue(user=user)
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def api(alice):
    return api_of(alice)


def rate_limited(response) -> float:
    """The `retry_after` of a 429, checked against its Retry-After header."""
    assert response.status_code == 429, response.content
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert 0 < error["retry_after"] <= 60
    assert int(response["Retry-After"]) >= error["retry_after"]
    return error["retry_after"]


def test_searches_past_the_budget_answer_429_with_retry_after(api, lobby, settings):
    settings.ROOMS_READ_RATE = (3, 60.0)
    assert [api.get("/api/search", {"q": "hello"}).status_code for _ in range(3)] == [200] * 3
    rate_limited(api.get("/api/search", {"q": "hello"}))


def test_the_user_picker_past_the_budget_answers_429(api, settings):
    settings.ROOMS_READ_RATE = (3, 60.0)
    assert [api.get("/api/users", {"q": "al"}).status_code for _ in range(3)] == [200] * 3
    rate_limited(api.get("/api/users", {"q": "al"}))


def test_search_and_the_picker_share_one_budget_per_user(api, bob, lobby, settings):
    settings.ROOMS_READ_RATE = (4, 60.0)
    for _ in range(2):
        assert api.get("/api/search", {"q": "hello"}).status_code == 200
        assert api.get("/api/users", {"q": "bo"}).status_code == 200
    rate_limited(api.get("/api/users", {"q": "bo"}))
    rate_limited(api.get("/api/search", {"q": "hello"}))
    # Another user's budget is their own.
    assert api_of(bob).get("/api/users", {"q": "al"}).status_code == 200


def test_a_session_is_counted_like_a_token(client, alice, settings):
    settings.ROOMS_READ_RATE = (1, 60.0)
    client.force_login(alice)
    assert client.get("/api/users", {"q": "al"}).status_code == 200
    rate_limited(client.get("/api/users", {"q": "al"}))


def test_the_budget_renews_in_the_next_window(api, settings, monkeypatch):
    settings.ROOMS_READ_RATE = (1, 60.0)
    now = [16_666 * 60 + 40.0]  # 20 seconds before a window ends
    monkeypatch.setattr("rooms.budgets.clock", lambda: now[0])
    assert api.get("/api/users", {"q": "al"}).status_code == 200
    assert rate_limited(api.get("/api/users", {"q": "al"})) == 20
    now[0] += 20
    assert api.get("/api/users", {"q": "al"}).status_code == 200


def test_off_counts_nothing(api, settings):
    settings.ROOMS_READ_RATE = None
    assert {api.get("/api/users", {"q": "al"}).status_code for _ in range(200)} == {200}


# Spends the budget of user 7 (no database needed) N times; prints how many
# were granted.
SPENDER = textwrap.dedent(
    """
    import sys, types
    import django
    django.setup()
    from rooms import budgets
    from rooms.errors import RoomsError
    granted = 0
    for _ in range(int(sys.argv[1])):
        try:
            budgets.read_spend(user=types.SimpleNamespace(pk=7))
        except RoomsError:
            continue
        granted += 1
    print(granted)
    """
)


def test_through_redis_the_budget_holds_across_worker_processes(redis_url):
    """Three processes, each with its own connection, spend one user's budget
    at once: together they get exactly the budget, not three budgets (an
    atomic increment per user and window)."""
    prefix = f"rooms-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "REDIS_URL": redis_url,
        "ROOMS_REDIS_PREFIX": prefix,
        # A day's window: the test does not straddle two windows.
        "ROOMS_READ_RATE": "25/86400",
    }
    spenders = [
        subprocess.Popen(
            [sys.executable, "-c", SPENDER, "20"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        outputs = [spender.communicate(timeout=60) for spender in spenders]
        assert all(spender.returncode == 0 for spender in spenders), outputs
        assert sum(int(out) for out, _ in outputs) == 25
    finally:
        import redis

        connection = redis.Redis.from_url(redis_url)
        keys = list(connection.scan_iter(match=f"{prefix}*"))
        if keys:
            connection.delete(*keys)
