"""Property-based tests (hypothesis) of the frame parser and serializers: any
input gives a Frame or a protocol error, never another exception.
"""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rooms import protocol
from rooms.errors import RoomsError
from tests.protocol.test_codes import SERVER_ONLY_TYPES
from tests.protocol.test_frames import PARSE_CODES, parse

# --- properties ------------------------------------------------------------------

# Every code point, lone surrogates included: json.loads can produce them
# from \ud800 escapes, so the parser must cope with them (and they are rare
# in the plain strategy, hence the second one).
ANY_CHAR = st.characters(codec=None, exclude_categories=()) | st.characters(
    min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()
)
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet=ANY_CHAR, max_size=80)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
FIELD_NAMES = ["type", "ref", "room", "since", "limit", "body", "client_id", "seq", "before"]
FRAME_OBJECTS = st.dictionaries(
    st.sampled_from(FIELD_NAMES) | st.text(max_size=8),
    JSON_VALUES,
    max_size=8,
).flatmap(
    lambda base: st.fixed_dictionaries(
        {"type": st.sampled_from([*protocol.CLIENT_TYPES, *SERVER_ONLY_TYPES]) | JSON_VALUES}
    ).map(lambda typed: {**base, **typed})
)
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)


def assert_parses_or_protocol_error(text: str | None, binary: bytes | None = None) -> None:
    try:
        frame = parse(text, binary)
    except RoomsError as error:
        assert error.code in PARSE_CODES
        rendered = protocol.error_from(error)
        # Valid JSON, and encodable as UTF-8 (a lone surrogate in an echoed
        # ref must not break the socket's send).
        rendered.encode("utf-8")
        decoded = json.loads(rendered)
        assert decoded["type"] == "error"
        assert decoded["code"] == error.code
        assert error.ref is None or (isinstance(error.ref, str) and len(error.ref) <= 64)
    else:
        assert frame.type in protocol.CLIENT_TYPES
        assert frame.ref is None or (isinstance(frame.ref, str) and len(frame.ref) <= 64)


@PROPERTY_SETTINGS
@given(st.text(alphabet=ANY_CHAR))
def test_any_text_parses_or_gives_a_protocol_error(text):
    assert_parses_or_protocol_error(text)


@PROPERTY_SETTINGS
@given(st.binary())
def test_any_bytes_parse_or_give_a_protocol_error(data):
    assert_parses_or_protocol_error(None, data)
    assert_parses_or_protocol_error(data.decode("utf-8", "replace"))


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(FRAME_OBJECTS)
def test_any_json_object_parses_or_gives_a_protocol_error(frame):
    assert_parses_or_protocol_error(json.dumps(frame))
    assert_parses_or_protocol_error(json.dumps(frame, ensure_ascii=False, allow_nan=True))


@PROPERTY_SETTINGS
@given(
    st.sampled_from(sorted(PARSE_CODES | {"not_found", "rate_limited", "server_error"})),
    st.text(alphabet=ANY_CHAR, max_size=100),
    st.none() | st.text(alphabet=ANY_CHAR, max_size=64),
    st.none() | st.sampled_from(FIELD_NAMES),
    st.none() | st.floats(min_value=0.001, max_value=3600),
)
def test_error_frames_always_serialize_to_valid_json(code, text, ref, field, retry_after):
    rendered = protocol.error(code, text, ref=ref, field=field, retry_after=retry_after)
    rendered.encode("utf-8")
    decoded = json.loads(rendered)
    assert decoded["code"] == code
    assert decoded["message"] == text
    assert decoded.get("ref") == ref
