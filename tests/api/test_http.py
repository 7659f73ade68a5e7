"""What every API endpoint shares (rooms/api/http.py): an error's status is
the one its code knows (rooms/errors.py, the table of docs/api.md, Errors),
with its headers, and an unknown path is a JSON 404."""

import json

import pytest
from django.test import Client

from rooms import selectors, services
from rooms.api.http import error_response
from rooms.errors import RoomsError

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("bad_frame", 400),
        ("invalid", 400),
        ("auth_required", 401),
        ("forbidden", 403),
        ("not_found", 404),
        ("read_only", 409),
        ("too_large", 413),
        ("rate_limited", 429),
        ("unavailable", 503),
        ("not_joined", 500),  # a WebSocket-only code reaching HTTP is the server's fault
    ],
)
def test_an_error_answers_with_the_status_of_its_code(code, status):
    response = error_response(RoomsError(code, "Because."))
    assert (response.status_code, json.loads(response.content)) == (
        status,
        {"error": {"code": code, "message": "Because."}},
    )


def test_a_rate_limited_error_says_when_to_retry_in_whole_seconds():
    response = error_response(RoomsError("rate_limited", "Slow down.", retry_after=1.2))
    assert response["Retry-After"] == "2"
    assert json.loads(response.content)["error"]["retry_after"] == 1.2


def test_an_auth_required_error_names_the_bearer_scheme():
    response = error_response(RoomsError("auth_required", "Log in."))
    assert response["WWW-Authenticate"] == 'Bearer realm="rooms"'


def test_an_unknown_path_is_a_json_404(alice):
    token = services.api_token_issue(user=alice)
    response = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/nothing/here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_search_that_cannot_run_is_a_503(alice, monkeypatch):
    def search_messages(**kwargs):
        raise RoomsError("unavailable", "Search does not run on oracle.")

    monkeypatch.setattr(selectors, "search_messages", search_messages)
    token = services.api_token_issue(user=alice)
    response = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/search?q=x")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
