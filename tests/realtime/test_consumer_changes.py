"""The change frames (`edit`, `delete`, `react`) and `send` with `reply_to`
through the real ASGI application: acks, the entries every joined socket
receives, the error frames of each rule in the protocol's precedence (a
private room reveals nothing), and the parse errors of their fields.
"""

import pytest
from channels.db import database_sync_to_async

from rooms import services
from rooms.models import Membership, Room
from tests.harness.inprocess import post, until_live

pytestmark = pytest.mark.django_db(transaction=True)

BASE_FIELDS = {"seq", "room", "kind", "author", "created_at", "client_id"}
MESSAGE_FIELDS = BASE_FIELDS | {"body", "reply_to", "edited_at", "deleted", "reactions"}


@pytest.fixture
def carol(user_factory):
    return user_factory("carol")


@database_sync_to_async
def set_role(user, room, role) -> None:
    services.membership_set_role(room=Room.objects.get(slug=room), user=user, role=role)


@database_sync_to_async
def archive(room: str) -> None:
    services.room_update(room=Room.objects.get(slug=room), is_archived=True)


@database_sync_to_async
def change(room: str, author, kind: str, target: int, **fields) -> int:
    """A change stored from outside the socket; its seq."""
    return services.entry_post(
        room=Room.objects.get(slug=room),
        author=author,
        kind=kind,
        target=target,
        check_rate=False,
        **fields,
    ).seq


@database_sync_to_async
def head(room: str) -> int:
    return Room.objects.values_list("last_seq", flat=True).get(slug=room)


async def joined_live(clients, room: str, *users) -> list:
    """A socket per user, joined to `room` at its head, live."""
    sockets = [await clients.connect(user) for user in users]
    start = await head(room)
    for socket in sockets:
        await socket.join(room, since=start)
    await until_live(room)
    return sockets


async def ack_and_entry(client) -> tuple[dict, dict]:
    """The writer's `ack` and its own `message` frame (in either order),
    each exactly once."""
    frames = {}
    while not {"ack", "message"} <= frames.keys():
        frame = await client.recv()
        assert frame["type"] in ("ack", "message", "presence"), frame
        assert frame["type"] not in frames, f"a second {frame['type']}: {frame}"
        if frame["type"] != "presence":
            frames[frame["type"]] = frame
    return frames["ack"], frames["message"]


# --- acks and broadcasts ---------------------------------------------------------------------

# (writer, frame, what the entry holds besides seq, room, author, created_at, client_id)
WRITES = {
    "edit": (
        "alice",
        {"type": "edit", "seq": 1, "body": "fixed"},
        {"kind": "edit", "target": 1, "body": "fixed"},
    ),
    "delete by its author": (
        "alice",
        {"type": "delete", "seq": 1},
        {"kind": "delete", "target": 1},
    ),
    "delete by a moderator": ("bob", {"type": "delete", "seq": 1}, {"kind": "delete", "target": 1}),
    "react": (
        "carol",
        {"type": "react", "seq": 1, "emoji": "🎉"},
        {"kind": "reaction", "target": 1, "emoji": "🎉", "on": True},
    ),
    "react off": (
        "carol",
        {"type": "react", "seq": 1, "emoji": "🎉", "on": False},
        {"kind": "reaction", "target": 1, "emoji": "🎉", "on": False},
    ),
    "reply": (
        "carol",
        {"type": "send", "body": "me too", "reply_to": 1},
        {
            "kind": "text",
            "body": "me too",
            "reply_to": 1,
            "edited_at": None,
            "deleted": False,
            "reactions": {},
        },
    ),
}


@pytest.mark.parametrize("name", list(WRITES))
async def test_a_write_is_acked_with_its_seq_and_reaches_every_joined_socket(
    clients, alice, bob, carol, lobby, name
):
    writer_name, frame, expected = WRITES[name]
    await post("lobby", "hello", author=alice)
    await set_role(bob, "lobby", Membership.Role.MODERATOR)
    users = {"alice": alice, "bob": bob, "carol": carol}
    writer, *others = await joined_live(clients, "lobby", users[writer_name], alice, bob, carol)
    await writer.send({**frame, "room": "lobby", "client_id": "w-1", "ref": "w"})
    ack, own = await ack_and_entry(writer)
    assert ack == {
        "type": "ack",
        "room": "lobby",
        "seq": 2,
        "client_id": "w-1",
        "duplicate": False,
        "ref": "w",
    }
    entry = own["message"]
    fields = MESSAGE_FIELDS if expected["kind"] == "text" else BASE_FIELDS | expected.keys()
    assert set(entry) == fields
    assert {name: entry[name] for name in expected} == expected
    assert (entry["seq"], entry["room"], entry["author"], entry["client_id"]) == (
        2,
        "lobby",
        writer_name,
        "w-1",
    )
    for other in others:
        assert await other.next_of("message") == own
    assert await writer.quiet()


async def test_an_ack_without_client_id_carries_null(clients, alice, lobby):
    await post("lobby", "hello", author=alice)
    (writer,) = await joined_live(clients, "lobby", alice)
    await writer.send({"type": "react", "room": "lobby", "seq": 1, "emoji": "👍"})
    ack, entry = await ack_and_entry(writer)
    assert (ack["seq"], ack["client_id"], ack["duplicate"], "ref" in ack) == (2, None, False, False)
    assert entry["message"]["client_id"] is None


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "edit", "seq": 1, "body": "again"},
        {"type": "delete", "seq": 1},
        {"type": "react", "seq": 1, "emoji": "👍"},
        {"type": "send", "body": "re", "reply_to": 1},
    ],
    ids=["edit", "delete", "react", "reply"],
)
async def test_a_repeated_write_is_acked_with_the_original_seq_and_not_broadcast(
    clients, alice, bob, lobby, frame
):
    await post("lobby", "hello", author=alice)
    writer, listener = await joined_live(clients, "lobby", alice, bob)
    write = {**frame, "room": "lobby", "client_id": "once"}
    await writer.send(write)
    first, _ = await ack_and_entry(writer)
    await listener.next_of("message")
    await writer.send({**write, "ref": "again"})
    again = await writer.next_of("ack")
    assert (again["seq"], again["duplicate"], again["ref"]) == (first["seq"], True, "again")
    assert await listener.quiet()
    assert await writer.quiet()
    assert await head("lobby") == 2


async def test_a_fresh_join_gets_messages_in_their_current_state_then_the_changes(
    clients, alice, bob, lobby
):
    await post("lobby", "v1", author=alice)
    await post("lobby", "question", author=bob)
    await change("lobby", alice, "edit", 1, body="v2")
    await change("lobby", bob, "reaction", 1, emoji="👍")
    await change("lobby", bob, "delete", 2)
    reader = await clients.connect(bob)
    await reader.join("lobby", since=0)
    entries = await reader.stream("lobby", 5)
    assert [entry["kind"] for entry in entries] == ["text", "text", "edit", "reaction", "delete"]
    first, second, edit = entries[:3]
    assert (first["body"], first["reactions"]) == ("v2", {"👍": ["bob"]})
    assert first["edited_at"] == edit["created_at"]
    assert (second["body"], second["deleted"], second["reactions"]) == ("", True, {})


async def test_repeats_of_a_refused_client_id_in_one_batch_echo_their_own_refs(
    clients, alice, lobby
):
    await post("lobby", "system")
    first, second = await joined_live(clients, "lobby", alice, alice)
    # Sent together, so that both usually go into one group commit.
    frame = {"type": "edit", "room": "lobby", "seq": 1, "body": "x", "client_id": "same"}
    await first.send({**frame, "ref": "first"})
    await second.send({**frame, "ref": "second"})
    await first.send({**frame, "ref": "again"})
    assert (await first.next_of("error"))["ref"] == "first"
    assert (await second.next_of("error"))["ref"] == "second"
    assert (await first.next_of("error"))["ref"] == "again"


# --- the rules' errors ------------------------------------------------------------------------


@database_sync_to_async
def a_room_with_every_kind_of_target(alice) -> None:
    """lobby: 1 alice's text, 2 a system message, 3 alice's deleted text,
    4 the delete entry of 3, 5 alice's text edited by 6."""
    room = Room.objects.get(slug="lobby")
    for author, body in ((alice, "hers"), (None, "system"), (alice, "gone")):
        services.message_post(room=room, author=author, body=body, check_rate=False)
    services.entry_post(room=room, author=alice, kind="delete", target=3)
    services.message_post(room=room, author=alice, body="v1")
    services.entry_post(room=room, author=alice, kind="edit", target=5, body="v2")


# (frame, code, field) for bob, a plain user of the public lobby.
REFUSED = [
    ({"type": "edit", "seq": 1, "body": "x"}, "forbidden", None),
    ({"type": "delete", "seq": 1}, "forbidden", None),
    ({"type": "delete", "seq": 2}, "forbidden", None),
    ({"type": "edit", "seq": 2, "body": "x"}, "invalid", "seq"),
    ({"type": "react", "seq": 2, "emoji": "👍"}, "invalid", "seq"),
    # Deleted: invalid, which comes before forbidden (alice's message).
    ({"type": "edit", "seq": 3, "body": "x"}, "invalid", "seq"),
    ({"type": "react", "seq": 3, "emoji": "👍"}, "invalid", "seq"),
    ({"type": "react", "seq": 3, "emoji": "👍", "on": False}, "invalid", "seq"),
    *(
        (frame, "invalid", "seq")
        for seq in (0, 4, 6, 7, 2**53 - 1)
        for frame in (
            {"type": "edit", "seq": seq, "body": "x"},
            {"type": "delete", "seq": seq},
            {"type": "react", "seq": seq, "emoji": "👍"},
        )
    ),
    *(
        ({"type": "send", "body": "re", "reply_to": seq}, "invalid", "reply_to")
        for seq in (0, 4, 6, 7)
    ),
]


async def test_each_rule_refuses_with_its_error_and_stores_nothing(clients, alice, bob, lobby):
    await a_room_with_every_kind_of_target(alice)
    (client,) = await joined_live(clients, "lobby", bob)
    for n, (frame, code, field) in enumerate(REFUSED):
        error = await client.error({**frame, "room": "lobby", "ref": f"r{n}"}, code, ref=f"r{n}")
        assert error.get("field") == field, (frame, error)
    assert await head("lobby") == 6
    # The socket still works: replying to a deleted message is allowed.
    await client.send({"type": "send", "room": "lobby", "body": "ok", "reply_to": 3})
    assert (await ack_and_entry(client))[0]["seq"] == 7


async def test_a_read_only_member_is_forbidden_every_write(clients, alice, lobby):
    await post("lobby", "said as a member", author=alice)
    (client,) = await joined_live(clients, "lobby", alice)
    await set_role(alice, "lobby", Membership.Role.READ_ONLY)
    assert (await client.next_of("room"))["read_only"] is True
    for frame in (
        {"type": "edit", "seq": 1, "body": "x"},
        {"type": "delete", "seq": 1},
        {"type": "react", "seq": 1, "emoji": "👍"},
        {"type": "react", "seq": 1, "emoji": "👍", "on": False},
        {"type": "send", "body": "re", "reply_to": 1},
    ):
        error = await client.error({**frame, "room": "lobby", "ref": "ro"}, "forbidden", ref="ro")
        assert "field" not in error
    assert await head("lobby") == 1


async def test_an_archived_room_is_read_only_for_every_write(clients, alice, bob, lobby):
    await post("lobby", "hers", author=alice)
    await post("lobby", "system")
    await set_role(bob, "lobby", Membership.Role.MODERATOR)
    author, moderator = await joined_live(clients, "lobby", alice, bob)
    await archive("lobby")
    writes = [
        (author, {"type": "edit", "seq": 1, "body": "x"}),
        (author, {"type": "delete", "seq": 1}),
        (author, {"type": "react", "seq": 1, "emoji": "👍"}),
        (author, {"type": "send", "body": "re", "reply_to": 1}),
        (moderator, {"type": "delete", "seq": 1}),
        (moderator, {"type": "delete", "seq": 2}),
        (moderator, {"type": "react", "seq": 1, "emoji": "👍", "on": False}),
    ]
    for client, frame in writes:
        await client.error(
            {**frame, "room": "lobby", "ref": "a"}, "read_only", ref="a", skip=("room",)
        )
    assert await head("lobby") == 2


# --- precedence ----------------------------------------------------------------------------------


def targeting(seq: int) -> list[dict]:
    """One frame of each kind that names `seq`, for the room `lobby` unless set."""
    return [
        {"type": "edit", "seq": seq, "body": "x"},
        {"type": "delete", "seq": seq},
        {"type": "react", "seq": seq, "emoji": "👍"},
        {"type": "send", "body": "re", "reply_to": seq},
    ]


def field_of(frame: dict) -> str:
    return "reply_to" if frame["type"] == "send" else "seq"


async def test_a_target_naming_no_message_in_an_archived_room_is_invalid(clients, alice, lobby):
    await post("lobby", "hers", author=alice)
    await change("lobby", alice, "reaction", 1, emoji="👍")
    (client,) = await joined_live(clients, "lobby", alice)
    await archive("lobby")
    await client.next_of("room")
    for seq in (2, 99):
        for frame in targeting(seq):
            await client.error({**frame, "room": "lobby"}, "invalid", field=field_of(frame))


async def test_a_read_only_member_naming_no_message_gets_invalid(clients, alice, lobby):
    await post("lobby", "system")
    (client,) = await joined_live(clients, "lobby", alice)
    await set_role(alice, "lobby", Membership.Role.READ_ONLY)
    await client.next_of("room")
    for frame in targeting(99):
        await client.error({**frame, "room": "lobby"}, "invalid", field=field_of(frame))
    await client.error(
        {"type": "edit", "room": "lobby", "seq": 1, "body": "x"}, "invalid", field="seq"
    )


async def test_not_joined_comes_before_an_invalid_target(clients, alice, lobby):
    client = await clients.connect(alice)
    for frame in targeting(99):
        await client.error({**frame, "room": "lobby", "ref": "n"}, "not_joined", ref="n")


async def test_forbidden_comes_before_read_only_and_rate_limited(
    clients, alice, bob, lobby, settings
):
    settings.ROOMS_RATE_LIMIT = (1, 10)
    await post("lobby", "hers", author=alice)
    (client,) = await joined_live(clients, "lobby", bob)
    await client.send({"type": "react", "room": "lobby", "seq": 1, "emoji": "👍", "client_id": "r"})
    await ack_and_entry(client)  # bob is at the rate limit now
    edit = {"type": "edit", "room": "lobby", "seq": 1, "body": "x"}
    await client.error(edit, "forbidden")
    await client.error(
        {"type": "react", "room": "lobby", "seq": 99, "emoji": "👍"}, "invalid", field="seq"
    )
    await client.error({"type": "react", "room": "lobby", "seq": 1, "emoji": "🎉"}, "rate_limited")
    duplicate = {"type": "react", "room": "lobby", "seq": 1, "emoji": "👍", "client_id": "r"}
    await client.send(duplicate)
    assert (await client.next_of("ack"))["duplicate"] is True
    await archive("lobby")
    assert (await client.next_of("room"))["read_only"] is True
    await client.error(edit, "forbidden")
    await client.error({"type": "delete", "room": "lobby", "seq": 1}, "forbidden")
    await client.error({"type": "react", "room": "lobby", "seq": 1, "emoji": "🎉"}, "read_only")
    await client.send(duplicate)  # a repeated client_id is acked even here
    assert (await client.next_of("ack"))["duplicate"] is True


async def test_a_private_room_reveals_nothing_to_a_non_member(
    clients, alice, bob, user_factory, room_factory
):
    await database_sync_to_async(room_factory)("secret", is_private=True, members=[alice])
    await post("secret", "hidden", author=alice)
    await change("secret", alice, "reaction", 1, emoji="👍")  # seq 2: a change entry
    staff = await database_sync_to_async(user_factory)("root", is_staff=True)
    for outsider in (bob, staff):
        client = await clients.connect(outsider)
        await client.error({"type": "join", "room": "secret"}, "not_found")
        for seq in (1, 2, 3, 99):
            for frame in targeting(seq):
                error = await client.error(
                    {**frame, "room": "secret", "ref": "p"}, "not_found", ref="p"
                )
                assert "field" not in error
        # What a frame's shape gets wrong is no secret of the room's.
        await client.error(
            {"type": "react", "room": "secret", "seq": 1, "emoji": "a b"}, "invalid", field="emoji"
        )
    await archive("secret")
    outsider = await clients.connect(bob)
    await outsider.error({"type": "edit", "room": "secret", "seq": 99, "body": "x"}, "not_found")
    assert await head("secret") == 2


# --- parse errors ------------------------------------------------------------------------------

BAD_FIELDS = [
    *(
        ({"type": "react", "seq": 1, "emoji": emoji}, "emoji")
        for emoji in (
            "👍 ",
            " 👍",
            "a b",
            "a\tb",
            "a\nb",
            "\u3000",
            "\u00a0x",
            "",
            "x" * 17,
            "😀" * 17,
            5,
            ["👍"],
        )
    ),
    ({"type": "react", "seq": 1}, "emoji"),
    ({"type": "react", "seq": 1, "emoji": None}, "emoji"),
    *(
        ({"type": "react", "seq": 1, "emoji": "👍", "on": on}, "on")
        for on in ("true", 1, 0, "yes", [])
    ),
    *(
        (frame, "seq")
        for frame in (
            {"type": "edit", "body": "x"},
            {"type": "delete"},
            {"type": "react", "emoji": "👍"},
        )
    ),
    *(
        ({**frame, "seq": seq}, "seq")
        for seq in (True, False, -1, "1", 2**53, [1], None)
        for frame in (
            {"type": "edit", "body": "x"},
            {"type": "delete"},
            {"type": "react", "emoji": "👍"},
        )
    ),
    *(
        ({"type": "send", "body": "re", "reply_to": value}, "reply_to")
        for value in (True, -1, "1", 2**53)
    ),
    ({"type": "edit", "seq": 1}, "body"),
    ({"type": "edit", "seq": 1, "body": " \u2003"}, "body"),
    ({"type": "edit", "seq": 1, "body": "x" * 4001}, "body"),
    ({"type": "delete", "seq": 1, "client_id": ""}, "client_id"),
    ({"type": "react", "seq": 1, "emoji": "👍", "client_id": 7}, "client_id"),
]


async def test_malformed_change_fields_are_invalid_before_anything_else(clients, alice, lobby):
    await post("lobby", "hers", author=alice)
    client = await clients.connect(alice)  # not joined: shape errors come first
    for room in ("lobby", "no-such-room"):
        for frame, field in BAD_FIELDS:
            await client.error({**frame, "room": room, "ref": "b"}, "invalid", field=field, ref="b")
    assert await head("lobby") == 1


@pytest.mark.parametrize(
    "text",
    [
        '{"type":"edit","room":"lobby","seq":1.0,"body":"x"}',
        '{"type":"delete","room":"lobby","seq":1e0}',
        '{"type":"react","room":"lobby","seq":1.5,"emoji":"x"}',
        '{"type":"react","room":"lobby","seq":1e400,"emoji":"x"}',
        '{"type":"send","room":"lobby","body":"x","reply_to":1.0}',
    ],
)
async def test_a_seq_written_as_a_float_is_invalid(clients, alice, lobby, text):
    await post("lobby", "hers", author=alice)
    (client,) = await joined_live(clients, "lobby", alice)
    field = "reply_to" if "reply_to" in text else "seq"
    await client.error(text, "invalid", field=field)


async def test_emojis_up_to_16_code_points_are_accepted(clients, alice, lobby):
    await post("lobby", "hers", author=alice)
    (client,) = await joined_live(clients, "lobby", alice)
    family = "👩\u200d👩\u200d👧\u200d👦"  # 7 code points, one glyph
    for emoji in ("😀" * 16, family, "+1", "🇫🇷"):
        await client.send({"type": "react", "room": "lobby", "seq": 1, "emoji": emoji})
        _, entry = await ack_and_entry(client)
        assert entry["message"]["emoji"] == emoji
    assert await head("lobby") == 5
