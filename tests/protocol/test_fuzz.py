"""Random frames thrown at one socket of the real ASGI application
(hypothesis): whatever arrives, each frame gets exactly the reply or error
docs/protocol.md defines for it, nothing more, and the socket stays usable.

The expected outcome is worked out here from the protocol page (its frame
types as test_codes.py writes them out), not from rooms/protocol/, with a
small model of what the socket's user may see: the rooms, the messages of
`lobby` (only this socket writes there) and the client_ids used. After
each frame a `ping` with a ref of our own marks the end of its replies: a
socket's frames are handled in order, so every reply to the frame comes
before that `pong`. Frames of the rooms' streams (backfill, message,
presence) may come at any time; they must be of a joined room and keep its
seqs gapless. tests/protocol/test_properties.py fuzzes the parser alone.
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import dataclass, field

import pytest
from channels.db import database_sync_to_async
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from rooms import services
from rooms.models import Message as Entry
from rooms.models import Room
from tests.protocol.test_codes import CLIENT_TYPES, SERVER_ONLY_TYPES

pytestmark = pytest.mark.django_db(transaction=True)

MAX_INT = 2**53 - 1
MAX_BODY = 4000
FRAME_LIMIT = 64 * 1024
REPLIES = {"joined", "left", "ack", "history", "pong", "error"}
STREAM = {"backfill", "message", "presence"}
ROOMS = ("lobby", "attic")  # the rooms alice sees: public, and public but archived
MARKER = "marker-9f1c2e7d4b"  # the ref of the pong that ends a frame's replies


# --- the model -----------------------------------------------------------------------------


@dataclass
class Held:
    """A message (text or system entry) of lobby as it stands."""

    author: str | None
    deleted: bool = False


@dataclass
class Model:
    """What the socket's user (alice) may see and has done: read from the
    database before each example (the one before may have failed halfway),
    then kept up to date by the replies."""

    heads: dict[str, int]
    messages: dict[int, Held]  # lobby's, by seq
    client_ids: dict[tuple[str, str], int]  # alice's: (room, client_id) -> seq
    streams: dict[str, int] = field(default_factory=dict)  # joined room -> last seq
    archived: frozenset[str] = frozenset({"attic"})

    def messages_of(self, room: str) -> dict[int, Held]:
        return self.messages if room == "lobby" else {}


@database_sync_to_async
def stored_model() -> Model:
    messages = Entry.objects.filter(room__slug="lobby", kind__in=Entry.MESSAGE_KINDS)
    used = Entry.objects.filter(author__username="alice", client_id__isnull=False)
    return Model(
        heads=dict(Room.objects.filter(slug__in=ROOMS).values_list("slug", "last_seq")),
        messages={
            seq: Held(author, deleted)
            for seq, author, deleted in messages.values_list("seq", "author__username", "deleted")
        },
        client_ids={
            (slug, client_id): seq
            for slug, client_id, seq in used.values_list("room__slug", "client_id", "seq")
        },
    )


# --- strategies ----------------------------------------------------------------------------

ANY_CHAR = st.characters(codec=None, exclude_categories=()) | st.characters(
    min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()
)
ANY_TEXT = st.text(alphabet=ANY_CHAR, max_size=80)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


@dataclass(frozen=True)
class Target:
    """A seq filled in when the frame is sent, by what it names in lobby:
    alice's `back`-th newest message (`own`), a deleted one, bob's, the
    system message, a change entry, or a seq past the head. (What hypothesis
    draws must not depend on the room, which changes as the test goes.)"""

    what: str
    back: int = 0

    def seq(self, model: Model) -> int:
        head = model.heads["lobby"]
        messages = model.messages
        candidates = {
            "own": [s for s, m in messages.items() if m.author == "alice" and not m.deleted],
            "deleted": [s for s, m in messages.items() if m.deleted],
            "other": [s for s, m in messages.items() if m.author == "bob"],
            "system": [s for s, m in messages.items() if m.author is None],
            "change": [s for s in range(1, head + 1) if s not in messages],
        }.get(self.what, [])
        if not candidates:
            return head + 1 + self.back
        return sorted(candidates)[-1 - min(self.back, len(candidates) - 1)]


TARGET_KINDS = ["own", "own", "deleted", "other", "system", "change", "past"]
TARGETS = st.builds(Target, st.sampled_from(TARGET_KINDS), st.integers(0, 3))
VALID = {
    "room": st.sampled_from(["lobby", "lobby", "lobby", "attic"]),
    "since": st.integers(min_value=0, max_value=8),
    "limit": st.integers(min_value=1, max_value=8),
    "before": st.integers(min_value=0, max_value=8),
    "seq": TARGETS,
    "reply_to": TARGETS,
    "body": st.text(min_size=1, max_size=30).filter(str.strip),
    "client_id": st.text(alphabet="ab", min_size=1, max_size=3),  # repeats: G4
    "emoji": st.sampled_from(["👍", "🍕", "🎉"]),
    "on": st.booleans(),
    "presence": st.booleans(),
    "ref": st.text(max_size=12),
}
# NaN and Infinity come out of json.dumps as they are: not JSON, so bad_frame.
INTEGER_EDGES = st.sampled_from([True, 5.0, MAX_INT + 1, -1, "3", False, 0, MAX_INT]) | (
    st.sampled_from([math.inf, math.nan, 1e400])
)
EDGES = {
    "room": st.sampled_from(["secret", "nowhere", "LOBBY", "no room", "", "é" * 65]),
    "since": INTEGER_EDGES,
    "limit": st.sampled_from([0, 200, 201, MAX_INT, -1, 2.5, False]),
    "before": INTEGER_EDGES,
    "seq": INTEGER_EDGES,
    "reply_to": INTEGER_EDGES,
    "body": st.tuples(st.sampled_from("x😀€\ud83d"), st.sampled_from([MAX_BODY + 1, MAX_BODY])).map(
        lambda char_count: char_count[0] * char_count[1]
    )
    | st.sampled_from([" \u3000\n", "a\x00b", "\ud800", "\ufeff"])
    | ANY_TEXT,
    "client_id": st.sampled_from(["", "c" * 64, "c" * 65, "\ud83d", "a\x00"]),
    "emoji": st.sampled_from(["a b", "", "x" * 16, "x" * 17, "\u2003", "\udc00"]),
    "on": st.sampled_from([0, 1, "false"]),
    "presence": st.sampled_from([0, 1, "true"]),
    "ref": st.sampled_from(["r" * 64, "r" * 65, "\udfff", ""]) | ANY_TEXT,
}
FIELDS_OF = {  # (required, optional)
    "join": (("room",), ("since", "limit", "presence")),
    "leave": (("room",), ()),
    "send": (("room", "body"), ("client_id", "reply_to")),
    "edit": (("room", "seq", "body"), ("client_id",)),
    "delete": (("room", "seq"), ("client_id",)),
    "react": (("room", "seq", "emoji"), ("on", "client_id")),
    "typing": (("room",), ()),
    "read": (("room", "seq"), ()),
    "history": (("room",), ("before", "limit")),
    "ping": ((), ()),
}
ANY_TYPE = st.sampled_from(SERVER_ONLY_TYPES) | st.sampled_from(["", "JOIN", "pin"]) | JSON_VALUES


def percent(draw, low: int, high: int) -> bool:
    """True with probability (high - low)%. The band lies inside 0..99
    because hypothesis draws the bounds, 0 and 99, far more often."""
    return low <= draw(st.integers(0, 99)) < high


@st.composite
def frame_objects(draw) -> dict:
    """A JSON object shaped like a frame: usually a client type with its
    required fields and some optional ones, their values mostly valid (seqs
    mostly lobby's messages); sometimes another type, a missing field, an
    edge case, any JSON at all, a field of another type, junk fields."""

    def value(name: str):
        if percent(draw, 40, 55):
            return draw(EDGES[name])
        if percent(draw, 40, 48):
            return draw(JSON_VALUES)
        return draw(VALID[name])

    kind = draw(ANY_TYPE) if percent(draw, 40, 47) else draw(st.sampled_from(CLIENT_TYPES))
    frame = {} if percent(draw, 40, 44) else {"type": kind}
    required, optional = FIELDS_OF.get(kind, ((), ())) if isinstance(kind, str) else ((), ())
    for name in required:
        if not percent(draw, 40, 44):
            frame[name] = value(name)
    for name in optional:
        if draw(st.booleans()):
            frame[name] = value(name)
    if draw(st.booleans()):
        frame["ref"] = value("ref")
    if percent(draw, 40, 50):
        name = draw(st.sampled_from(sorted(VALID)))
        frame[name] = value(name)
    if percent(draw, 40, 50):
        frame.update(draw(st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=2)))
    return frame


@dataclass(frozen=True)
class Wire:
    """One frame to put on the wire: a frame object as JSON text (or its
    bytes, as a binary frame), or raw text or bytes."""

    frame: dict | str | bytes
    ascii_only: bool = True
    binary: bool = False

    def payload(self, model: Model) -> str | bytes:
        if not isinstance(self.frame, dict):
            return self.frame
        frame = {
            name: value.seq(model) if isinstance(value, Target) else value
            for name, value in self.frame.items()
        }
        # NaN and Infinity come out as json.dumps writes them: not JSON.
        text = json.dumps(frame, ensure_ascii=self.ascii_only)
        if not _encodable(text):  # a lone surrogate travels only escaped
            text = json.dumps(frame)
        return text.encode() if self.binary else text


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _fits(wire: Wire) -> bool:
    """Below the frame limit (a frame over it ends the socket: another test)."""
    payload = wire.payload(Model(heads={"lobby": 0}, messages={}, client_ids={}))
    return len(payload.encode() if isinstance(payload, str) else payload) < FRAME_LIMIT - 100


NESTED = st.integers(1, 200) | st.integers(5000, 30000)
JUNK = st.one_of(
    NESTED.map(lambda depth: '{"type":"ping","x":' + "[" * depth + "]" * depth + "}"),
    st.sampled_from(['{"type":"ping","ref":NaN}', '{"type":"ping"} x', "[]", "null", ""]),
    st.text(max_size=40),
    st.binary(max_size=40),
)
OBJECTS = st.builds(Wire, frame_objects(), st.booleans())
BINARY = st.builds(Wire, frame_objects(), binary=st.just(True))
WIRES = (
    st.integers(0, 99)
    .flatmap(
        lambda pick: JUNK.map(Wire) if 40 <= pick < 46 else BINARY if 46 <= pick < 52 else OBJECTS
    )
    .filter(_fits)
)


# --- the oracle ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One acceptable answer: a reply type ("" for no reply at all), and for
    an error its code and field."""

    type: str
    code: str | None = None
    field: str | None = None


def _invalid(fields) -> set[Outcome]:
    return {Outcome("error", "invalid", name) for name in fields}


def _integer(value, minimum=0, maximum=MAX_INT) -> bool:
    return type(value) is int and minimum <= value <= maximum


def _clean(text: str) -> bool:
    return "\x00" not in text and not any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def _body_ok(body) -> bool:
    return isinstance(body, str) and bool(body.strip()) and len(body) <= MAX_BODY and _clean(body)


def _client_id_ok(value) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 64 and _clean(value)


def _emoji_ok(value) -> bool:
    return (
        isinstance(value, str)
        and 1 <= len(value) <= 16
        and not any(char.isspace() for char in value)
        and _clean(value)
    )


OPTIONAL_INTEGERS = {
    "join": {"since": (0, MAX_INT), "limit": (1, MAX_INT)},
    "send": {"reply_to": (0, MAX_INT)},
    "history": {"before": (0, MAX_INT), "limit": (1, 200)},
}


def shape_errors(kind: str, raw: dict) -> tuple[set[str], set[str]]:
    """The fields the protocol calls invalid in a frame of `kind`, and those
    it leaves open: `null` in an optional field, which the page defines only
    for `ref` and `presence` (absent and `invalid` are both accepted)."""
    wrong, unclear = set(), set()
    optional = {**OPTIONAL_INTEGERS.get(kind, {})}
    if kind != "ping" and not isinstance(raw.get("room"), str):
        wrong.add("room")
    if kind in ("edit", "delete", "react", "read") and not _integer(raw.get("seq")):
        wrong.add("seq")
    if kind in ("send", "edit") and not _body_ok(raw.get("body")):
        wrong.add("body")
    if kind in ("send", "edit", "delete", "react"):
        optional["client_id"] = _client_id_ok
    if kind == "react":
        optional["on"] = lambda on: isinstance(on, bool)
        if not _emoji_ok(raw.get("emoji")):
            wrong.add("emoji")
    if kind == "join" and not isinstance(raw.get("presence"), bool | None):
        wrong.add("presence")
    for name, rule in optional.items():
        ok = rule if callable(rule) else lambda value, rule=rule: _integer(value, *rule)
        if name in raw and raw[name] is None:
            unclear.add(name)
        elif name in raw and not ok(raw[name]):
            wrong.add(name)
    return wrong, unclear


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")


def expect(model: Model, text: str | None) -> tuple[set[Outcome], str | None, dict | None]:
    """The acceptable outcomes of one frame (None: a binary frame), the ref
    its reply must carry, and the frame as parsed."""
    if text is None:
        return {Outcome("error", "bad_frame")}, None, None
    try:
        raw = json.loads(text, parse_constant=_not_json)
    except (ValueError, RecursionError):
        raw = None
    if not isinstance(raw, dict):
        return {Outcome("error", "bad_frame")}, None, None
    ref = raw.get("ref")
    ref_ok = ref is None or (isinstance(ref, str) and len(ref) <= 64)
    echo = ref if ref_ok else None
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind:
        return {Outcome("error", "bad_frame")}, echo, raw
    if kind not in CLIENT_TYPES:
        return {Outcome("error", "unknown_type")}, echo, raw
    if not ref_ok:
        return {Outcome("error", "invalid", "ref")}, None, raw
    wrong, unclear = shape_errors(kind, raw)
    if wrong:
        return _invalid(wrong | unclear), echo, raw
    return _invalid(unclear) | _expect_valid(model, kind, raw), echo, raw


def _expect_valid(model: Model, kind: str, raw: dict) -> set[Outcome]:
    if kind == "ping":
        return {Outcome("pong")}
    room = raw["room"]
    if room not in model.heads:
        return {Outcome("error", "not_found")}
    if kind == "join":
        return {Outcome("joined")}
    if room not in model.streams:
        return {Outcome("error", "not_joined")}
    if kind == "leave":
        return {Outcome("left")}
    if kind in ("typing", "read"):
        return {Outcome("")}
    if kind == "history":
        return {Outcome("history")}
    outcome = _entry_outcome(model, kind, raw)
    client_id = raw.get("client_id")
    if client_id is not None and (room, client_id) in model.client_ids:
        # G4. How a repeat ranks against a bad target the page leaves open.
        return {Outcome("ack")} if outcome.type == "ack" else {Outcome("ack"), outcome}
    return {outcome}


def _entry_outcome(model: Model, kind: str, raw: dict) -> Outcome:
    """send, edit, delete, react in a joined room (alice is a plain user), in
    the page's precedence: a bad target (invalid), forbidden, read_only."""
    messages = model.messages_of(raw["room"])
    if kind == "send":
        reply_to = raw.get("reply_to")
        if reply_to is not None and reply_to not in messages:
            return Outcome("error", "invalid", "reply_to")
    else:
        target = messages.get(raw["seq"])
        if target is None:
            return Outcome("error", "invalid", "seq")
        if kind != "delete" and (target.deleted or target.author is None):
            return Outcome("error", "invalid", "seq")
        if kind in ("edit", "delete") and target.author != "alice":
            return Outcome("error", "forbidden")
    if raw["room"] in model.archived:
        return Outcome("error", "read_only")
    return Outcome("ack")


def matches(outcome: Outcome, reply: dict) -> bool:
    if reply["type"] != outcome.type:
        return False
    return outcome.type != "error" or (reply["code"], reply.get("field")) == (
        outcome.code,
        outcome.field,
    )


# --- what the replies say ------------------------------------------------------------------


def check_reply(model: Model, raw: dict, reply: dict) -> None:
    """The content of a successful reply; an ack updates the model."""
    kind = reply["type"]
    if kind == "pong":
        assert reply["heads"] == {room: model.heads[room] for room in model.streams}, reply
    elif kind == "joined":
        room, head = raw["room"], model.heads[raw["room"]]
        expected = (room, head, room in model.archived)
        assert (reply["room"], reply["head"], reply["read_only"]) == expected, reply
        if raw.get("since") is not None:
            start, limit = min(raw["since"], head), raw.get("limit")
            raised = limit is not None and head - limit > start
            assert (reply["since"], reply["truncated"]) == (
                head - limit if raised else start,
                raised,
            ), reply
        assert 0 <= reply["since"] <= head, reply
    elif kind == "left":
        assert (reply["room"], reply["reason"]) == (raw["room"], "leave"), reply
    elif kind == "history":
        _check_history(model, raw, reply)
    elif kind == "ack":
        _apply_ack(model, raw, reply)


def _check_history(model: Model, raw: dict, reply: dict) -> None:
    """Messages only, below `before`, the newest `limit` of them (fewer when
    the page's size cap cut it, which has_more then says)."""
    messages = model.messages_of(raw["room"])
    before = raw.get("before")
    before = model.heads[raw["room"]] + 1 if before is None else before
    older = sorted(seq for seq in messages if seq < before)
    page = [message["seq"] for message in reply["messages"]]
    limit = raw.get("limit") or 50
    assert len(page) <= limit and page == older[len(older) - len(page) :], (page, older)
    assert reply["has_more"] is (len(page) < len(older)), reply
    for message in reply["messages"]:
        assert message["deleted"] is messages[message["seq"]].deleted, message


def _apply_ack(model: Model, raw: dict, reply: dict) -> None:
    room, client_id = raw["room"], raw.get("client_id")
    assert (reply["room"], reply["client_id"]) == (room, client_id), reply
    if (room, client_id) in model.client_ids:  # G4
        assert (reply["seq"], reply["duplicate"]) == (model.client_ids[room, client_id], True)
        return
    assert reply["duplicate"] is False, reply
    assert reply["seq"] == model.heads[room] + 1, (reply, model.heads)  # G1
    model.heads[room] = reply["seq"]
    if client_id is not None:
        model.client_ids[room, client_id] = reply["seq"]
    if raw["type"] == "send":
        model.messages[reply["seq"]] = Held("alice")
    elif raw["type"] == "delete":
        model.messages[raw["seq"]].deleted = True


def follow_stream(model: Model, reply: dict) -> None:
    """A `joined` starts the room's stream at its since, a `left` ends it."""
    if reply["type"] == "joined":
        model.streams[reply["room"]] = reply["since"]
    elif reply["type"] == "left":
        model.streams.pop(reply["room"], None)


def take_stream_frame(model: Model, frame: dict) -> None:
    """A frame of a room's stream: only of a joined room, entries gapless."""
    room = frame.get("room")
    assert room in model.streams, f"{frame['type']} of a room not joined: {frame}"
    entries = {"backfill": frame.get("messages", []), "message": [frame.get("message")]}
    for entry in entries.get(frame["type"], []):
        assert entry["seq"] == model.streams[room] + 1, (entry, model.streams)
        model.streams[room] = entry["seq"]


# --- the test ------------------------------------------------------------------------------


class Socket:
    """The client's socket, with a trace of its last frames both ways."""

    def __init__(self, client):
        self.client = client
        self.trace: deque[str] = deque(maxlen=40)
        self.clean = True  # the last example passed: nothing unread is left over

    async def put(self, frame: dict | str | bytes) -> None:
        if isinstance(frame, dict):
            frame = json.dumps(frame)
        self.trace.append(f">> {frame[:300]!r}")
        # As a server hands a WebSocket frame to the app (an empty one too,
        # which the communicator's send_to refuses).
        key = "bytes" if isinstance(frame, bytes) else "text"
        await self.client.communicator.send_input({"type": "websocket.receive", key: frame})

    async def get(self) -> dict:
        text = await self.client.recv_text()
        self.trace.append(f"<< {text[:300]}")
        return json.loads(text)


@pytest.fixture
def world(settings, alice, bob, room_factory):
    """lobby (bob's message 1, a system message 2), the archived attic, bob's
    private secret; no frame budget or rate limit to muddle the replies."""
    settings.ROOMS_FRAME_RATE = None
    settings.ROOMS_RATE_LIMIT = None
    lobby = room_factory("lobby")
    services.message_post(room=lobby, author=bob, body="hello", check_rate=False)
    services.message_post(room=lobby, author=None, body="a system note", check_rate=False)
    room_factory("attic", is_archived=True)
    room_factory("secret", is_private=True, members=[bob])


@pytest.fixture
async def socket(clients, world, alice):
    """Alice's one socket, for every example of the test."""
    return Socket(await clients.connect(alice))


# No shrinking: the examples share one socket and one database, so a shorter
# example meets another state; a failure reports its frames and the trace.
@settings(
    max_examples=200,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(wires=st.lists(WIRES, min_size=1, max_size=10))
async def test_every_frame_gets_exactly_its_reply_and_the_socket_stays_usable(socket, wires):
    model = await _start(socket)
    socket.clean = False
    try:
        for wire in wires:
            await _exchange(socket, model, wire.payload(model))
        await socket.put({"type": "ping", "ref": "still usable"})
        while (pong := await socket.get())["type"] != "pong":
            take_stream_frame(model, pong)
        assert pong.get("ref") == "still usable", pong
        socket.clean = True
    except AssertionError as failure:
        trace = "\n".join(socket.trace)
        raise AssertionError(f"{failure}\n--- the socket's last frames:\n{trace}") from None


async def _start(socket: Socket) -> Model:
    """Each example starts with both rooms joined at their heads, whatever
    the one before left behind."""
    for room in ROOMS:
        await socket.put({"type": "join", "room": room, "since": MAX_INT})
    await socket.put({"type": "ping", "ref": "start"})
    joined = {}
    while (frame := await socket.get()).get("ref") != "start":
        # After an example that passed, late frames of the streams the
        # re-joins end are fine, nothing else (one that failed left anything).
        assert not socket.clean or frame["type"] in ("joined", *STREAM), f"unexpected {frame}"
        if frame["type"] == "joined":
            joined[frame["room"]] = frame["since"]
    model = await stored_model()
    assert joined == {room: model.heads[room] for room in ROOMS}, joined
    model.streams = joined
    return model


async def _exchange(socket: Socket, model: Model, frame: str | bytes) -> None:
    """Send one frame and the marker; check every frame up to the marker's pong."""
    outcomes, echo, raw = expect(model, None if isinstance(frame, bytes) else frame)
    await socket.put(frame)
    await socket.put({"type": "ping", "ref": MARKER})
    replies = []
    while (reply := await socket.get()).get("ref") != MARKER or reply["type"] != "pong":
        if reply["type"] in STREAM:
            take_stream_frame(model, reply)
        else:
            assert reply["type"] in REPLIES, f"{reply} after {frame!r}"
            replies.append(reply)
            follow_stream(model, reply)
    kind = raw.get("type") if raw and isinstance(raw.get("type"), str) else "-"
    answers = (" ".join(map(str, (r["type"], r.get("code"), r.get("field")))) for r in replies)
    event(f"{kind[:12]}: {', '.join(answers)}")
    context = f"{frame!r} got {replies}, expected one of {outcomes}"
    assert len(replies) <= 1, context
    if not replies:
        assert Outcome("") in outcomes, context
        return
    reply = replies[0]
    assert any(matches(outcome, reply) for outcome in outcomes), context
    assert reply.get("ref") == echo and ("ref" in reply) == (echo is not None), context
    if reply["type"] == "error":
        assert isinstance(reply["message"], str), context
    else:
        check_reply(model, raw, reply)
