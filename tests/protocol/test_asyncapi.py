"""docs/asyncapi.yaml against rooms/protocol/: the same frame types, error
codes and close codes; its examples and every frame the server's builders
make match it; the client frames the parser accepts match it, and those it
refuses for their shape do not (except unknown extra fields, which the
server ignores and the document leaves out); and the check of
tests/harness/frames.py fails on a frame the document does not describe.
"""

import json
from datetime import UTC, datetime

import pytest

from rooms import protocol
from rooms.errors import RoomsError
from tests.conftest import _frames_matched
from tests.harness import frames

MOMENT = datetime(2026, 11, 25, 17, 6, 20, 123456, tzinfo=UTC)
DOCUMENT = frames.document()


def entry(kind: str = "text", **fields) -> str:
    base = {"seq": 7, "room": "lobby", "kind": kind, "author": "alice", "created_at": MOMENT}
    return protocol.entry_json(**{**base, "client_id": None, **fields})


ENTRIES = {
    "text": entry(body="hi", client_id="c-1", reply_to=3, reactions={"👍": ["bob", "carol"]}),
    "edited": entry(body="hi!", edited_at=MOMENT),
    "deleted": entry(body="gone", deleted=True, reactions={"👍": ["bob"]}),
    "system": entry("system", author=None, body="Welcome"),
    "of a deleted account": entry(author=None, body="still here"),
    "edit": entry("edit", target=3, body="new"),
    "emptied edit": entry("edit", target=3, body=""),
    "delete": entry("delete", target=3),
    "reaction on": entry("reaction", target=3, emoji="🍕", on=True),
    "reaction off": entry("reaction", target=3, emoji="🍕", on=False),
}


def refused(exc: RoomsError) -> str:
    return protocol.error_from(exc)


def with_ref(exc: RoomsError, ref: str) -> RoomsError:
    exc.ref = ref
    return exc


# One or more calls of every frame builder of rooms/protocol/encode.py.
BUILT = {
    "hello": protocol.hello("alice"),
    "joined": protocol.joined(
        room="a", ref="j", head=9, since=4, truncated=True, title="A", read_only=False, read=4
    ),
    "joined, never read": protocol.joined(
        room="a", ref=None, head=0, since=0, truncated=False, title="", read_only=True, read=None
    ),
    "backfill": protocol.backfill("lobby", list(ENTRIES.values())),
    "history": protocol.history(
        room="lobby", ref="h", messages=[ENTRIES["text"], ENTRIES["system"]], has_more=True
    ),
    "empty history": protocol.history(room="lobby", ref=None, messages=[], has_more=False),
    "ack": protocol.ack(ref="c-1", room="a", seq=1, client_id="c-1", duplicate=True),
    "ack without ref": protocol.ack(ref=None, room="a", seq=1, client_id=None, duplicate=False),
    "left": protocol.left(room="a", ref="l", reason="leave"),
    "left, removed": protocol.left(room="a", ref=None, reason="removed"),
    "presence": protocol.presence("a", ["carol", "alice"]),
    "nobody present": protocol.presence("a", []),
    "typing": protocol.typing("a", "alice"),
    "read": protocol.read("a", 3),
    "room": protocol.room_changed("a", "A", True),
    "rooms": protocol.rooms_changed(),
    "pong": protocol.pong(ref="p", heads={"a": 3, "b-2_c": 0}),
    "pong, nothing joined": protocol.pong(ref=None, heads={}),
    "error": protocol.error("auth_required", "Log in."),
    "invalid": refused(with_ref(RoomsError("invalid", "no", field="body"), "r")),
    "rate limited": refused(RoomsError("rate_limited", "slow", retry_after=2.5)),
    "a cap": refused(RoomsError("rate_limited", "At most 2 rooms joined per socket.")),
    "unavailable": refused(protocol.unavailable()),
    **{f"message: {name}": protocol.message("lobby", text) for name, text in ENTRIES.items()},
}


def test_the_document_is_asyncapi_3_with_one_channel_at_the_socket_path():
    assert DOCUMENT["asyncapi"] == "3.0.0"
    assert [channel["address"] for channel in DOCUMENT["channels"].values()] == ["/ws/"]
    for name, operation in DOCUMENT["operations"].items():
        assert operation["action"] in ("send", "receive"), name
        listed = operation["messages"] + operation.get("reply", {}).get("messages", [])
        assert all(m["$ref"].startswith("#/channels/socket/messages/") for m in listed), name


def test_every_reference_in_the_document_resolves():
    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    pointers = set(refs(DOCUMENT))
    assert len(pointers) > 40
    for pointer in pointers:
        assert isinstance(frames.resolve(pointer), dict), pointer


def test_its_frame_types_are_the_ones_the_protocol_module_parses_and_builds():
    assert set(frames.validators()["client"]) == set(protocol.CLIENT_TYPES)
    assert set(frames.validators()["server"]) == set(protocol.SERVER_TYPES)


def test_its_error_codes_are_the_protocols():
    codes = DOCUMENT["components"]["schemas"]["errorCode"]
    assert codes["enum"] == list(protocol.ERROR_CODES)
    for code in protocol.ERROR_CODES:
        assert f"`{code}`" in codes["description"]


def test_its_close_codes_are_the_ones_the_server_closes_with():
    constants = {
        protocol.CLOSE_UNAUTHENTICATED,
        protocol.CLOSE_BACKLOG,
        protocol.CLOSE_TOO_LARGE,
        protocol.CLOSE_TOO_MANY_SOCKETS,
        protocol.CLOSE_UNAVAILABLE,
    }
    channel = DOCUMENT["channels"]["socket"]
    assert {int(code) for code in channel["x-close-codes"]} == constants
    for code in constants:
        assert f"| {code} |" in channel["description"]


EXAMPLES = [
    (name, index, example["payload"])
    for name, message in DOCUMENT["components"]["messages"].items()
    for index, example in enumerate(message.get("examples", []))
]


@pytest.mark.parametrize(("name", "index", "payload"), EXAMPLES)
def test_every_example_matches_its_own_message(name, index, payload):
    side = name.partition(".")[0]
    assert frames.problem(side, payload) is None


@pytest.mark.parametrize("text", BUILT.values(), ids=BUILT.keys())
def test_every_frame_the_server_builds_matches_the_document(text):
    frames.server_frame(text)


def test_attachments_are_part_of_the_message_object_and_gone_once_deleted():
    picture = {
        "id": "a1",
        "name": "cat.png",
        "size": 1024,
        "content_type": "image/png",
        "url": "/media/a1/cat.png",
        "thumbnail_url": "/media/a1/thumb.png",
        "width": 64,
        "height": 48,
    }
    document = {**picture, "content_type": "application/pdf", "thumbnail_url": None}
    document |= {"width": None, "height": None}
    live = json.loads(ENTRIES["text"]) | {"attachments": [picture, document]}
    frames.server_frame({"type": "message", "room": "lobby", "message": live})
    frames.server_frame({"type": "message", "room": "lobby", "message": live | {"attachments": []}})
    deleted = json.loads(ENTRIES["deleted"])
    frames.server_frame(
        {"type": "history", "room": "lobby", "messages": [deleted], "has_more": 0 > 1}
    )
    with pytest.raises(frames.FrameError, match="attachments"):
        frames.server_frame(
            {
                "type": "backfill",
                "room": "lobby",
                "messages": [deleted | {"attachments": [picture]}],
            }
        )
    with pytest.raises(frames.FrameError, match="height"):
        without = {key: value for key, value in picture.items() if key != "height"}
        frames.server_frame(
            {"type": "message", "room": "lobby", "message": live | {"attachments": [without]}}
        )


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ({"type": "hello", "protocol": 2, "user": "a", "colour": "red"}, "colour"),
        ({"type": "hello", "protocol": "2", "user": "a"}, "protocol"),
        ({"type": "hello", "protocol": 2}, "user"),
        ({"type": "welcome"}, "not a server frame"),
        ({"type": "join", "room": "a"}, "not a server frame"),
        ({"type": "ack", "room": "a", "seq": -1, "client_id": None, "duplicate": False}, "seq"),
        ({"type": "left", "room": "a", "reason": "kicked"}, "reason"),
        ({"type": "error", "code": "oops", "message": "m"}, "code"),
        ({"type": "error", "code": "unavailable", "message": "m"}, "retry_after"),
        ({"type": "error", "code": "invalid", "message": "m", "retry_after": 1}, "retry_after"),
        ({"type": "presence", "room": "a", "users": ["b", "b"]}, "unique"),
        ({"type": "message", "room": "a", "message": {"seq": 1, "kind": "poll"}}, "kind"),
        ({"type": "pong", "heads": {"not a slug": 1}}, "heads"),
    ],
)
def test_a_frame_the_document_does_not_describe_fails_with_the_frame_and_why(frame, reason):
    with pytest.raises(frames.FrameError) as failed:
        frames.server_frame(json.dumps(frame))
    assert reason in str(failed.value)
    assert json.dumps(frame) in str(failed.value)


@pytest.mark.parametrize(
    "entry_fields",
    [
        {"kind": "system", "author": "alice"},  # a system message has no author
        {"created_at": "2026-11-25T17:06:20Z"},  # milliseconds are part of the format
        {"reactions": {"👍": []}},  # an emoji nobody holds is left out
        {"target": 3},  # a message has no target
    ],
)
def test_an_entry_off_the_documented_shape_fails(entry_fields):
    text = json.loads(ENTRIES["text"]) | entry_fields
    with pytest.raises(frames.FrameError):
        frames.server_frame({"type": "message", "room": "lobby", "message": text})


def test_what_a_client_reads_is_recorded_so_a_background_reader_fails_its_test():
    with pytest.raises(frames.FrameError, match="binary"):
        frames.received(None)
    with pytest.raises(frames.FrameError, match="not JSON"):
        frames.received("{")
    assert len(frames.failures) == 2
    # What tests/conftest.py does when the test ends: fail it, and start over.
    with pytest.raises(frames.FrameError, match="2 server frame"):
        _frames_matched()
    assert frames.failures == []


VALID_CLIENT_FRAMES = [
    {"type": "join", "room": "lobby"},
    {"type": "join", "room": "lobby", "since": 0, "limit": 50, "presence": False, "ref": "j"},
    {"type": "leave", "room": "lobby", "ref": None},
    {"type": "send", "room": "lobby", "body": "hi", "client_id": "c-1", "reply_to": 3},
    {"type": "edit", "room": "lobby", "seq": 2, "body": "hey"},
    {"type": "delete", "room": "lobby", "seq": 2, "client_id": "d"},
    {"type": "react", "room": "lobby", "seq": 2, "emoji": "👍", "on": False},
    {"type": "typing", "room": "lobby"},
    {"type": "read", "room": "lobby", "seq": 4},
    {"type": "history", "room": "lobby", "before": 9, "limit": 200},
    {"type": "ping", "ref": "r" * 64},
]


@pytest.mark.parametrize("frame", VALID_CLIENT_FRAMES, ids=lambda frame: frame["type"])
def test_client_frames_the_document_describes_are_accepted_by_the_parser(frame):
    frames.client_frame(frame)
    text = json.dumps(frame)
    assert protocol.parse_frame(text, max_bytes=65536, max_body=4000).type == frame["type"]


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({"type": "join"}, "room"),
        ({"type": "join", "room": "lobby", "since": -1}, "since"),
        ({"type": "join", "room": "lobby", "limit": 0}, "limit"),
        ({"type": "join", "room": "lobby", "presence": "no"}, "presence"),
        ({"type": "send", "room": "lobby", "body": " \n"}, "body"),
        ({"type": "send", "room": "lobby", "body": "x" * 4001}, "body"),
        ({"type": "send", "room": "lobby", "body": "hi", "client_id": ""}, "client_id"),
        ({"type": "send", "room": "lobby", "body": "hi", "reply_to": True}, "reply_to"),
        ({"type": "edit", "room": "lobby", "body": "hey"}, "seq"),
        ({"type": "react", "room": "lobby", "seq": 1, "emoji": "a b"}, "emoji"),
        ({"type": "react", "room": "lobby", "seq": 1, "emoji": "👍", "on": None}, "on"),
        ({"type": "read", "room": "lobby"}, "seq"),
        ({"type": "history", "room": "lobby", "limit": 201}, "limit"),
        ({"type": "ping", "ref": "r" * 65}, "ref"),
    ],
)
def test_client_frames_the_parser_refuses_for_their_shape_do_not_match(frame, field):
    assert frames.problem("client", frame) is not None
    with pytest.raises(RoomsError) as refused:
        protocol.parse_frame(json.dumps(frame), max_bytes=65536, max_body=4000)
    assert (refused.value.code, refused.value.field) == ("invalid", field)


def test_a_client_frame_with_a_field_the_document_leaves_out_does_not_match():
    # The server ignores it; a client checked against the document sends none.
    frame = {"type": "send", "room": "lobby", "body": "hi", "reply-to": 3}
    assert protocol.parse_frame(json.dumps(frame), max_bytes=65536, max_body=4000).type == "send"
    assert "reply-to" in frames.problem("client", frame)
