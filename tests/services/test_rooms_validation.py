"""One validation of a room's title for every way in (docs/room-management.md):
at most 200 characters, no control characters, `invalid` on field `title`,
whether the room is made or changed by a person (the pages, the API) or an
operator (the admin, `createroom`)."""

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from rooms import services
from rooms.errors import RoomsError
from rooms.models import Room

pytestmark = pytest.mark.django_db

TOO_LONG = "t" * 201
BAD_TITLES = [
    TOO_LONG,
    "two\nlines",
    "a\x00b",
    "bell\x07",
    "tab\there",
    "esc\x1b[31m",
    "c1\x85x",
    "\ud800",
]


@pytest.fixture
def team(alice):
    return services.room_create_by(by=alice, slug="team", title="Team")


def refused_title(call, **kwargs) -> RoomsError:
    with pytest.raises(RoomsError) as caught:
        call(**kwargs)
    assert (caught.value.code, caught.value.field) == ("invalid", "title"), caught.value.message
    return caught.value


@pytest.mark.parametrize("title", BAD_TITLES)
def test_every_way_to_make_a_room_refuses_a_bad_title(alice, title):
    refused_title(services.room_create, slug="x", title=title)
    refused_title(services.room_create_by, by=alice, slug="x", title=title)
    refused_title(services.room_create_or_update, slug="x", title=title)
    assert not Room.objects.filter(slug="x").exists()


@pytest.mark.parametrize("title", BAD_TITLES)
def test_every_way_to_rename_a_room_refuses_a_bad_title(alice, team, title):
    refused_title(services.room_update, room=team, title=title)
    refused_title(services.room_update_by, room=team, by=alice, title=title)
    refused_title(services.room_create_or_update, slug="team", title=title)
    assert Room.objects.get(slug="team").title == "Team"


def test_a_title_of_200_characters_with_any_letters_is_kept(alice, team):
    title = "é🙂" * 100
    assert services.room_create(slug="x", title=title).title == title
    services.room_update(room=team, title="  Spaced  ")
    assert Room.objects.get(slug="team").title == "Spaced"


def test_createroom_refuses_a_long_title_as_a_command_error():
    with pytest.raises(CommandError, match="200 characters"):
        call_command("createroom", "team", "--title", TOO_LONG)
    assert not Room.objects.filter(slug="team").exists()


def test_createroom_refuses_a_control_character_in_a_title(team):
    with pytest.raises(CommandError, match="control characters"):
        call_command("createroom", "team", "--title", "bad\x1btitle")
    assert Room.objects.get(slug="team").title == "Team"


def test_the_api_and_the_room_list_refuse_a_control_character_the_same_way(alice):
    api = Client(headers={"Authorization": f"Bearer {services.api_token_issue(user=alice)}"})
    answer = api.post(
        "/api/rooms/", {"slug": "x", "title": "bell\x07"}, content_type="application/json"
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == "title"
    page = Client()
    page.force_login(alice)
    answer = page.post("/", {"title": "bell\x07", "slug": "x"})
    assert answer.status_code == 400
    assert b"control characters" in answer.content
    assert not Room.objects.filter(slug="x").exists()
