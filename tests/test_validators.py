"""The domain's checks of what people type (rooms/validators.py), at their
edges: each accepts up to its limit and refuses one past it, counts code
points, and refuses what no client should send (NUL, lone surrogates,
booleans for integers). Every refusal is `invalid` with the field's name.
"""

import pytest

from rooms import validators
from rooms.errors import RoomsError

MAX_BODY = 4000


def refused(check, value, **options) -> RoomsError:
    with pytest.raises(RoomsError) as caught:
        check(value, **options)
    assert caught.value.code == "invalid"
    return caught.value


# --- body ----------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["x", "x" * MAX_BODY, "😀" * MAX_BODY, "  padded\n", "é\u0301"])
def test_a_body_of_1_to_max_code_points_is_kept_exactly(body):
    assert validators.check_body(body, max_body=MAX_BODY) == body


@pytest.mark.parametrize(
    "body",
    [
        None,
        5,
        ["hi"],
        "",
        " \n\t",
        "\u3000\u00a0\u2028",  # Unicode spaces: str.strip() removes them
        "x" * (MAX_BODY + 1),
        "😀" * (MAX_BODY + 1),
        "a\x00b",
        "lone \ud800 surrogate",
    ],
)
def test_a_body_missing_blank_too_long_or_unsafe_is_refused(body):
    assert refused(validators.check_body, body, max_body=MAX_BODY).field == "body"


def test_the_body_limit_is_the_callers():
    assert validators.check_body("abc", max_body=3) == "abc"
    refused(validators.check_body, "abcd", max_body=3)


# --- client_id -----------------------------------------------------------------------


def test_no_client_id_is_none():
    assert validators.check_client_id(None) is None


@pytest.mark.parametrize("client_id", ["c", "c" * 64, "😀" * 64, "any chars: é / ☃ ~"])
def test_a_client_id_of_1_to_64_code_points_of_any_character_is_kept(client_id):
    assert validators.check_client_id(client_id) == client_id


@pytest.mark.parametrize("client_id", ["", "c" * 65, "😀" * 65, "a\x00", "\udfff", 7, True, ["c"]])
def test_a_client_id_empty_too_long_unsafe_or_not_a_string_is_refused(client_id):
    assert refused(validators.check_client_id, client_id).field == "client_id"


# --- seq -----------------------------------------------------------------------------


@pytest.mark.parametrize("seq", [0, 1, validators.MAX_INT])
def test_a_seq_from_0_to_2_to_the_53_minus_1_is_kept(seq):
    assert validators.check_seq(seq) == seq


@pytest.mark.parametrize("seq", [-1, validators.MAX_INT + 1, True, False, 1.0, "1", None])
def test_a_seq_out_of_range_or_not_an_integer_is_refused(seq):
    assert refused(validators.check_seq, seq).field == "seq"


def test_a_seq_refusal_names_the_callers_field():
    assert refused(validators.check_seq, -1, name="reply_to").field == "reply_to"


def test_max_int_is_the_largest_integer_json_clients_read_exactly():
    assert validators.MAX_INT == 2**53 - 1


# --- emoji ---------------------------------------------------------------------------


FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # 7 code points, one glyph


@pytest.mark.parametrize("emoji", ["👍", ":+1:", FAMILY, "🎉" * 16, "x" * 16])
def test_an_emoji_of_1_to_16_code_points_is_kept(emoji):
    assert validators.check_emoji(emoji) == emoji


@pytest.mark.parametrize(
    "emoji",
    ["", "🎉" * 17, FAMILY * 3, "👍 ", "a\tb", "\u3000", "a\x00", "\ud83d", None, 1, ["👍"]],
)
def test_an_emoji_empty_too_long_with_whitespace_or_unsafe_is_refused(emoji):
    assert refused(validators.check_emoji, emoji).field == "emoji"


# --- slug ----------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["a", "lobby", "Room_2-b", "-", "9" * 64])
def test_a_slug_is_1_to_64_letters_digits_dashes_and_underscores(slug):
    assert validators.is_slug(slug)


FULLWIDTH_A = "\uff41"  # looks like "a", is not ASCII


@pytest.mark.parametrize(
    "slug", ["", "a" * 65, "a b", "a.b", "a/b", "café", "lobby\n", "%2e", FULLWIDTH_A]
)
def test_anything_else_is_not_a_slug(slug):
    assert not validators.is_slug(slug)
