"""rooms/search/query.py: the parser alone, without a database (the
syntax's effect on results: tests/search/test_engines.py)."""

import datetime

import pytest

from rooms.errors import RoomsError
from rooms.search.query import Query, parse_query


def test_a_query_too_long_is_refused_before_it_is_parsed():
    with pytest.raises(RoomsError) as caught:
        parse_query("x " * 5_000)
    assert caught.value.field == "q" and "500" in caught.value.message


def test_the_parser_reads_words_phrases_exclusions_or_and_filters():
    parsed = parse_query(
        'red "big car" OR truck -blue -"old van" from:@Alice in:Lobby on:2026-05-02'
    )
    assert parsed.clauses == [["red"], ["big car", "truck"]]
    assert parsed.excluded == ["blue", "old van"]
    # Usernames in any case; a room exactly by its slug (slugs are case-sensitive).
    assert (parsed.authors, parsed.rooms) == ({"alice"}, {"Lobby"})
    assert (parsed.after, parsed.before) == (datetime.date(2026, 5, 2), datetime.date(2026, 5, 3))


def test_a_typed_room_and_the_room_argument_name_a_room_alike():
    typed = parse_query("in:CamelRoom").rooms
    given = Query()
    given.add_room("CamelRoom")
    assert typed == given.rooms == {"CamelRoom"}
