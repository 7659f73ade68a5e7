"""GET /api/search (docs/search.md, API): authentication, the JSON shape,
paging, filters as parameters, and a 400 with its field, never a 500, for
any query string. The search itself: tests/search/test_engines.py.
"""

from urllib.parse import quote

import pytest
from django.test import Client

from rooms import services

pytestmark = pytest.mark.django_db

URL = "/api/search"


@pytest.fixture
def api(alice):
    token = services.api_token_issue(user=alice)
    return Client(headers={"Authorization": f"Bearer {token}"})


def post(room, author, body) -> int:
    return services.message_post(room=room, author=author, body=body, check_rate=False).seq


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()["error"]


def test_search_needs_a_token_or_a_session(lobby):
    assert error_of(Client().get(URL, {"q": "x"}), 401)["code"] == "auth_required"


def test_a_session_may_search(client, alice, lobby):
    post(lobby, alice, "session search")
    client.force_login(alice)
    response = client.get(URL, {"q": "session"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_only_get(api):
    response = api.post(URL, {"q": "x"})
    assert response.status_code == 405 and response["Allow"] == "GET"


def test_the_json_shape(api, alice, lobby):
    seq = post(lobby, alice, "hello search world")
    response = api.get(URL, {"q": "search"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = response.json()
    assert (body["query"], body["page"], body["has_more"]) == ("search", 1, False)
    (hit,) = body["results"]
    assert hit.pop("created_at").endswith("Z")
    assert hit == {
        "room": "lobby",
        "room_title": "Lobby",
        "seq": seq,
        "author": "alice",
        "edited": False,
        "snippet": [["hello ", False], ["search", True], [" world", False]],
        "url": f"/rooms/lobby/#seq-{seq}",
    }


def test_pages(api, alice, lobby):
    for n in range(25):
        post(lobby, alice, f"paged {n}")
    first = api.get(URL, {"q": "paged"}).json()
    second = api.get(URL, {"q": "paged", "page": "2"}).json()
    assert (len(first["results"]), first["has_more"]) == (20, True)
    assert (len(second["results"]), second["has_more"], second["page"]) == (5, False, 2)
    seqs = {hit["seq"] for page in (first, second) for hit in page["results"]}
    assert len(seqs) == 25


def test_filters_as_parameters(api, alice, bob, lobby, room_factory):
    other = room_factory("other")
    post(lobby, alice, "report one")
    post(lobby, bob, "report two")
    there = post(other, bob, "report three")
    found = api.get(URL, {"q": "report", "room": "other", "from": "bob"}).json()["results"]
    assert [(hit["room"], hit["seq"]) for hit in found] == [("other", there)]
    assert api.get(URL, {"q": "report", "after": "2000-01-01"}).json()["results"]
    assert api.get(URL, {"q": "report", "before": "2000-01-01"}).json()["results"] == []


def test_the_room_parameter_takes_a_slug_with_capitals(api, alice, room_factory):
    camel = room_factory("CamelRoom")
    seq = post(camel, alice, "humps ahead")
    found = api.get(URL, {"q": "humps", "room": "CamelRoom"}).json()["results"]
    assert [(hit["room"], hit["seq"]) for hit in found] == [("CamelRoom", seq)]


def test_a_private_room_stays_hidden(api, bob, room_factory):
    secret = room_factory("secret", is_private=True, members=[bob])
    post(secret, bob, "classified")
    assert api.get(URL, {"q": "classified"}).json()["results"] == []
    assert api.get(URL, {"q": "classified", "room": "secret"}).json()["results"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "x" * 10_000}, "q"),
        ({"q": "x" * 501}, "q"),
        ({"q": "after:2026-99-01 x"}, "q"),
        ({"q": "x", "after": "yesterday"}, "after"),
        ({"q": "x", "before": "2026-02-30"}, "before"),
        ({"q": "x", "page": "0"}, "page"),
        ({"q": "x", "page": "51"}, "page"),
        ({"q": "x", "page": "two"}, "page"),
        ({"q": "x", "page": "9" * 5000}, "page"),
    ],
)
def test_bad_parameters_are_400_with_their_field(api, params, field):
    error = error_of(api.get(URL, params), 400)
    assert (error["code"], error["field"]) == ("invalid", field)


@pytest.mark.parametrize(
    "raw",
    [
        "%00",
        "foo%00bar",
        "%ED%A0%80",  # a UTF-8 encoded lone surrogate
        "%FF%FE",  # not UTF-8
        quote('NEAR( "a * b ^ c : OR AND NOT'),
        quote("a & b | !c <-> d"),
        quote("x" * 10_000),
        quote("🙂" * 200),
        "from%3A%00",
        "in%3A%2F..%2F",
    ],
)
def test_any_query_string_gives_200_or_400(api, alice, lobby, raw):
    post(lobby, alice, "foo bar")
    response = api.get(f"{URL}?q={raw}&room={raw}&from={raw}")
    assert response.status_code in (200, 400), response.content
    assert response["Content-Type"] == "application/json"
