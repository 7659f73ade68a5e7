"""How much a page joins (docs/ui.md): the room page watches at most
DIRECT_WATCH_LIMIT of the user's other conversations and the room list joins
at most ROOM_LIST_JOIN_LIMIT rooms, the most recently active first, as the
pages' configs hand them to their scripts; the room list still lists every
room with the server's counts. The scripts' side: tests/js/joins.test.mjs."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from rooms import services
from rooms.models import Message
from rooms.selectors.direct import DIRECT_WATCH_LIMIT
from rooms.selectors.listings import ROOM_LIST_JOIN_LIMIT

pytestmark = pytest.mark.django_db


def page_config(response) -> dict:
    html = response.content.decode()
    start = html.index('id="rooms-config"')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def active_at(room, minutes_ago: int) -> None:
    """A message in `room`, stored `minutes_ago` minutes ago."""
    services.message_post(room=room, author=None, body="news")
    room.refresh_from_db()
    stored = timezone.now() - timedelta(minutes=minutes_ago)
    Message.objects.filter(room=room, seq=room.last_seq).update(created_at=stored)


def test_the_room_page_watches_the_most_recently_active_conversations_up_to_the_limit(
    settings, alice, user_factory, room_factory
):
    settings.ROOMS_CREATE_RATE = None
    conversations = []
    for n in range(DIRECT_WATCH_LIMIT + 5):
        room, _ = services.direct_open(user=alice, others=[user_factory(f"friend-{n:02}")])
        conversations.append(room)
    # Conversation n was last active n minutes ago; the last one has no message.
    *written, started = conversations
    for n, room in enumerate(written):
        active_at(room, minutes_ago=n + 1)
    here = written[3]
    response = signed_in(alice).get(f"/rooms/{here.slug}/")
    config = page_config(response)
    assert config["directLimit"] == DIRECT_WATCH_LIMIT
    watched = [each["slug"] for each in config["direct"]]
    # Just started (no message yet) first, then by the newest message; not this page's own.
    expected = [started.slug] + [room.slug for room in written if room != here]
    assert watched == expected[:DIRECT_WATCH_LIMIT]
    assert here.slug not in watched
    assert config["direct"][1] == {
        "slug": written[0].slug,
        "title": "friend-00",
        "head": 1,
        "level": "all",
    }


def test_the_room_list_joins_the_most_recently_active_rooms_and_lists_them_all(alice, room_factory):
    rooms = [room_factory(f"room-{n:03}") for n in range(ROOM_LIST_JOIN_LIMIT + 10)]
    # Rooms 0 to 104 were active, room n n minutes ago; the last five never.
    for n, room in enumerate(rooms[:-5]):
        active_at(room, minutes_ago=n + 1)
    config = page_config(signed_in(alice).get("/"))
    assert config["joinLimit"] == ROOM_LIST_JOIN_LIMIT
    assert config["join"] == [room.slug for room in rooms[:ROOM_LIST_JOIN_LIMIT]]
    listed = {each["slug"]: each for each in config["rooms"]}
    assert set(listed) == {room.slug for room in rooms}
    # The rooms not joined are still counted, by the server.
    assert listed[rooms[-6].slug]["unread"] == 1 and listed[rooms[-1].slug]["unread"] == 0


def test_rooms_without_messages_are_joined_last_while_there_is_room(alice, room_factory):
    quiet = room_factory("a-quiet")
    busy = room_factory("z-busy")
    active_at(busy, minutes_ago=5)
    assert page_config(signed_in(alice).get("/"))["join"] == [busy.slug, quiet.slug]
