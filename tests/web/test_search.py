"""The search page (/search/) through Django's test client: login, hits with
their matches marked and linking to the message in its room, what users
wrote shown as text, a bad query answered with 400, the filters and paging.
The search itself is tested in tests/search/test_engines.py; opening a result in the
browser in tests/browser/test_search.py."""

import datetime
import re

import pytest

from rooms import selectors, services
from rooms.errors import RoomsError

pytestmark = pytest.mark.django_db


def post(room, author, body) -> int:
    return services.message_post(room=room, author=author, body=body, check_rate=False).seq


def hits(response) -> list[str]:
    """The hrefs of the result links, in order."""
    return re.findall(r'class="search-hit-link" href="([^"]+)"', response.content.decode())


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def test_search_page_requires_login(client):
    response = client.get("/search/?q=hello")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_every_signed_in_page_has_the_search_box(signed_in, lobby):
    for url in ("/", f"/rooms/{lobby.slug}/"):
        html = signed_in.get(url).content.decode()
        assert 'role="search"' in html and 'action="/search/"' in html
        assert '<label for="search-q" class="sr-only">Search messages</label>' in html
    room_page = signed_in.get(f"/rooms/{lobby.slug}/").content.decode()
    assert f'name="room" value="{lobby.slug}"' in room_page  # "this room only"


def test_blank_search_shows_the_form_without_results(signed_in):
    response = signed_in.get("/search/")
    assert response.status_code == 200
    assert b"search-hits" not in response.content
    assert b'id="search-q"' in response.content


def test_hits_link_to_the_message_in_its_room_with_matches_marked(signed_in, alice, lobby):
    post(lobby, alice, "nothing to see")
    seq = post(lobby, alice, "the rocket launches on Tuesday")
    response = signed_in.get("/search/?q=rocket")
    assert response.status_code == 200
    assert hits(response) == [f"/rooms/{lobby.slug}/#seq-{seq}"]
    html = response.content.decode()
    assert "<mark>rocket</mark>" in html
    stored = lobby.messages.get(seq=seq).created_at
    assert "Lobby" in html and f'datetime="{stored:%Y-%m-%d}' in html
    assert 'value="rocket"' in html  # the query stays in the box


def test_what_users_wrote_is_shown_as_text(signed_in, alice, lobby):
    post(lobby, alice, "<script>alert('rocket')</script> <b>rocket</b>")
    html = signed_in.get("/search/?q=rocket").content.decode()
    assert "<script>alert" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(" in html
    assert "&lt;b&gt;<mark>rocket</mark>&lt;/b&gt;" in html


def test_no_match_says_so(signed_in, alice, lobby):
    post(lobby, alice, "hello")
    response = signed_in.get("/search/?q=zeppelin")
    assert response.status_code == 200
    assert hits(response) == []
    assert b"No messages match" in response.content


def test_bad_query_is_a_400_with_the_reason(signed_in):
    response = signed_in.get("/search/?q=after:someday")
    assert response.status_code == 400
    assert b"YYYY-MM-DD" in response.content
    assert b'role="alert"' in response.content


def test_bad_filter_values_are_a_400(signed_in, lobby):
    for params in ("q=x&after=31/01/2025", "q=x&room=no-such-room", "q=x&page=0", "q=x&page=99"):
        assert signed_in.get(f"/search/?{params}").status_code == 400, params


def test_filters_combine_with_the_query(signed_in, alice, bob, lobby, room_factory):
    other = room_factory("garden", title="Garden")
    mine = post(lobby, alice, "rocket one")
    post(lobby, bob, "rocket two")
    post(other, alice, "rocket three")
    response = signed_in.get(f"/search/?q=rocket&room={lobby.slug}&author=alice")
    assert hits(response) == [f"/rooms/{lobby.slug}/#seq-{mine}"]
    html = response.content.decode()
    assert f'<option value="{lobby.slug}" selected>Lobby</option>' in html
    assert '<option value="garden">Garden</option>' in html


def test_filters_reach_the_selector_as_typed_values(signed_in, alice, monkeypatch):
    calls = []

    def search_messages(**kwargs):
        calls.append(kwargs)
        return selectors.SearchResults(query=kwargs["query"], hits=[], page=2, has_more=False)

    monkeypatch.setattr(selectors, "search_messages", search_messages)
    signed_in.get("/search/?q=moon&author=%40bob&after=2025-01-02&before=2025-02-03&page=2")
    assert calls == [
        {
            "user": alice,
            "query": "moon",
            "room": None,
            "author": "@bob",
            "after": datetime.date(2025, 1, 2),
            "before": datetime.date(2025, 2, 3),
            "page": 2,
        }
    ]


def test_private_rooms_of_others_are_neither_searched_nor_offered(signed_in, bob, room_factory):
    secret = room_factory("secret", title="Secret", is_private=True, members=[bob])
    post(secret, bob, "rocket plans")
    response = signed_in.get("/search/?q=rocket")
    assert hits(response) == []
    assert b'value="secret"' not in response.content


def test_pages_link_to_each_other_keeping_the_search(signed_in, alice, lobby):
    for n in range(25):
        post(lobby, alice, f"rocket number {n}")
    first = signed_in.get(f"/search/?q=rocket&room={lobby.slug}")
    assert len(hits(first)) == 20
    html = first.content.decode()
    assert 'rel="prev"' not in html
    next_url = re.search(r'href="(\?[^"]+)" rel="next"', html)[1].replace("&amp;", "&")
    assert "q=rocket" in next_url and f"room={lobby.slug}" in next_url and "page=2" in next_url

    second = signed_in.get("/search/" + next_url)
    assert len(hits(second)) == 5
    assert not set(hits(second)) & set(hits(first))
    html = second.content.decode()
    assert 'rel="prev"' in html and 'rel="next"' not in html


def test_a_search_that_cannot_run_is_a_503_with_the_reason(signed_in, monkeypatch):
    def search_messages(**kwargs):
        raise RoomsError("unavailable", "Search does not run on oracle.")

    monkeypatch.setattr(selectors, "search_messages", search_messages)
    response = signed_in.get("/search/?q=moon")
    assert response.status_code == 503
    assert "Search does not run on oracle." in response.content.decode()


def test_searches_past_the_read_budget_are_a_429_saying_when_to_retry(signed_in, lobby, settings):
    """The page shares the API's read budget (ROOMS_READ_RATE): the form
    stays, with the reason; a blank form runs no search and costs nothing."""
    settings.ROOMS_READ_RATE = (2, 60.0)
    assert signed_in.get("/search/").status_code == 200
    assert [signed_in.get("/search/?q=hello").status_code for _ in range(2)] == [200, 200]
    response = signed_in.get("/search/?q=hello")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    html = response.content.decode()
    assert 'name="q"' in html and "At most 2 searches" in html
    assert signed_in.get("/api/users", {"q": "al"}).status_code == 429  # the same budget
