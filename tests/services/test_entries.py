"""The writes of rooms/services/entries.py against the guarantees of
docs/protocol.md: gapless seqs (G1), also across rollbacks, idempotent sends
(G4), archived rooms, the rate limit and read cursors. Concurrent processes
on SQLite and PostgreSQL: test_entries_concurrency.py, test_commit_race.py;
changes to messages: test_changes.py.
"""

import json

import pytest
from django.db import IntegrityError, transaction

from rooms import services
from rooms.access import RoomAccess, room_access
from rooms.errors import RoomsError
from rooms.models import Membership, Message, ReadCursor, Room

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(room_factory):
    return room_factory("lobby")


def post(room, author, body="hi", client_id=None, **extra):
    return services.message_post(room=room, author=author, body=body, client_id=client_id, **extra)


def head(room) -> int:
    return Room.objects.values_list("last_seq", flat=True).get(pk=room.pk)


def stored_seqs(room) -> list[int]:
    return list(Message.objects.filter(room=room).order_by("seq").values_list("seq", flat=True))


# --- G1: sequence ----------------------------------------------------------------


def test_seqs_start_at_one_and_grow_by_one(room, alice):
    assert [post(room, alice, f"m{n}").seq for n in range(3)] == [1, 2, 3]
    assert head(room) == 3
    assert stored_seqs(room) == [1, 2, 3]


def test_each_room_has_its_own_sequence(room_factory, alice):
    first, second = room_factory("first"), room_factory("second")
    assert [post(first, alice).seq, post(second, alice).seq, post(first, alice).seq] == [1, 1, 2]


def test_rollback_of_an_outer_transaction_undoes_the_seq_bump(room, alice):
    post(room, alice, "kept")
    with pytest.raises(IntegrityError), transaction.atomic():
        assert post(room, alice, "doomed").seq == 2
        # A clash on (room, seq) aborts the whole outer transaction.
        Message.objects.create(room=room, seq=1, body="clash")
    assert head(room) == 1
    assert post(room, alice, "next").seq == 2
    assert stored_seqs(room) == [1, 2]


def test_post_result_carries_the_entry_json(room, alice):
    result = post(room, alice, "hello", client_id="c-1")
    assert (result.seq, result.client_id, result.duplicate) == (1, "c-1", False)
    message = json.loads(result.entry)
    assert message["author"] == "alice"
    assert (message["body"], message["kind"], message["room"]) == ("hello", "text", "lobby")


def test_invalid_body_is_rejected_before_anything_is_stored(room, alice):
    for body in ("", "   ", "a\x00b", "x" * 4001):
        with pytest.raises(RoomsError) as caught:
            post(room, alice, body)
        assert (caught.value.code, caught.value.field) == ("invalid", "body")
    assert head(room) == 0


# --- G4: idempotent send ---------------------------------------------------------


def test_repeated_client_id_returns_the_original_seq_as_duplicate(room, alice):
    first = post(room, alice, "once", client_id="c-1")
    post(room, alice, "other")
    again = post(room, alice, "once, again", client_id="c-1")
    assert (again.seq, again.duplicate, again.entry) == (first.seq, True, None)
    assert Message.objects.filter(room=room).count() == 2
    assert head(room) == 2


def test_same_client_id_from_another_user_or_room_is_a_new_message(room_factory, alice, bob):
    lobby, other = room_factory("lobby"), room_factory("other")
    assert post(lobby, alice, client_id="c-1").seq == 1
    from_bob = post(lobby, bob, client_id="c-1")
    in_other_room = post(other, alice, client_id="c-1")
    assert (from_bob.seq, from_bob.duplicate) == (2, False)
    assert (in_other_room.seq, in_other_room.duplicate) == (1, False)


def test_system_messages_with_a_client_id_are_idempotent_too(room):
    first = post(room, None, "deploy done", client_id="deploy-7")
    again = post(room, None, "deploy done", client_id="deploy-7")
    assert (first.seq, first.duplicate) == (1, False)
    assert (again.seq, again.duplicate) == (1, True)
    assert json.loads(first.entry)["kind"] == "system"
    assert json.loads(first.entry)["author"] is None


def test_system_and_user_client_ids_never_collide(room, alice):
    user_first = post(room, alice, client_id="shared")
    system = post(room, None, client_id="shared")
    user_again = post(room, alice, client_id="shared")
    system_again = post(room, None, client_id="shared")
    assert (system.seq, system.duplicate) == (2, False)
    assert (user_again.seq, user_again.duplicate) == (user_first.seq, True)
    assert (system_again.seq, system_again.duplicate) == (2, True)


def test_database_refuses_two_system_messages_with_one_client_id(room):
    # NULL authors are distinct to a plain unique constraint; G4 needs this one.
    Message.objects.create(room=room, seq=1, client_id="x", kind=Message.Kind.SYSTEM)
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(room=room, seq=2, client_id="x", kind=Message.Kind.SYSTEM)


def test_a_batch_isolates_each_requests_failure(room_factory, alice):
    lobby, attic = room_factory("lobby"), room_factory("attic", is_archived=True)
    post(lobby, alice, "before", client_id="old")

    def request(room, body="hi", client_id=None):
        return services.EntryRequest(room, alice, body, client_id)

    results = services.entry_post_many(
        [
            request(lobby, client_id="new"),
            request(lobby, body=" "),
            request(attic),
            request(lobby, client_id="old"),
            request(lobby, client_id="new"),  # a repeat inside the same batch
            request(lobby),
        ]
    )
    ok, blank, archived, old, repeat, last = results
    assert (ok.seq, ok.duplicate, last.seq, last.duplicate) == (2, False, 3, False)
    assert (blank.code, archived.code) == ("invalid", "read_only")
    assert (old.seq, old.duplicate, repeat.seq, repeat.duplicate) == (1, True, 2, True)
    assert stored_seqs(lobby) == [1, 2, 3]
    assert head(attic) == 0


def test_duplicate_of_a_message_sent_before_archiving_is_acked(room, alice):
    first = post(room, alice, client_id="c-1")
    services.room_update(room=room, is_archived=True)
    again = post(room, alice, client_id="c-1")
    assert (again.seq, again.duplicate) == (first.seq, True)


# --- archived rooms and the rate limit --------------------------------------------


@pytest.mark.parametrize("rate_limit", [None, (3, 10)])
def test_send_to_an_archived_room_is_read_only(room_factory, alice, settings, rate_limit):
    settings.ROOMS_RATE_LIMIT = rate_limit
    archived = room_factory("attic", is_archived=True)
    for author in (alice, None):
        with pytest.raises(RoomsError) as caught:
            post(archived, author)
        assert caught.value.code == "read_only"
    assert head(archived) == 0


def test_archiving_and_unarchiving_a_room(room, alice):
    post(room, alice)
    services.room_update(room=room, is_archived=True)
    with pytest.raises(RoomsError):
        post(room, alice)
    services.room_update(room=room, is_archived=False)
    assert post(room, alice).seq == 2


def test_fourth_send_in_the_window_is_rate_limited(room, alice, settings):
    settings.ROOMS_RATE_LIMIT = (3, 10)
    for n in range(3):
        post(room, alice, f"m{n}")
    with pytest.raises(RoomsError) as caught:
        post(room, alice, "one too many")
    assert caught.value.code == "rate_limited"
    assert 0 < caught.value.retry_after <= 10
    assert head(room) == 3


def test_rate_limit_is_per_user_and_spares_system_messages(room, alice, bob, settings):
    settings.ROOMS_RATE_LIMIT = (3, 10)
    for _ in range(3):
        post(room, alice)
    assert post(room, bob).seq == 4
    assert post(room, None).seq == 5
    assert post(room, alice, check_rate=False).seq == 6


def test_duplicates_do_not_count_and_are_acked_at_the_limit(room, alice, settings):
    settings.ROOMS_RATE_LIMIT = (3, 10)
    post(room, alice, client_id="c-0")
    for _ in range(4):
        assert post(room, alice, client_id="c-0").duplicate
    post(room, alice, client_id="c-1")
    post(room, alice, client_id="c-2")  # the third stored send
    at_limit = post(room, alice, client_id="c-1")
    assert (at_limit.seq, at_limit.duplicate) == (2, True)
    with pytest.raises(RoomsError) as caught:
        post(room, alice, client_id="c-3")
    assert caught.value.code == "rate_limited"


def test_archived_wins_over_rate_limited(room_factory, alice, settings):
    settings.ROOMS_RATE_LIMIT = (1, 10)
    post(room_factory("open"), alice)
    with pytest.raises(RoomsError) as caught:
        post(room_factory("attic", is_archived=True), alice)
    assert caught.value.code == "read_only"


# --- read cursors ------------------------------------------------------------------


def seen_by(user, room) -> RoomAccess:
    return room_access(user=user, slug=room.slug)


def cursor(user, room):
    return ReadCursor.objects.get(user=user, room=room).seq


def test_read_cursor_only_moves_forward(room, alice):
    for n in range(5):
        post(room, alice, f"m{n}")
    assert services.read_cursor_advance(user=alice, room=seen_by(alice, room), seq=3) == 3
    assert services.read_cursor_advance(user=alice, room=seen_by(alice, room), seq=1) == 3
    assert cursor(alice, room) == 3
    assert services.read_cursor_advance(user=alice, room=seen_by(alice, room), seq=5) == 5


def test_read_cursor_is_clamped_to_the_head(room, alice):
    post(room, alice)
    post(room, alice)
    assert services.read_cursor_advance(user=alice, room=seen_by(alice, room), seq=99) == 2
    assert cursor(alice, room) == 2


def test_read_cursor_is_per_user(room, alice, bob):
    post(room, alice)
    services.read_cursor_advance(user=alice, room=seen_by(alice, room), seq=1)
    assert not Membership.objects.filter(user=bob, room=room).exists()
