"""The protocol's vocabulary, written out here from docs/protocol.md, checked
against rooms/protocol/ and against the page itself: the frame types a client
sends, those the server sends (one builder each), the error codes and the
close codes. A type or code added, renamed or removed in one place and not
the others fails here.
"""

import inspect
import json
import re
from pathlib import Path

import pytest

from rooms import protocol
from rooms.errors import RoomsError
from rooms.protocol import encode

PAGE = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"

# The tables of docs/protocol.md, "Frames a client sends" and "Frames the
# server sends" (with the `rooms` extension).
CLIENT_TYPES = ("join", "leave", "send", "edit", "delete", "react", "typing", "read", "history")
CLIENT_TYPES += ("ping",)
SERVER_TYPES = ("hello", "joined", "backfill", "message", "ack", "left", "presence")
SERVER_TYPES += ("typing", "read", "room", "rooms", "history", "pong", "error")
# "typing", "read" and "history" are both; these only the server sends.
SERVER_ONLY_TYPES = tuple(kind for kind in SERVER_TYPES if kind not in CLIENT_TYPES)

# One call of every frame builder of rooms/protocol/encode.py.
BUILDS = {
    "hello": lambda: protocol.hello("alice"),
    "joined": lambda: protocol.joined(
        room="a", ref=None, head=0, since=0, truncated=False, title="A", read_only=False, read=None
    ),
    "backfill": lambda: protocol.backfill("a", []),
    "message": lambda: protocol.message("a", "{}"),
    "history": lambda: protocol.history(room="a", ref=None, messages=[], has_more=False),
    "ack": lambda: protocol.ack(ref=None, room="a", seq=1, client_id=None, duplicate=False),
    "left": lambda: protocol.left(room="a", ref=None, reason="leave"),
    "presence": lambda: protocol.presence("a", ["alice"]),
    "typing": lambda: protocol.typing("a", "alice"),
    "read": lambda: protocol.read("a", 1),
    "room_changed": lambda: protocol.room_changed("a", "A", False),
    "rooms_changed": lambda: protocol.rooms_changed(),
    "pong": lambda: protocol.pong(ref=None, heads={}),
    "error": lambda: protocol.error("invalid", "no"),
    "error_from": lambda: protocol.error_from(RoomsError("invalid", "no")),
}
# Functions of encode.py that return text but are not frames.
NOT_FRAMES = {"entry_json", "timestamp"}


def section(heading: str) -> str:
    """The text of docs/protocol.md under one heading, up to the next heading
    of the same or a higher level."""
    text = PAGE.read_text()
    level = heading.split(" ")[0]
    start = text.index(f"\n{heading}\n")
    ends = [text.find(f"\n{'#' * depth} ", start + 1) for depth in range(1, len(level) + 1)]
    return text[start : min([end for end in ends if end != -1] or [len(text)])]


def first_column(table: str) -> set[str]:
    """The `quoted` first cells of a table's rows (below its header)."""
    rows = table[table.index("\n| --- |") :]
    return set(re.findall(r"^\| `([^`]+)` \|", rows, flags=re.MULTILINE))


def test_the_client_types_are_the_parsers():
    assert protocol.CLIENT_TYPES == CLIENT_TYPES


def test_the_server_types_are_the_serializers():
    assert set(protocol.SERVER_TYPES) == set(SERVER_TYPES)


def test_every_frame_builder_is_called_here():
    builders = {
        name
        for name, function in inspect.getmembers(encode, inspect.isfunction)
        if function.__module__ == encode.__name__
        and not name.startswith("_")
        and inspect.signature(function).return_annotation is str
    }
    assert builders - NOT_FRAMES == set(BUILDS)


def test_every_frame_builder_sends_a_documented_type_and_every_type_has_one():
    sent = {name: json.loads(build())["type"] for name, build in BUILDS.items()}
    assert {name: kind for name, kind in sent.items() if kind not in SERVER_TYPES} == {}
    assert set(SERVER_TYPES) - set(sent.values()) == set()


def test_the_page_documents_every_client_type():
    assert first_column(section("## Frames a client sends")) == set(CLIENT_TYPES)


def test_the_page_documents_every_server_type():
    table = first_column(section("## Frames the server sends"))
    extensions = re.findall(r"^### Extension: the `([^`]+)` frame$", PAGE.read_text(), re.M)
    assert table | set(extensions) == set(SERVER_TYPES)


def test_the_error_codes_are_the_pages():
    assert set(protocol.ERROR_CODES) == first_column(section("### Codes"))
    assert protocol.UNAVAILABLE in protocol.ERROR_CODES


def test_the_close_codes_are_the_pages():
    documented = set(re.findall(r"^\| (4\d{3}) \|", section("## Close codes"), re.M))
    constants = {value for name, value in vars(protocol).items() if name.startswith("CLOSE_")}
    assert {str(code) for code in constants} == documented


@pytest.mark.parametrize("kind", SERVER_ONLY_TYPES)
def test_a_server_only_type_is_not_a_client_type(kind):
    assert kind not in protocol.CLIENT_TYPES
