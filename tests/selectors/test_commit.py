"""The group commit's reads (rooms/selectors/commit.py): the room's flags and
the authors' roles in one query, and the client_ids already stored (G4)."""

import pytest

from rooms import selectors, services
from rooms.models import Membership

pytestmark = pytest.mark.django_db


def test_post_access_reads_the_flags_and_the_roles_asked_about(room_factory, alice, bob):
    room = room_factory("lobby")
    services.membership_set_role(user=alice, room=room, role=Membership.Role.READ_ONLY)
    post = selectors.post_access(room_id=room.id, author_ids=[alice.pk, bob.pk])
    assert (post.exists, post.is_private, post.is_archived) == (True, False, False)
    assert post.roles == {alice.pk: Membership.Role.READ_ONLY}
    services.room_update(room=room, is_archived=True, is_private=True)
    post = selectors.post_access(room_id=room.id, author_ids=[bob.pk])
    assert (post.is_private, post.is_archived, post.roles) == (True, True, {})
    assert not selectors.post_access(room_id=10**9, author_ids=[]).exists


def test_seqs_by_client_id_separates_users_and_system(room_factory, alice):
    room = room_factory("lobby")
    services.message_post(room=room, author=alice, body="mine", client_id="c")
    services.message_post(room=room, author=None, body="system", client_id="c")
    keys = [(room.id, alice.pk, "c"), (room.id, None, "c"), (room.id, None, "d")]
    assert selectors.seqs_by_client_id(keys=keys) == {keys[0]: 1, keys[1]: 2}


def test_post_access_reads_restrictions_and_who_hid_a_conversation_in_one_query(
    room_factory, alice, bob, user_factory, django_assert_num_queries
):
    room = room_factory("lobby")
    services.membership_set_role(user=bob, room=room, role=Membership.Role.READ_ONLY)
    services.membership_remove(user=bob, room=room)
    with django_assert_num_queries(1):
        post = selectors.post_access(room_id=room.id, author_ids=[alice.pk, bob.pk])
    assert (post.roles, post.restricted, post.hidden_by) == ({}, {bob.pk}, frozenset())
    carol = user_factory("carol")
    conversation, _ = services.direct_open(user=alice, others=[carol])
    services.direct_hide(room=conversation, user=carol)
    post = selectors.post_access(room_id=conversation.id, author_ids=[alice.pk])
    assert (post.roles, post.restricted, post.hidden_by) == (
        {alice.pk: Membership.Role.MEMBER},
        frozenset(),
        {carol.pk},
    )
