"""The parser of client frames (rooms/protocol/parse.py) against
docs/protocol.md: every parse rule and error code, the ref echo rules and
the precedence of errors. The server's frames are tested in test_encode.py,
the vocabulary of types and codes in test_codes.py, property-based checks in
test_properties.py.
"""

import json

import pytest

from rooms import protocol
from rooms.errors import RoomsError
from tests.protocol.test_codes import SERVER_ONLY_TYPES

MAX_BYTES = 64 * 1024
MAX_BODY = 4000
PARSE_CODES = {"bad_frame", "unknown_type", "invalid", "too_large"}


def parse(text: str | None, binary: bytes | None = None) -> protocol.Frame:
    return protocol.parse_frame(text, binary, max_bytes=MAX_BYTES, max_body=MAX_BODY)


def parse_obj(frame: dict) -> protocol.Frame:
    return parse(json.dumps(frame))


def rejected(text: str | None, binary: bytes | None = None) -> RoomsError:
    with pytest.raises(RoomsError) as caught:
        parse(text, binary)
    return caught.value


def rejected_obj(frame: dict) -> RoomsError:
    return rejected(json.dumps(frame))


# --- bad_frame -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "{",
        '{"type":"ping"} trailing',
        "NaN",
        '{"type":"ping","x":NaN}',
        '{"type":"ping","x":Infinity}',
        '{"type":"ping","x":-Infinity}',
        '{"type":"join","room":"a","since":NaN}',
    ],
)
def test_text_that_is_not_json_is_bad_frame(text):
    assert rejected(text).code == "bad_frame"


@pytest.mark.parametrize("text", ["[]", '["ping"]', "1", '"ping"', "null", "true"])
def test_json_that_is_not_an_object_is_bad_frame(text):
    assert rejected(text).code == "bad_frame"


def test_binary_frame_is_bad_frame():
    assert rejected(None, b'{"type":"ping"}').code == "bad_frame"


@pytest.mark.parametrize("kind", [None, "", 5, True, ["ping"], {"t": "ping"}])
def test_type_missing_or_not_a_non_empty_string_is_bad_frame(kind):
    frame = {"ref": "r1"} if kind is None else {"type": kind, "ref": "r1"}
    error = rejected_obj(frame)
    assert error.code == "bad_frame"
    assert error.ref == "r1"


def test_frame_over_the_byte_limit_is_too_large():
    text = json.dumps({"type": "ping", "pad": "x" * MAX_BYTES})
    assert rejected(text).code == "too_large"


def test_byte_limit_counts_utf8_bytes_not_characters():
    # 20,000 three-byte characters: 60,000 bytes, under the 64 KiB limit.
    text = json.dumps({"type": "ping", "pad": "€" * 20_000}, ensure_ascii=False)
    assert parse(text).type == "ping"
    over = json.dumps({"type": "ping", "pad": "€" * 22_000}, ensure_ascii=False)
    assert rejected(over).code == "too_large"


# --- unknown_type ----------------------------------------------------------------


# `redact`, a frame of version 1, is gone.
@pytest.mark.parametrize("kind", ["subscribe", "PING", "Join", "redact", *SERVER_ONLY_TYPES])
def test_types_a_client_may_not_send_are_unknown_type(kind):
    error = rejected_obj({"type": kind, "ref": "abc"})
    assert error.code == "unknown_type"
    assert error.ref == "abc"


# --- invalid ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["join", "leave", "send", "typing", "read", "history"])
def test_room_missing_or_not_a_string_is_invalid_room(kind):
    extra = {"body": "hi", "seq": 1}
    for frame in ({"type": kind, **extra}, {"type": kind, "room": 5, **extra}):
        error = rejected_obj(frame)
        assert (error.code, error.field) == ("invalid", "room")


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({"type": "join", "room": "a", "since": -1}, "since"),
        ({"type": "join", "room": "a", "since": True}, "since"),
        ({"type": "join", "room": "a", "since": False}, "since"),
        ({"type": "join", "room": "a", "since": "3"}, "since"),
        ({"type": "join", "room": "a", "since": 2**53}, "since"),
        ({"type": "join", "room": "a", "limit": 0}, "limit"),
        ({"type": "join", "room": "a", "limit": True}, "limit"),
        ({"type": "read", "room": "a"}, "seq"),
        ({"type": "read", "room": "a", "seq": -5}, "seq"),
        ({"type": "read", "room": "a", "seq": True}, "seq"),
        ({"type": "history", "room": "a", "limit": 0}, "limit"),
        ({"type": "history", "room": "a", "limit": 201}, "limit"),
        ({"type": "history", "room": "a", "before": -1}, "before"),
        ({"type": "history", "room": "a", "before": [1]}, "before"),
        ({"type": "send", "room": "a", "body": "hi", "client_id": 7}, "client_id"),
        ({"type": "send", "room": "a", "body": "hi", "client_id": ""}, "client_id"),
        ({"type": "send", "room": "a", "body": "hi", "client_id": "c" * 65}, "client_id"),
    ],
)
def test_out_of_range_or_mistyped_fields_are_invalid_with_field(frame, field):
    error = rejected_obj(frame)
    assert (error.code, error.field) == ("invalid", field)


def test_join_presence_extension_takes_only_booleans():
    # docs/protocol.md: `presence: false` joins without being listed online.
    assert parse_obj({"type": "join", "room": "a", "presence": False}).args["presence"] is False
    assert parse_obj({"type": "join", "room": "a", "presence": None}).args["presence"] is True
    for value in (0, 1, "false", []):
        error = rejected_obj({"type": "join", "room": "a", "presence": value})
        assert (error.code, error.field) == ("invalid", "presence")


@pytest.mark.parametrize("number", ["5.0", "1e400", "1E2", "-0.0", "3.5"])
def test_integer_fields_reject_fractions_and_exponents(number):
    error = rejected('{"type":"join","room":"a","since":%s}' % number)  # noqa: UP031
    assert (error.code, error.field) == ("invalid", "since")


def test_integers_span_zero_to_two_to_the_53_minus_one():
    low = parse_obj({"type": "join", "room": "a", "since": 0, "limit": 1})
    assert (low.args["since"], low.args["limit"]) == (0, 1)
    high = parse_obj({"type": "read", "room": "a", "seq": 2**53 - 1})
    assert high.args == {"seq": 2**53 - 1}


@pytest.mark.parametrize(
    "body",
    [
        "",
        " ",
        "\n\t\r ",
        "\u3000\u2003\u00a0\u2028",  # Unicode spaces: str.strip() removes them
        "a\x00b",
        "\ud800",
        "lone \udfff surrogate",
        "x" * (MAX_BODY + 1),
        "😀" * (MAX_BODY + 1),
        5,
        None,
        ["hi"],
    ],
)
def test_bad_bodies_are_invalid_body(body):
    frame = {"type": "send", "room": "a", "client_id": "c1"}
    if body is not None:
        frame["body"] = body
    error = rejected_obj(frame)
    assert (error.code, error.field) == ("invalid", "body")


def test_body_limit_counts_code_points_so_4000_astral_characters_fit():
    body = "😀" * MAX_BODY  # 8,000 UTF-16 units, 16,000 UTF-8 bytes
    frame = parse(json.dumps({"type": "send", "room": "a", "body": body}, ensure_ascii=False))
    assert frame.args["body"] == body
    assert parse_obj({"type": "send", "room": "a", "body": "x" * MAX_BODY}).args["body"]


def test_body_is_kept_exactly_as_sent():
    body = "  padded\nline  \u00e9\u0301 "
    frame = parse_obj({"type": "send", "room": "a", "body": body, "client_id": "c-1"})
    assert frame.args == {"body": body, "client_id": "c-1", "reply_to": None, "attachments": ()}


def test_client_id_counts_code_points():
    frame = parse_obj({"type": "send", "room": "a", "body": "hi", "client_id": "😀" * 64})
    assert frame.args["client_id"] == "😀" * 64


# --- ref -------------------------------------------------------------------------


def test_ref_of_at_most_64_characters_is_kept_and_echoed():
    assert parse_obj({"type": "ping", "ref": "r" * 64}).ref == "r" * 64
    assert parse_obj({"type": "ping", "ref": "😀" * 64}).ref == "😀" * 64
    error = rejected_obj({"type": "send", "room": "a", "body": " ", "ref": "r-9"})
    assert (error.code, error.ref) == ("invalid", "r-9")


@pytest.mark.parametrize("ref", ["r" * 65, 5, True, ["r"], {"r": 1}])
def test_ref_of_another_type_or_length_is_invalid_ref_and_not_echoed(ref):
    error = rejected_obj({"type": "ping", "ref": ref})
    assert (error.code, error.field, error.ref) == ("invalid", "ref", None)
    assert "ref" not in json.loads(protocol.error_from(error))


def test_null_ref_is_the_same_as_no_ref():
    assert parse_obj({"type": "ping", "ref": None}).ref is None
    error = rejected_obj({"type": "join", "ref": None})
    assert (error.code, error.field, error.ref) == ("invalid", "room", None)


# --- precedence ------------------------------------------------------------------


def test_bad_frame_wins_over_a_bad_ref():
    error = rejected_obj({"type": "", "ref": 5})
    assert (error.code, error.ref) == ("bad_frame", None)


def test_unknown_type_wins_over_a_bad_ref_and_bad_fields():
    error = rejected_obj({"type": "ack", "ref": "x" * 99, "room": 5, "seq": -1})
    assert (error.code, error.ref) == ("unknown_type", None)


def test_invalid_ref_is_reported_even_when_other_fields_are_fine():
    error = rejected_obj({"type": "join", "room": "lobby", "ref": 12})
    assert (error.code, error.field) == ("invalid", "ref")


def test_not_json_wins_over_everything():
    assert rejected('{"type":"ack","ref":5,"since":NaN}').code == "bad_frame"


# --- valid frames ----------------------------------------------------------------


def test_every_client_type_parses_to_its_frame():
    frames = [
        {"type": "join", "room": "lobby", "since": 3, "limit": 10},
        {"type": "leave", "room": "lobby"},
        {"type": "send", "room": "lobby", "body": "hi"},
        {"type": "edit", "room": "lobby", "seq": 2, "body": "hey", "client_id": "e"},
        {"type": "delete", "room": "lobby", "seq": 2},
        {"type": "react", "room": "lobby", "seq": 2, "emoji": "👍"},
        {"type": "typing", "room": "lobby"},
        {"type": "read", "room": "lobby", "seq": 4},
        {"type": "history", "room": "lobby", "before": 9, "limit": 200},
        {"type": "ping", "ref": "p"},
    ]
    parsed = [parse_obj(frame) for frame in frames]
    assert [frame.type for frame in parsed] == list(protocol.CLIENT_TYPES)
    assert parsed[0].args == {"since": 3, "limit": 10, "presence": True}
    assert parsed[2].args == {"body": "hi", "client_id": None, "reply_to": None, "attachments": ()}
    assert parsed[3].args == {"seq": 2, "body": "hey", "client_id": "e"}
    assert parsed[4].args == {"seq": 2, "client_id": None}
    assert parsed[5].args == {"seq": 2, "emoji": "👍", "on": True, "client_id": None}
    assert parsed[8].args == {"before": 9, "limit": 200}
    assert parsed[9].ref == "p"


def test_optional_fields_default_as_the_protocol_says():
    join = parse_obj({"type": "join", "room": "a"})
    assert join.args == {"since": None, "limit": None, "presence": True}
    history = parse_obj({"type": "history", "room": "a", "before": None})
    assert history.args == {"before": None, "limit": 50}


def test_unknown_extra_fields_are_ignored():
    assert parse_obj({"type": "ping", "extra": {"nested": [1, 2]}}).type == "ping"
