"""Read-only outlives membership (docs/room-management.md, Roles): someone
made read-only stays read-only in the room after they are removed or leave,
until a moderator, staff or an operator gives them a writing role again.
The group commit refuses their entries the way it refuses a read-only
member's, and a join says `read_only`."""

import pytest
from channels.db import database_sync_to_async

from rooms import access, selectors, services
from rooms.errors import RoomsError
from rooms.models import Membership

pytestmark = pytest.mark.django_db

Role = Membership.Role


@pytest.fixture
def dave(user_factory):
    return user_factory("dave")


@pytest.fixture
def town(alice):
    """A public room alice moderates."""
    return services.room_create_by(by=alice, slug="town")


def post_refusal(room, user) -> str | None:
    try:
        services.message_post(room=room, author=user, body="still here")
    except RoomsError as error:
        return error.code
    return None


def joined_read_only(room, user) -> bool:
    return selectors.join_start(user=user, slug=room.slug, since=None, limit=None)[0].read_only


def test_a_read_only_member_removed_from_a_public_room_still_may_not_post(alice, dave, town):
    services.membership_invite_by(room=town, by=alice, username="dave", role=Role.READ_ONLY)
    refused_as_member = post_refusal(town, dave)
    services.membership_remove_by(room=town, by=alice, username="dave")
    assert post_refusal(town, dave) == refused_as_member == "forbidden"
    assert joined_read_only(town, dave)
    assert access.room_access(user=dave, slug="town").read_only


def test_leaving_keeps_the_restriction(alice, dave, town):
    services.membership_invite_by(room=town, by=alice, username="dave", role=Role.READ_ONLY)
    services.membership_leave(room=town, user=dave)
    assert post_refusal(town, dave) == "forbidden"
    assert joined_read_only(town, dave)


def test_an_operators_removal_keeps_it_too(alice, dave, town):
    services.membership_set_role(room=town, user=dave, role=Role.READ_ONLY)
    services.membership_remove(room=town, user=dave)
    assert post_refusal(town, dave) == "forbidden"


def test_a_writing_role_lifts_the_restriction(alice, dave, town):
    services.membership_invite_by(room=town, by=alice, username="dave", role=Role.READ_ONLY)
    services.membership_remove_by(room=town, by=alice, username="dave")
    services.membership_invite_by(room=town, by=alice, username="dave", role=Role.MEMBER)
    assert post_refusal(town, dave) is None
    services.membership_remove_by(room=town, by=alice, username="dave")
    assert post_refusal(town, dave) is None
    assert not joined_read_only(town, dave)


def test_a_role_change_to_read_only_and_back(alice, dave, town):
    services.membership_invite_by(room=town, by=alice, username="dave")
    services.membership_set_role_by(room=town, by=alice, username="dave", role=Role.READ_ONLY)
    assert post_refusal(town, dave) == "forbidden"
    services.membership_set_role_by(room=town, by=alice, username="dave", role=Role.MODERATOR)
    assert post_refusal(town, dave) is None


def test_the_restriction_is_one_rooms(alice, dave, town):
    other = services.room_create_by(by=alice, slug="other")
    services.membership_invite_by(room=town, by=alice, username="dave", role=Role.READ_ONLY)
    services.membership_remove_by(room=town, by=alice, username="dave")
    assert post_refusal(other, dave) is None
    assert not joined_read_only(other, dave)


def test_changes_of_a_restricted_user_are_refused_like_sends(alice, dave, town):
    seq = services.message_post(room=town, author=dave, body="before").seq
    services.membership_set_role(room=town, user=dave, role=Role.READ_ONLY)
    services.membership_remove(room=town, user=dave)
    with pytest.raises(RoomsError) as caught:
        services.entry_post(room=town, author=dave, kind="edit", target=seq, body="after")
    assert caught.value.code == "forbidden"


@pytest.mark.django_db(transaction=True)
async def test_a_socket_joining_after_the_removal_is_read_only_and_its_sends_refused(
    clients, alice, dave
):
    @database_sync_to_async
    def restrict_then_remove():
        town = services.room_create_by(by=alice, slug="town")
        services.membership_invite_by(room=town, by=alice, username="dave", role=Role.READ_ONLY)
        services.membership_remove_by(room=town, by=alice, username="dave")

    await restrict_then_remove()
    socket = await clients.connect(dave)
    assert (await socket.join("town"))["read_only"] is True
    await socket.error(
        {"type": "send", "room": "town", "body": "hi", "ref": "s"}, "forbidden", skip=("backfill",)
    )
