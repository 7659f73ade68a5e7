"""The resume window on its own (rooms/realtime/window.py): contiguous to the
feed's head, bounded by count and bytes, and what a change entry marks stale.
Entries here are JSON as the group commit publishes it."""

from datetime import UTC, datetime

from rooms import protocol
from rooms.realtime.window import ResumeWindow

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def message(seq: int, body: str = "") -> tuple[int, str]:
    text = protocol.entry_json(
        seq=seq,
        room="lobby",
        kind="text",
        author="alice",
        created_at=NOW,
        client_id=None,
        body=body or f"message {seq}",
    )
    return seq, text


def change(seq: int, kind: str, target: int) -> tuple[int, str]:
    fields = {"body": "edited"} if kind == "edit" else {}
    if kind == "reaction":
        fields = {"emoji": "👍", "on": True}
    text = protocol.entry_json(
        seq=seq,
        room="lobby",
        kind=kind,
        author="bob",
        created_at=NOW,
        client_id=None,
        target=target,
        **fields,
    )
    return seq, text


def window(head: int = 0, *, entries: int = 100, size: int = 1 << 20) -> ResumeWindow:
    return ResumeWindow(head, max_entries=entries, max_bytes=size)


def test_a_window_covers_since_from_its_start_to_its_head():
    held = window(10)
    held.extend([message(11), message(12), message(13)])
    assert (held.start, held.head) == (10, 13)
    assert held.covers(10) and held.covers(12) and held.covers(13)
    assert not held.covers(9) and not held.covers(14)
    rows, stale = held.after(11, 13)
    assert [seq for seq, _ in rows] == [12, 13] and stale == []
    assert held.after(13, 13) == ([], [])


def test_the_oldest_entries_fall_out_past_the_count():
    held = window(entries=3)
    held.extend([message(seq) for seq in range(1, 6)])
    assert [seq for seq, *_ in held.entries] == [3, 4, 5]
    assert held.start == 2 and not held.covers(1) and held.covers(2)


def test_the_oldest_entries_fall_out_past_the_bytes():
    held = window(entries=1000, size=1000)
    held.extend([message(seq, "x" * 300) for seq in range(1, 11)])
    assert held.size <= 1000
    assert held.size == sum(len(text.encode()) for _, text, *_ in held.entries)
    assert len(held) == 2 and held.start == 8


def test_the_bytes_are_utf8_bytes():
    held = window()
    held.extend([message(1, "é" * 100)])
    assert held.size == len(message(1, "é" * 100)[1].encode())


def test_a_run_that_does_not_continue_the_window_starts_it_anew():
    held = window()
    held.extend([message(1), message(2)])
    held.extend([message(5)])  # 3 and 4 were pruned: the feed moved on
    assert (held.start, held.head, len(held)) == (4, 5, 1)
    assert not held.covers(2)


def test_a_window_of_size_zero_holds_nothing_but_follows_the_head():
    held = ResumeWindow(0, max_entries=0, max_bytes=0)
    held.extend([message(1), message(2)])
    assert (len(held), held.start, held.head) == (0, 2, 2)
    assert held.covers(2) and not held.covers(1)


def test_a_change_marks_its_target_stale():
    held = window()
    held.extend([message(1), message(2), change(3, "edit", 1), change(4, "reaction", 2)])
    rows, stale = held.after(0, 4)
    assert [seq for seq, _ in rows] == [1, 2, 3, 4]
    assert stale == [1, 2]
    assert held.after(2, 4)[1] == []  # the changes themselves are as stored


def test_a_deletion_marks_the_message_and_its_edits_stale():
    held = window()
    held.extend([message(1), change(2, "edit", 1), message(3), change(4, "edit", 1)])
    held.extend([change(5, "delete", 1)])
    assert held.after(0, 5)[1] == [1, 2, 4]


def test_a_change_of_a_message_below_the_window_marks_nothing():
    held = window(10)
    held.extend([change(11, "edit", 3)])
    assert held.after(10, 11)[1] == []


def test_refreshed_entries_are_no_longer_stale_unless_a_change_came_meanwhile():
    held = window()
    held.extend([message(1), change(2, "edit", 1)])
    version = held.version
    held.refresh({1: message(1, "edited")[1]}, version)
    rows, stale = held.after(0, 2)
    assert stale == [] and '"edited"' in rows[0][1]
    held.extend([change(3, "edit", 1)])
    read_before_it = held.version - 1
    held.refresh({1: message(1, "older")[1]}, read_before_it)
    assert held.after(0, 3)[1] == [1]


def test_retention_trims_the_window_to_the_oldest_seq_still_stored():
    held = window()
    held.extend([message(seq) for seq in range(1, 6)])
    held.trim_below(4)
    assert [seq for seq, *_ in held.entries] == [4, 5] and held.start == 3
    held.trim_below(None)  # read from an empty log: nothing held was pruned
    assert len(held) == 2
