"""The reads of a room's log (rooms/selectors/log.py): heads, where a join
starts, keyset pages of entries by seq, and the one rendering of an entry.
"""

import json
from datetime import timedelta

import pytest

from rooms import protocol, selectors, services
from rooms.access import room_access
from rooms.models import Message
from tests.harness import frames

pytestmark = pytest.mark.django_db


def fill(room, count: int, author=None) -> None:
    for n in range(count):
        services.message_post(room=room, author=author, body=f"m{n + 1}", check_rate=False)


def seqs(rows) -> list[int]:
    return [seq for seq, _ in rows]


def test_heads_of_many_rooms_in_one_call(room_factory):
    first, second, empty = room_factory("a"), room_factory("b"), room_factory("c")
    fill(first, 3)
    fill(second, 1)
    heads = selectors.room_heads(room_ids=[first.id, second.id, empty.id])
    assert heads == {first.id: 3, second.id: 1, empty.id: 0}
    assert selectors.room_head(room_id=first.id) == 3
    assert selectors.room_head(room_id=10**9) == 0


def test_messages_after_is_ascending_limited_and_bounded(room_factory):
    room = room_factory("lobby")
    fill(room, 10)
    page = selectors.entries_after(room_id=room.id, slug="lobby", after=3, limit=4)
    assert seqs(page) == [4, 5, 6, 7]
    assert json.loads(page[0][1])["body"] == "m4"
    bounded = selectors.entries_after(room_id=room.id, slug="lobby", after=3, limit=50, up_to=5)
    assert seqs(bounded) == [4, 5]
    assert selectors.entries_after(room_id=room.id, slug="lobby", after=10, limit=5) == []


def test_messages_before_pages_backwards_with_has_more(room_factory):
    room = room_factory("lobby")
    fill(room, 7)
    page, has_more = selectors.messages_before(room_id=room.id, slug="lobby", before=8, limit=3)
    assert (seqs(page), has_more) == ([5, 6, 7], True)
    page, has_more = selectors.messages_before(room_id=room.id, slug="lobby", before=5, limit=4)
    assert (seqs(page), has_more) == ([1, 2, 3, 4], False)
    page, has_more = selectors.messages_before(room_id=room.id, slug="lobby", before=1, limit=4)
    assert (page, has_more) == ([], False)


def test_pages_render_deleted_messages_with_empty_body(room_factory, alice):
    room = room_factory("lobby")
    fill(room, 2, author=alice)
    services.entry_post(room=room, author=alice, kind="delete", target=1)
    page = selectors.entries_after(room_id=room.id, slug="lobby", after=0, limit=5)
    first, second, change = (json.loads(text) for _, text in page)
    assert (first["seq"], first["body"], first["deleted"], first["author"]) == (
        1,
        "",
        True,
        "alice",
    )
    assert (change["kind"], change["target"]) == ("delete", 1)
    assert (second["body"], second["deleted"]) == ("m2", False)


def test_an_entry_reads_back_as_the_commit_published_it(room_factory, alice):
    # One builder (selectors.entry_json) for the commit's entries and the pages'.
    room = room_factory("lobby", members=[alice])
    message = services.message_post(room=room, author=alice, body="hi @bob", client_id="c-1")
    edit = services.entry_post(room=room, author=alice, kind="edit", target=1, body="hello")
    react = services.entry_post(room=room, author=alice, kind="reaction", target=1, emoji="👍")
    page = dict(selectors.entries_after(room_id=room.id, slug="lobby", after=1, limit=5))
    assert (page[2], page[3]) == (edit.entry, react.entry)
    (stored,) = selectors.entries_after(room_id=room.id, slug="lobby", after=0, limit=1)
    now = json.loads(stored[1])
    published = json.loads(message.entry)
    # The message as it stands now differs from its published self only by its changes.
    assert {key: now[key] for key in published if now[key] != published[key]} == {
        "body": "hello",
        "edited_at": now["edited_at"],
        "reactions": {"👍": ["alice"]},
    }
    row = Message.objects.get(room=room, seq=1)
    built = selectors.entry_json(room="lobby", entry=row, author="alice")
    assert json.loads(built) == {**now, "reactions": {}}


def test_entries_of_a_deleted_account_keep_their_kind_with_no_author(room_factory, alice, bob):
    # docs/protocol.md, Entries: `author` is null once the account is deleted.
    room = room_factory("lobby", members=[alice, bob])
    services.message_post(room=room, author=bob, body="hi", check_rate=False)
    services.entry_post(room=room, author=bob, kind="edit", target=1, body="hello")
    services.entry_post(room=room, author=alice, kind="reaction", target=1, emoji="👍")
    bob.delete()
    page = selectors.entries_after(room_id=room.id, slug="lobby", after=0, limit=5)
    entries = [json.loads(text) for _, text in page]
    assert [(e["kind"], e["author"]) for e in entries] == [
        ("text", None),
        ("edit", None),
        ("reaction", "alice"),
    ]
    backfill = frames.server_frame(protocol.backfill("lobby", [text for _, text in page]))
    assert backfill["messages"] == entries


def test_a_page_mixing_stored_and_unstored_json_reads_like_one_rendered_afresh(
    room_factory, alice, bob
):
    # Rows without stored JSON (older than it, or cleared) are rendered.
    room = room_factory("lobby", members=[alice, bob])
    fill(room, 6, author=alice)
    services.entry_post(room=room, author=bob, kind="reaction", target=2, emoji="👍")
    services.entry_post(room=room, author=alice, kind="edit", target=4, body="new")
    services.entry_post(room=room, author=alice, kind="delete", target=5)
    reads = {
        "after": lambda: selectors.entries_after(room_id=room.id, slug="lobby", after=0, limit=20),
        "at": lambda: selectors.entries_at(room_id=room.id, slug="lobby", seqs=[1, 2, 4, 8]),
        "before": lambda: selectors.messages_before(
            room_id=room.id, slug="lobby", before=None, limit=4
        ),
        "backfill": lambda: selectors.backfill_pages(
            room=room_access(user=alice, slug="lobby"), after=0
        ),
    }
    all_stored = {name: read() for name, read in reads.items()}
    assert all_stored["after"] == [
        (seq, text) for seq, text in Message.objects.filter(room=room).values_list("seq", "json")
    ]
    Message.objects.filter(room=room, seq__in=[2, 4, 7, 8]).update(json="")
    mixed = {name: read() for name, read in reads.items()}
    Message.objects.filter(room=room).update(json="")
    rendered = {name: read() for name, read in reads.items()}
    assert mixed == all_stored == rendered
    assert seqs(mixed["after"]) == list(range(1, 10))
    assert json.loads(dict(mixed["after"])[2])["reactions"] == {"👍": ["bob"]}


def test_retention_moves_where_a_join_can_start(room_factory, alice):
    room = room_factory("lobby")
    assert room_access(user=alice, slug="lobby").oldest is None
    fill(room, 3)
    assert room_access(user=alice, slug="lobby").oldest == 1
    _, start, truncated = selectors.join_start(user=alice, slug="lobby", since=0, limit=None)
    assert (start, truncated) == (0, False)
    services.messages_prune(older_than=timedelta(0))
    assert room_access(user=alice, slug="lobby").oldest == 3
    _, start, truncated = selectors.join_start(user=alice, slug="lobby", since=0, limit=None)
    assert (start, truncated) == (2, True)


def test_iter_messages_streams_every_message_in_batches(room_factory):
    room = room_factory("lobby")
    fill(room, 7)
    texts = list(selectors.iter_entries(room=room, since=2, batch=2))
    assert [json.loads(text)["seq"] for text in texts] == [3, 4, 5, 6, 7]
