"""Changes to messages (edit, delete, reaction) and replies through
rooms/services/ (the group commit) against the real database: who may make them, which error
wins when several apply (docs/protocol.md, Precedence), G4 for changes, the
rate limit, the state a message ends in, and unread counts that ignore
change entries.
"""

import json

import pytest
from django.contrib.auth import get_user_model

from rooms import selectors, services
from rooms.errors import RoomsError
from rooms.models import Membership, Message, Reaction, ReadCursor, Room

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol(user_factory):
    return user_factory("carol")


@pytest.fixture
def moderator(user_factory, lobby):
    user = user_factory("mod")
    services.membership_set_role(room=lobby, user=user, role=Membership.Role.MODERATOR)
    return user


@pytest.fixture
def staff(user_factory):
    return user_factory("root", is_staff=True)


def post(room, author, body="hi", **extra):
    return services.message_post(room=room, author=author, body=body, **extra)


def edit(room, author, seq, body="changed", **extra):
    return services.entry_post(
        room=room, author=author, kind="edit", target=seq, body=body, **extra
    )


def delete(room, author, seq, **extra):
    return services.entry_post(room=room, author=author, kind="delete", target=seq, **extra)


def react(room, author, seq, emoji="👍", on=True, **extra):
    return services.entry_post(
        room=room, author=author, kind="reaction", target=seq, emoji=emoji, on=on, **extra
    )


def reply(room, author, reply_to, body="re", **extra):
    return post(room, author, body, reply_to=reply_to, **extra)


def refusal(write, *args, **kwargs) -> tuple[str, str | None]:
    """(code, field) of the RoomsError that `write` raises; nothing is stored."""
    room = args[0]
    before = head(room)
    with pytest.raises(RoomsError) as caught:
        write(*args, **kwargs)
    assert head(room) == before, "a refused write stored an entry"
    return caught.value.code, caught.value.field


def head(room) -> int:
    return Room.objects.values_list("last_seq", flat=True).get(pk=room.pk)


def message(room, seq) -> dict:
    """The message `seq` as a backfill shows it: its current state."""
    ((_, text),) = selectors.entries_after(
        room_id=room.id, slug=room.slug, after=seq - 1, limit=1, up_to=seq
    )
    return json.loads(text)


def entry(result) -> dict:
    return json.loads(result.entry)


def unread(user, room) -> int:
    (listed,) = [row for row in selectors.rooms_for_user(user=user) if row["slug"] == room.slug]
    return listed["unread"]


# --- edit ------------------------------------------------------------------------------


def test_an_author_edits_their_own_text_message(lobby, alice):
    post(lobby, alice, "typo")
    result = edit(lobby, alice, 1, "fixed")
    assert (result.seq, result.duplicate) == (2, False)
    change = entry(result)
    assert (change["kind"], change["target"], change["body"]) == ("edit", 1, "fixed")
    assert (change["author"], change["room"]) == ("alice", "lobby")
    assert (message(lobby, 1)["body"], head(lobby)) == ("fixed", 2)


@pytest.mark.parametrize("editor", ["bob", "moderator", "staff"])
def test_editing_another_users_message_is_forbidden(request, lobby, alice, editor):
    post(lobby, alice, "mine")
    who = request.getfixturevalue(editor)
    assert refusal(edit, lobby, who, 1) == ("forbidden", None)
    assert message(lobby, 1)["body"] == "mine"


@pytest.mark.parametrize("editor", ["alice", "moderator", "staff"])
def test_editing_a_system_message_is_invalid(request, lobby, editor):
    post(lobby, None, "deployed")
    assert refusal(edit, lobby, request.getfixturevalue(editor), 1) == ("invalid", "seq")


def test_editing_or_reacting_to_a_deleted_message_is_invalid(lobby, alice):
    post(lobby, alice, "oops")
    delete(lobby, alice, 1)
    assert refusal(edit, lobby, alice, 1) == ("invalid", "seq")
    assert refusal(react, lobby, alice, 1) == ("invalid", "seq")
    assert refusal(react, lobby, alice, 1, on=False) == ("invalid", "seq")


# --- delete ----------------------------------------------------------------------------


def test_an_author_deletes_their_own_message(lobby, alice):
    post(lobby, alice, "regret")
    change = entry(delete(lobby, alice, 1))
    assert (change["seq"], change["kind"], change["target"], change["author"]) == (
        2,
        "delete",
        1,
        "alice",
    )
    assert "body" not in change
    assert (message(lobby, 1)["deleted"], message(lobby, 1)["body"]) == (True, "")


def test_a_plain_member_deleting_another_users_message_is_forbidden(room_factory, alice, bob):
    room = room_factory("club", members=[alice, bob])
    post(room, alice, "keep")
    assert refusal(delete, room, bob, 1) == ("forbidden", None)
    assert message(room, 1)["deleted"] is False


@pytest.mark.parametrize("deleter", ["moderator", "staff"])
def test_moderators_and_staff_delete_anyones_message(request, lobby, alice, deleter):
    post(lobby, alice, "rude")
    who = request.getfixturevalue(deleter)
    assert entry(delete(lobby, who, 1))["author"] == who.username
    assert message(lobby, 1)["deleted"] is True


def test_staff_lost_since_the_author_was_loaded_is_lost_for_the_write(lobby, alice, staff):
    """A socket's user object was loaded at its handshake: the group commit
    decides with the rights stored when it locks the author's row."""
    post(lobby, alice, "rude")
    get_user_model().objects.filter(pk=staff.pk).update(is_staff=False)
    assert staff.is_staff  # the object the socket still holds
    assert refusal(delete, lobby, staff, 1) == ("forbidden", None)
    assert message(lobby, 1)["deleted"] is False


def test_a_moderator_of_another_room_may_not_delete_here(room_factory, lobby, alice, bob):
    elsewhere = room_factory("elsewhere")
    services.membership_set_role(room=elsewhere, user=bob, role=Membership.Role.MODERATOR)
    post(lobby, alice)
    assert refusal(delete, lobby, bob, 1) == ("forbidden", None)


def test_a_system_message_is_deleted_by_a_moderator_but_not_a_member(lobby, alice, moderator):
    post(lobby, None, "maintenance tonight")
    assert refusal(delete, lobby, alice, 1) == ("forbidden", None)
    assert delete(lobby, moderator, 1).seq == 2
    assert (message(lobby, 1)["deleted"], message(lobby, 1)["kind"]) == (True, "system")


def test_deleting_a_deleted_message_stores_another_delete_entry(lobby, alice):
    post(lobby, alice)
    delete(lobby, alice, 1)
    assert delete(lobby, alice, 1).seq == 3
    assert message(lobby, 1)["deleted"] is True


# --- react and reply ---------------------------------------------------------------------


def test_any_member_who_may_send_reacts_and_replies(room_factory, alice, bob, user_factory):
    room = room_factory("club", members=[alice, bob])
    post(room, alice, "question")
    assert entry(react(room, bob, 1, "🎉")) | {"created_at": None} == {
        "seq": 2,
        "room": "club",
        "kind": "reaction",
        "author": "bob",
        "created_at": None,
        "client_id": None,
        "target": 1,
        "emoji": "🎉",
        "on": True,
    }
    answer = entry(reply(room, bob, 1, "answer"))
    assert (answer["seq"], answer["kind"], answer["reply_to"]) == (3, "text", 1)
    assert message(room, 3)["reply_to"] == 1
    # A public room: any user may send, so any user may react and reply.
    passer_by = user_factory("dave")
    assert react(room, passer_by, 3).seq == 4
    assert reply(room, passer_by, 3).seq == 5


def test_reply_to_a_system_or_deleted_message_is_allowed(lobby, alice):
    post(lobby, None, "news")
    post(lobby, alice, "gone")
    delete(lobby, alice, 2)
    assert reply(lobby, alice, 1).seq == 4
    assert reply(lobby, alice, 2).seq == 5


def test_reply_to_no_message_of_the_room_is_invalid(room_factory, lobby, alice):
    other = room_factory("other")
    post(other, alice)  # seq 1 exists in another room only
    assert refusal(reply, lobby, alice, 1) == ("invalid", "reply_to")
    post(lobby, alice)
    assert refusal(reply, lobby, alice, 2) == ("invalid", "reply_to")
    assert refusal(reply, lobby, None, 7) == ("invalid", "reply_to")


def test_reply_to_a_change_entry_is_invalid(lobby, alice):
    post(lobby, alice)
    edit(lobby, alice, 1)
    react(lobby, alice, 1)
    delete(lobby, alice, 1)
    for change in (2, 3, 4):
        assert refusal(reply, lobby, alice, change) == ("invalid", "reply_to")


@pytest.mark.parametrize("write", [edit, delete, react], ids=["edit", "delete", "react"])
def test_a_change_naming_no_message_or_a_change_entry_is_invalid(lobby, alice, write):
    post(lobby, alice)
    edit(lobby, alice, 1)  # seq 2: a change entry
    for seq in (0, 2, 3, 10**9):
        assert refusal(write, lobby, alice, seq) == ("invalid", "seq")


def test_a_change_of_a_message_in_another_room_is_invalid(room_factory, lobby, alice):
    post(room_factory("other"), alice)
    for write in (edit, delete, react):
        assert refusal(write, lobby, alice, 1) == ("invalid", "seq")


# --- read_only members and archived rooms -------------------------------------------------


def test_a_read_only_member_may_add_no_entry(lobby, alice):
    post(lobby, alice, "said while a member")
    services.membership_set_role(room=lobby, user=alice, role=Membership.Role.READ_ONLY)
    assert refusal(post, lobby, alice) == ("forbidden", None)
    assert refusal(reply, lobby, alice, 1) == ("forbidden", None)
    assert refusal(edit, lobby, alice, 1) == ("forbidden", None)
    assert refusal(delete, lobby, alice, 1) == ("forbidden", None)
    assert refusal(react, lobby, alice, 1) == ("forbidden", None)
    assert refusal(react, lobby, alice, 1, on=False) == ("forbidden", None)


def test_an_archived_room_is_read_only_for_everyone(lobby, alice, bob, moderator, staff):
    post(lobby, alice, "last words")
    post(lobby, None, "closing")
    services.room_update(room=lobby, is_archived=True)
    for author in (alice, bob, moderator, staff):
        assert refusal(post, lobby, author) == ("read_only", None)
        assert refusal(reply, lobby, author, 1) == ("read_only", None)
        assert refusal(react, lobby, author, 1) == ("read_only", None)
    assert refusal(edit, lobby, alice, 1) == ("read_only", None)
    for author in (alice, moderator, staff):
        assert refusal(delete, lobby, author, 1) == ("read_only", None)
    assert refusal(delete, lobby, moderator, 2) == ("read_only", None)
    assert refusal(post, lobby, None) == ("read_only", None)


# --- precedence ----------------------------------------------------------------------------


def test_a_target_naming_no_message_in_an_archived_room_is_invalid_not_read_only(lobby, alice):
    post(lobby, alice)
    edit(lobby, alice, 1)
    services.room_update(room=lobby, is_archived=True)
    for seq in (2, 99):
        assert refusal(edit, lobby, alice, seq) == ("invalid", "seq")
        assert refusal(delete, lobby, alice, seq) == ("invalid", "seq")
        assert refusal(react, lobby, alice, seq) == ("invalid", "seq")
        assert refusal(reply, lobby, alice, seq) == ("invalid", "reply_to")


def test_a_read_only_member_naming_no_message_gets_invalid_not_forbidden(lobby, alice):
    post(lobby, alice)
    services.membership_set_role(room=lobby, user=alice, role=Membership.Role.READ_ONLY)
    assert refusal(edit, lobby, alice, 99) == ("invalid", "seq")
    assert refusal(delete, lobby, alice, 99) == ("invalid", "seq")
    assert refusal(react, lobby, alice, 99) == ("invalid", "seq")
    assert refusal(reply, lobby, alice, 99) == ("invalid", "reply_to")
    post(lobby, None)
    assert refusal(edit, lobby, alice, 2) == ("invalid", "seq")  # a system message


def test_forbidden_wins_over_read_only_and_rate_limited(lobby, alice, bob, settings):
    post(lobby, alice)
    settings.ROOMS_RATE_LIMIT = (1, 10)
    post(lobby, bob)  # bob is at the limit
    assert refusal(edit, lobby, bob, 1) == ("forbidden", None)
    services.room_update(room=lobby, is_archived=True)
    assert refusal(edit, lobby, bob, 1) == ("forbidden", None)
    assert refusal(delete, lobby, bob, 1) == ("forbidden", None)


def test_an_invalid_target_wins_over_the_rate_limit(lobby, alice, settings):
    settings.ROOMS_RATE_LIMIT = (1, 10)
    post(lobby, alice)
    assert refusal(react, lobby, alice, 99) == ("invalid", "seq")
    assert refusal(reply, lobby, alice, 99) == ("invalid", "reply_to")
    assert refusal(react, lobby, alice, 1) == ("rate_limited", None)


def test_a_private_room_gives_a_non_member_not_found_whatever_the_target(
    room_factory, alice, bob, staff, settings
):
    secret = room_factory("secret", is_private=True, members=[alice])
    post(secret, alice, "hidden")
    post(secret, None, "hidden too")
    edit(secret, alice, 1)  # seq 3: a change entry
    settings.ROOMS_RATE_LIMIT = (1, 10)
    post(room_factory("open"), bob)  # bob is at the rate limit too
    for outsider in (bob, staff):
        for seq in (1, 2, 3, 99):
            for write in (edit, delete, react):
                assert refusal(write, secret, outsider, seq) == ("not_found", None)
            assert refusal(reply, secret, outsider, seq) == ("not_found", None)
    services.room_update(room=secret, is_archived=True)
    assert refusal(edit, secret, bob, 99) == ("not_found", None)
    assert refusal(delete, secret, staff, 1) == ("not_found", None)


# --- G4: idempotent changes ------------------------------------------------------------------


def test_a_repeated_edit_stores_nothing_and_acks_the_original_seq(lobby, alice):
    post(lobby, alice, "v1")
    first = edit(lobby, alice, 1, "v2", client_id="e-1")
    again = edit(lobby, alice, 1, "v3", client_id="e-1")
    assert (again.seq, again.client_id, again.duplicate, again.entry) == (2, "e-1", True, None)
    assert first.duplicate is False
    assert (head(lobby), Message.objects.filter(room=lobby).count()) == (2, 2)
    assert message(lobby, 1)["body"] == "v2"


def test_a_repeated_delete_stores_nothing_and_acks_the_original_seq(lobby, alice):
    post(lobby, alice)
    assert delete(lobby, alice, 1, client_id="d-1").seq == 2
    again = delete(lobby, alice, 1, client_id="d-1")
    assert (again.seq, again.duplicate, again.entry) == (2, True, None)
    assert (head(lobby), Message.objects.filter(room=lobby).count()) == (2, 2)


def test_a_repeated_reaction_stores_nothing_and_acks_the_original_seq(lobby, alice, bob):
    post(lobby, alice)
    assert react(lobby, bob, 1, "👍", client_id="r-1").seq == 2
    again = react(lobby, bob, 1, "👍", on=False, client_id="r-1")
    assert (again.seq, again.duplicate, again.entry) == (2, True, None)
    assert message(lobby, 1)["reactions"] == {"👍": ["bob"]}
    assert head(lobby) == 2


def test_a_client_id_is_one_namespace_for_messages_and_changes(lobby, alice):
    sent = post(lobby, alice, client_id="c-1")
    again = react(lobby, alice, 1, client_id="c-1")
    assert (again.seq, again.duplicate) == (sent.seq, True)
    assert head(lobby) == 1


def test_a_repeated_change_is_acked_at_the_rate_limit_and_in_an_archived_room(
    lobby, alice, settings
):
    settings.ROOMS_RATE_LIMIT = (3, 10)
    post(lobby, alice)
    edit(lobby, alice, 1, client_id="e-1")
    react(lobby, alice, 1, client_id="r-1")  # the third stored entry: at the limit
    for write, client_id in ((edit, "e-1"), (react, "r-1")):
        at_limit = write(lobby, alice, 1, client_id=client_id)
        assert (at_limit.seq, at_limit.duplicate) == ({"e-1": 2, "r-1": 3}[client_id], True)
    assert refusal(delete, lobby, alice, 1, client_id="d-1") == ("rate_limited", None)
    services.room_update(room=lobby, is_archived=True)
    assert edit(lobby, alice, 1, client_id="e-1").duplicate is True


def test_a_repeated_client_id_within_one_batch_is_stored_once(lobby, alice):
    post(lobby, alice)

    def request(client_id):
        return services.EntryRequest(
            room=lobby, author=alice, kind="reaction", target=1, emoji="👍", client_id=client_id
        )

    first, repeat, other = services.entry_post_many([request("r"), request("r"), request("s")])
    assert (first.seq, first.duplicate, repeat.seq, repeat.duplicate) == (2, False, 2, True)
    assert (other.seq, head(lobby)) == (3, 3)


# --- the rate limit ---------------------------------------------------------------------------


def test_the_rate_limit_counts_changes_like_messages(lobby, alice, bob, settings):
    settings.ROOMS_RATE_LIMIT = (3, 10)
    post(lobby, bob)
    post(lobby, alice)
    edit(lobby, alice, 2)
    react(lobby, alice, 1)  # three stored entries of alice's: the limit
    for write, args in ((post, ()), (edit, (2,)), (delete, (2,)), (react, (1,)), (reply, (1,))):
        with pytest.raises(RoomsError) as caught:
            write(lobby, alice, *args)
        assert caught.value.code == "rate_limited"
        assert 0 < caught.value.retry_after <= 10
    assert head(lobby) == 4
    assert react(lobby, bob, 2).seq == 5  # bob has stored one


def test_refused_changes_do_not_count_against_the_rate_limit(lobby, alice, bob, settings):
    settings.ROOMS_RATE_LIMIT = (2, 10)
    post(lobby, bob)
    for _ in range(3):
        refusal(edit, lobby, alice, 1)  # forbidden
        refusal(react, lobby, alice, 99)  # invalid
    assert react(lobby, alice, 1).seq == 2
    assert post(lobby, alice).seq == 3
    assert refusal(post, lobby, alice) == ("rate_limited", None)


# --- the state a message ends in ----------------------------------------------------------------


def test_an_edit_sets_the_body_and_edited_at_to_the_edit_entrys_created_at(lobby, alice):
    post(lobby, alice, "v1")
    assert message(lobby, 1)["edited_at"] is None
    first = entry(edit(lobby, alice, 1, "v2"))
    shown = message(lobby, 1)
    assert (shown["body"], shown["edited_at"]) == ("v2", first["created_at"])
    second = entry(edit(lobby, alice, 1, "v3"))
    shown = message(lobby, 1)
    assert (shown["body"], shown["edited_at"]) == ("v3", second["created_at"])
    stored = Message.objects.get(room=lobby, seq=3)
    assert Message.objects.get(room=lobby, seq=1).edited_at == stored.created_at
    # Each edit entry keeps the body it assigned.
    edits = Message.objects.filter(room=lobby, kind="edit").order_by("seq")
    assert list(edits.values_list("body", flat=True)) == ["v2", "v3"]


def test_a_delete_blanks_the_body_and_removes_the_reactions(lobby, alice, bob, moderator):
    post(lobby, alice, "controversial")
    reply(lobby, bob, 1, "agreed")
    react(lobby, bob, 1, "👍")
    react(lobby, alice, 1, "🔥")
    delete(lobby, moderator, 1)
    shown = message(lobby, 1)
    assert (shown["body"], shown["deleted"], shown["reactions"]) == ("", True, {})
    assert (shown["seq"], shown["author"], shown["kind"]) == (1, "alice", "text")
    assert not Reaction.objects.filter(message__room=lobby, message__seq=1).exists()
    assert message(lobby, 2)["reply_to"] == 1  # the reply still names its placeholder
    history, _ = selectors.messages_before(room_id=lobby.id, slug="lobby", before=None, limit=10)
    assert json.loads(history[0][1])["deleted"] is True


def test_reactions_go_on_and_off_with_sorted_usernames(lobby, alice, bob, carol):
    post(lobby, alice)
    for user in (carol, alice, bob):
        react(lobby, user, 1, "👍")
    react(lobby, bob, 1, "🎉")
    assert message(lobby, 1)["reactions"] == {"👍": ["alice", "bob", "carol"], "🎉": ["bob"]}
    react(lobby, alice, 1, "👍")  # held already: stored, changes nothing
    react(lobby, carol, 1, "🎉", on=False)  # not held: stored, changes nothing
    react(lobby, bob, 1, "👍", on=False)
    assert message(lobby, 1)["reactions"] == {"👍": ["alice", "carol"], "🎉": ["bob"]}
    react(lobby, bob, 1, "🎉", on=False)
    assert message(lobby, 1)["reactions"] == {"👍": ["alice", "carol"]}
    assert head(lobby) == 9


def test_a_batch_rejects_a_reaction_after_a_delete_of_the_same_message(lobby, alice, bob):
    post(lobby, alice)

    def request(author, kind, **fields):
        return services.EntryRequest(room=lobby, author=author, kind=kind, target=1, **fields)

    deleted, reacted, edited = services.entry_post_many(
        [
            request(alice, "delete"),
            request(bob, "reaction", emoji="👍"),
            request(alice, "edit", body="x"),
        ]
    )
    assert (deleted.seq, deleted.duplicate) == (2, False)
    assert (reacted.code, reacted.field) == ("invalid", "seq")
    assert (edited.code, edited.field) == ("invalid", "seq")
    assert head(lobby) == 2
    assert message(lobby, 1)["reactions"] == {}
    assert not Reaction.objects.exists()


def test_a_batch_with_a_reaction_then_a_delete_ends_without_reactions(lobby, alice, bob):
    post(lobby, alice)
    reacted, deleted = services.entry_post_many(
        [
            services.EntryRequest(room=lobby, author=bob, kind="reaction", target=1, emoji="👍"),
            services.EntryRequest(room=lobby, author=alice, kind="delete", target=1),
        ]
    )
    assert (reacted.seq, deleted.seq) == (2, 3)
    assert message(lobby, 1)["reactions"] == {}
    assert not Reaction.objects.exists()


def test_a_refused_request_in_a_batch_changes_no_state(lobby, alice, bob):
    post(lobby, alice, "original")
    results = services.entry_post_many(
        [
            services.EntryRequest(room=lobby, author=bob, kind="edit", target=1, body="hijack"),
            services.EntryRequest(room=lobby, author=bob, kind="delete", target=1),
        ]
    )
    assert [result.code for result in results] == ["forbidden", "forbidden"]
    assert (message(lobby, 1)["body"], message(lobby, 1)["deleted"]) == ("original", False)


# --- unread counts ------------------------------------------------------------------------------


def read_to(user, room, seq) -> None:
    ReadCursor.objects.update_or_create(user=user, room=room, defaults={"seq": seq})


def test_unread_counts_ignore_change_entries(lobby, alice, bob):
    post(lobby, alice, "one")
    read_to(bob, lobby, 1)
    react(lobby, alice, 1, "👍")
    react(lobby, alice, 1, "🎉")
    react(lobby, alice, 1, "🎉", on=False)
    assert (head(lobby), unread(bob, lobby)) == (4, 0)
    edit(lobby, alice, 1)
    delete(lobby, alice, 1)
    assert unread(bob, lobby) == 0
    post(lobby, alice, "two")
    post(lobby, None, "three")
    assert unread(bob, lobby) == 2
    read_to(bob, lobby, 5)  # a cursor may point at a change entry
    assert unread(bob, lobby) == 2


def test_own_messages_and_changes_are_never_unread(lobby, alice, bob):
    post(lobby, bob, "mine")
    reply(lobby, bob, 1, "mine too")
    react(lobby, alice, 1)
    assert unread(bob, lobby) == 0
    assert unread(alice, lobby) == 2
    post(lobby, alice, "hers")
    assert (unread(bob, lobby), unread(alice, lobby)) == (1, 2)
