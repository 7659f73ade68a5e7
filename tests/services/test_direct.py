"""Direct conversations (docs/direct-messages.md): services.direct_open (the
same people always get the one room, 2 to 8 active people), what the room
list and the room page show of one, the notification default, the page's
`POST /direct/`, the API's `POST /api/direct` and `GET /api/users`, and the
whole protocol inside one. Creation racing on PostgreSQL:
tests/services/test_direct_postgres.py; the browser: tests/browser/test_direct.py."""

import json

import pytest
from django.test import Client

from rooms import selectors, services
from rooms.access import room_access, room_access_or_404
from rooms.errors import RoomsError
from rooms.models import Membership, Room
from tests.harness.inprocess import post

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol(user_factory):
    return user_factory("carol")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def members_of(room) -> list[tuple[str, str]]:
    rows = Membership.objects.filter(room=room).order_by("user__username")
    return list(rows.values_list("user__username", "role"))


# --- services.direct_open ------------------------------------------------------------


def test_the_same_pair_gets_the_same_room_whoever_starts_it(alice, bob):
    room, created = services.direct_open(user=alice, others=[bob])
    again, created_again = services.direct_open(user=bob, others=[alice])
    assert (created, created_again) == (True, False)
    assert again.pk == room.pk
    assert Room.objects.filter(kind=Room.Kind.DIRECT).count() == 1
    assert room.is_direct and room.is_private
    assert room.direct_key == f"{min(alice.pk, bob.pk)}.{max(alice.pk, bob.pk)}"
    assert room.slug.startswith("dm-")
    assert room.title == "alice, bob"
    assert members_of(room) == [("alice", "member"), ("bob", "member")]


def test_a_group_is_its_own_room_with_a_membership_each(alice, bob, carol):
    pair, _ = services.direct_open(user=alice, others=[bob])
    group, created = services.direct_open(user=carol, others=[bob, alice, bob])
    assert created and group.pk != pair.pk
    assert members_of(group) == [("alice", "member"), ("bob", "member"), ("carol", "member")]
    assert services.direct_open(user=bob, others=[carol, alice])[0].pk == group.pk


def test_up_to_eight_people_and_no_more(alice, user_factory):
    others = [user_factory(f"p{n}") for n in range(8)]
    room, _ = services.direct_open(user=alice, others=others[:7])
    assert Membership.objects.filter(room=room).count() == Room.DIRECT_MAX_PEOPLE
    with pytest.raises(RoomsError) as refused:
        services.direct_open(user=alice, others=others)
    assert (refused.value.code, refused.value.field) == ("invalid", "users")


def test_the_stored_title_of_eight_long_names_fits_its_column(user_factory):
    people = [user_factory(str(n) * 150) for n in range(1, 9)]
    room, _ = services.direct_open(user=people[0], others=people[1:])
    limit = Room._meta.get_field("title").max_length
    assert len(room.title) == limit and room.title.endswith("…")
    assert room.title.startswith("1" * 150 + ", ")
    # The lists name it from the memberships, in full.
    listed = selectors.rooms_for_user(user=people[0])[0]
    assert listed["people"] == [str(n) * 150 for n in range(2, 9)]


@pytest.mark.parametrize("others", [[], ["alice"]])
def test_a_conversation_with_oneself_alone_is_invalid(alice, others):
    with pytest.raises(RoomsError) as refused:
        services.direct_open(user=alice, others=[alice for _ in others])
    assert (refused.value.code, refused.value.field) == ("invalid", "users")
    assert not Room.objects.filter(kind=Room.Kind.DIRECT).exists()


def test_an_inactive_person_is_invalid(alice, user_factory):
    gone = user_factory("gone", is_active=False)
    with pytest.raises(RoomsError) as refused:
        services.direct_open(user=alice, others=[gone])
    assert refused.value.code == "invalid" and "gone" in refused.value.message
    with pytest.raises(RoomsError):
        selectors.users_named(usernames=["gone"])
    with pytest.raises(RoomsError):
        selectors.users_named(usernames=["nobody"])


def test_a_third_person_cannot_see_the_conversation(alice, bob, carol):
    room, _ = services.direct_open(user=alice, others=[bob])
    assert room_access(user=carol, slug=room.slug) is None
    with pytest.raises(RoomsError) as refused:
        room_access_or_404(user=carol, slug=room.slug)
    assert refused.value.code == "not_found"
    assert room.slug not in {each["slug"] for each in selectors.rooms_for_user(user=carol)}
    assert signed_in(carol).get(f"/rooms/{room.slug}/").status_code == 404


def test_room_slugs_starting_with_dm_are_kept_for_direct_conversations():
    for slug in ("dm-mine", "DM-mine"):
        with pytest.raises(RoomsError) as refused:
            services.room_create(slug=slug)
        assert refused.value.field == "slug"
    assert services.room_create(slug="dmz").slug == "dmz"


def test_opening_publishes_an_access_change_for_each_person_after_commit(
    alice, bob, django_capture_on_commit_callbacks, monkeypatch
):
    published = []
    monkeypatch.setattr("rooms.broadcast.publish", published.append)
    with django_capture_on_commit_callbacks(execute=True):
        room, _ = services.direct_open(user=alice, others=[bob])
    changed = sorted((event.user_id, event.room_id) for event in published)
    assert changed == sorted([(alice.pk, room.pk), (bob.pk, room.pk)])
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.direct_open(user=bob, others=[alice])
    assert published == []


# --- what the pages read ---------------------------------------------------------------


def test_the_room_list_names_a_conversation_after_the_other_people(alice, bob, carol, lobby):
    pair, _ = services.direct_open(user=alice, others=[bob])
    group, _ = services.direct_open(user=alice, others=[bob, carol])
    listed = {each["slug"]: each for each in selectors.rooms_for_user(user=bob)}
    assert listed["lobby"]["kind"] == "room" and "people" not in listed["lobby"]
    assert (listed[pair.slug]["kind"], listed[pair.slug]["title"]) == ("direct", "alice")
    assert listed[pair.slug]["people"] == ["alice"]
    assert listed[group.slug]["people"] == ["alice", "carol"]
    assert listed[group.slug]["title"] == "alice, carol"


def test_the_room_list_page_shows_direct_messages_apart(alice, bob, lobby):
    room, _ = services.direct_open(user=alice, others=[bob])
    services.message_post(room=room, author=alice, body="hello bob", check_rate=False)
    page = signed_in(bob).get("/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Direct messages" in html and 'id="direct-new"' in html
    rooms, direct = html.split('data-room-section="direct"')
    assert 'data-room="lobby"' in rooms and room.slug not in rooms
    assert f'data-room="{room.slug}"' in direct and 'data-kind="direct"' in direct
    assert [each["title"] for each in page.context["direct_rooms"]] == ["alice"]
    assert page.context["direct_rooms"][0]["unread"] == 1


def test_the_room_page_of_a_conversation_is_named_after_the_others(alice, bob):
    room, _ = services.direct_open(user=alice, others=[bob])
    page = signed_in(bob).get(f"/rooms/{room.slug}/")
    config = page.context["config"]
    assert (config["room"]["kind"], config["room"]["people"]) == ("direct", ["alice"])
    assert config["room"]["title"] == "alice"
    assert '<span id="room-title">alice</span>' in page.content.decode()


def test_a_direct_conversation_notifies_of_every_message_by_default(alice, bob, lobby):
    room, _ = services.direct_open(user=alice, others=[bob])
    assert selectors.notification_level(user=bob, room_id=room.id) == "all"
    assert selectors.notification_level(user=bob, room_id=lobby.id) == "mentions"
    assert selectors.notification_levels(user=bob) == {room.slug: "all"}
    access = room_access(user=bob, slug=room.slug)
    services.notification_level_set(user=bob, room=access, level="mentions")
    assert selectors.notification_level(user=bob, room_id=room.id) == "mentions"
    assert selectors.notification_levels(user=bob) == {}
    assert signed_in(alice).get(f"/rooms/{room.slug}/").context["config"]["notify"] == "all"
    assert signed_in(alice).get("/").context["config"]["notify"] == {room.slug: "all"}
    level = signed_in(alice).get(f"/api/rooms/{room.slug}/notifications").json()["level"]
    assert level == "all"


def test_every_room_page_lists_the_users_other_conversations_to_watch(alice, bob, carol, lobby):
    with_bob, _ = services.direct_open(user=alice, others=[bob])
    with_both, _ = services.direct_open(user=alice, others=[bob, carol])
    services.message_post(room=with_bob, author=bob, body="hi alice")
    access = room_access(user=alice, slug=with_both.slug)
    services.notification_level_set(user=alice, room=access, level="none")
    watched = signed_in(alice).get("/rooms/lobby/").context["config"]["direct"]
    assert sorted(watched, key=lambda each: each["title"]) == [
        {"slug": with_bob.slug, "title": "bob", "head": 1, "level": "all"},
        {"slug": with_both.slug, "title": "bob, carol", "head": 0, "level": "none"},
    ]
    # In a conversation, the page watches the others, not itself.
    in_one = signed_in(alice).get(f"/rooms/{with_bob.slug}/").context["config"]["direct"]
    assert [each["slug"] for each in in_one] == [with_both.slug]
    assert signed_in(carol).get("/rooms/lobby/").context["config"]["direct"] == [
        {"slug": with_both.slug, "title": "alice, bob", "head": 0, "level": "all"}
    ]


# --- POST /direct/ ----------------------------------------------------------------------


def test_post_direct_redirects_to_the_conversation(alice, bob, carol):
    client = signed_in(alice)
    response = client.post("/direct/", {"users": "bob"})
    room = Room.objects.get(kind=Room.Kind.DIRECT)
    assert response.status_code == 302 and response["Location"] == f"/rooms/{room.slug}/"
    assert client.post("/direct/", {"users": "@bob"})["Location"] == f"/rooms/{room.slug}/"
    group = client.post("/direct/", {"users": "carol, bob"})
    assert group.status_code == 302
    again = client.post("/direct/", {"users": ["bob", "carol"]})
    assert again["Location"] == group["Location"] != response["Location"]


@pytest.mark.parametrize(
    "users", ["", "   ", "nobody", "alice", "bob nobody", " ".join(f"u{n}" for n in range(9))]
)
def test_post_direct_with_bad_names_shows_the_list_with_an_error(alice, bob, users):
    response = signed_in(alice).post("/direct/", {"users": users})
    assert response.status_code == 400
    assert response.context["direct_error"]
    assert 'id="direct-error"' in response.content.decode()
    assert not Room.objects.filter(kind=Room.Kind.DIRECT).exists()


def test_post_direct_needs_a_login_a_post_and_the_csrf_token(alice, bob):
    assert Client().post("/direct/", {"users": "bob"}).status_code == 302  # to the login
    assert signed_in(alice).get("/direct/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post("/direct/", {"users": "bob"}).status_code == 403


# --- the API ----------------------------------------------------------------------------


@pytest.fixture
def api(alice):
    token = services.api_token_issue(user=alice)
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})


def api_direct(client, payload):
    return client.post("/api/direct", json.dumps(payload), content_type="application/json")


def test_api_direct_creates_once_then_finds(api, alice, bob, carol):
    created = api_direct(api, {"users": ["bob"]})
    assert created.status_code == 201
    room = Room.objects.get(kind=Room.Kind.DIRECT)
    assert created.json() == {"room": room.slug, "people": ["alice", "bob"]}
    found = api_direct(api, {"users": ["bob", "alice"]})
    assert (found.status_code, found.json()["room"]) == (200, room.slug)
    group = api_direct(api, {"users": ["carol", "bob"]})
    assert group.status_code == 201 and group.json()["people"] == ["alice", "bob", "carol"]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"users": "bob"},
        {"users": []},
        {"users": [1]},
        {"users": [""]},
        {"users": ["nobody"]},
        {"users": ["alice"]},
        {"users": [f"u{n}" for n in range(8)]},
    ],
)
def test_api_direct_refuses_what_is_not_a_conversation(api, bob, payload):
    response = api_direct(api, payload)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid"
    assert not Room.objects.filter(kind=Room.Kind.DIRECT).exists()


def test_api_direct_needs_authentication_and_csrf_for_a_session(alice, bob):
    assert api_direct(Client(), {"users": ["bob"]}).status_code == 401
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert api_direct(strict, {"users": ["bob"]}).status_code == 403
    assert Client().get("/api/direct").status_code == 405


def test_api_users_lists_active_usernames_by_prefix(api, alice, bob, user_factory):
    user_factory("bobby")
    user_factory("Bobcat")
    user_factory("bo-gone", is_active=False)
    assert api.get("/api/users?q=bo").json() == {"users": ["Bobcat", "bob", "bobby"]}
    assert api.get("/api/users?q=alice").json() == {"users": ["alice"]}
    assert api.get("/api/users?q=zz").json() == {"users": []}
    for n in range(25):
        user_factory(f"many{n:02}")
    assert len(api.get("/api/users?q=many").json()["users"]) == 20
    assert Client().get("/api/users?q=bo").status_code == 401


# --- the protocol inside a conversation ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_the_whole_protocol_works_in_a_direct_conversation(clients, alice, bob, carol):
    from channels.db import database_sync_to_async

    room, _ = await database_sync_to_async(services.direct_open)(user=alice, others=[bob])
    await post(room.slug, "before", author=alice)
    bobs = await clients.connect(bob)
    joined = await bobs.join(room.slug, since=0)
    assert (joined["head"], joined["read_only"], joined["title"]) == (1, False, "alice, bob")
    assert [m["body"] for m in await bobs.stream(room.slug, 1)] == ["before"]
    alices = await clients.connect(alice)
    await alices.join(room.slug, since=1)
    await alices.send({"type": "send", "room": room.slug, "body": "hi @bob", "client_id": "dm-1"})
    ack = await alices.next_of("ack", skip=("backfill", "message"))
    assert ack["seq"] == 2
    (message,) = await bobs.stream(room.slug, 2)
    assert (message["author"], message["body"]) == ("alice", "hi @bob")
    # The mention is recorded as in any room: bob's list counts it.
    listed = await database_sync_to_async(selectors.rooms_for_user)(user=bob)
    assert [(each["unread"], each["mentions"]) for each in listed] == [(2, 1)]
    await bobs.send({"type": "history", "room": room.slug, "before": 3, "limit": 10})
    history = await bobs.next_of("history")
    assert [m["body"] for m in history["messages"]] == ["before", "hi @bob"]
    carols = await clients.connect(carol)
    await carols.error({"type": "join", "room": room.slug}, "not_found")
