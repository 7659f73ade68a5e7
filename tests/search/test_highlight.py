"""rooms/search/highlight.py: markers no message can fake, and the marked
text split into segments (the engines' marking: tests/search/test_engines.py)."""

from rooms.search.highlight import WHOLE_MESSAGE_CHARS, markers, segments, snippet


def test_the_markers_occur_in_none_of_the_messages():
    bodies = ["\ue000 taken", "\ue001 too"]
    start, stop = markers(bodies)
    assert start != stop
    assert not any(mark in body for mark in (start, stop) for body in bodies)


def test_segments_merge_neighbours_and_drop_empty_pieces():
    start, stop = "\ue000", "\ue001"
    text = f"a {start}cat{stop}{start}s{stop} here{start}{stop}"
    assert segments(text, start, stop) == [("a ", False), ("cats", True), (" here", False)]


def test_without_a_match_a_long_message_is_cut():
    body = "word " * 100
    (shown,) = snippet(body, None, None)
    assert shown[0].endswith("…") and len(shown[0]) <= WHOLE_MESSAGE_CHARS + 1
    assert snippet("short", None, None) == [("short", False)]
