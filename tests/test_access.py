"""Who may see, post in, moderate and manage a room (rooms/access.py): the
predicates on values already read, the same rule as a queryset
(visible_rooms), and the fetch-and-authorize calls."""

import pytest
from django.contrib.auth.models import AnonymousUser, Permission

from rooms import access, services
from rooms.access import room_access
from rooms.errors import RoomsError
from rooms.models import Membership, Message, Room

Role = Membership.Role


class Person:
    """A user as the predicates see one: no database needed."""

    is_authenticated = True

    def __init__(self, *, is_staff=False, is_active=True):
        self.is_staff, self.is_active = is_staff, is_active

    def has_perm(self, perm: str) -> bool:
        return False


# --- the predicates -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("is_private", "role", "seen"),
    [
        (False, None, True),
        (True, None, False),
        (True, Role.READ_ONLY, True),
        (True, Role.MEMBER, True),
    ],
)
def test_a_private_room_is_seen_by_its_members_only(is_private, role, seen):
    assert access.may_see(is_private=is_private, role=role) is seen


@pytest.mark.parametrize(
    ("is_archived", "role", "writes"),
    [
        (False, None, True),
        (False, Role.MEMBER, True),
        (False, Role.MODERATOR, True),
        (False, Role.READ_ONLY, False),
        (True, Role.MODERATOR, False),
    ],
)
def test_nobody_writes_to_an_archived_room_nor_a_read_only_member(is_archived, role, writes):
    assert access.may_write(is_archived=is_archived, role=role) is writes


@pytest.mark.parametrize(
    ("role", "restricted", "writes"),
    [
        (None, True, False),  # made read-only, then removed or left
        (None, False, True),
        (Role.READ_ONLY, True, False),
        (Role.MEMBER, False, True),
    ],
)
def test_a_restriction_outlives_the_membership(role, restricted, writes):
    assert access.may_write(is_archived=False, role=role, restricted=restricted) is writes


@pytest.mark.django_db
def test_room_access_reads_the_restriction_of_someone_no_longer_a_member(room_factory, bob):
    room = room_factory("lobby")
    services.membership_set_role(room=room, user=bob, role=Role.READ_ONLY)
    services.membership_remove(room=room, user=bob)
    seen = room_access(user=bob, slug="lobby")
    assert (seen.role, seen.restricted, seen.read_only) == (None, True, True)


def test_moderators_and_active_staff_moderate():
    assert access.may_moderate(user=Person(), role=Role.MODERATOR)
    assert access.may_moderate(user=Person(is_staff=True), role=None)
    assert not access.may_moderate(user=Person(), role=Role.MEMBER)
    assert not access.may_moderate(user=Person(), role=None)


def test_an_inactive_staff_user_does_not_moderate():
    gone = Person(is_staff=True, is_active=False)
    assert not access.may_moderate(user=gone, role=None)
    assert not access.is_operator(gone) and access.is_operator(Person(is_staff=True))


def test_nobody_manages_a_direct_conversation():
    moderator, staff = Person(), Person(is_staff=True)
    assert access.may_manage(user=moderator, role=Role.MODERATOR, kind=Room.Kind.ROOM)
    assert access.may_manage(user=staff, role=None, kind=Room.Kind.ROOM)
    assert not access.may_manage(user=moderator, role=Role.MODERATOR, kind=Room.Kind.DIRECT)
    assert not access.may_manage(user=staff, role=None, kind=Room.Kind.DIRECT)
    assert not access.may_manage(user=Person(), role=Role.MEMBER, kind=Room.Kind.ROOM)


@pytest.mark.django_db
def test_who_may_create_rooms_follows_the_setting(settings, user_factory):
    alice, staff = user_factory("alice"), user_factory("boss", is_staff=True)
    gone = user_factory("gone", is_active=False)
    assert access.may_create_rooms(alice) and not access.may_create_rooms(gone)
    assert not access.may_create_rooms(AnonymousUser())
    settings.ROOMS_ROOM_CREATION = "staff"
    assert access.may_create_rooms(staff) and not access.may_create_rooms(alice)
    alice.user_permissions.add(Permission.objects.get(codename="add_room"))
    alice = type(alice).objects.get(pk=alice.pk)  # permissions are cached per instance
    assert access.may_create_rooms(alice)


def test_a_direct_conversations_people_cannot_change():
    access.check_people_changeable(Room(kind=Room.Kind.ROOM))
    with pytest.raises(RoomsError) as refused:
        access.check_people_changeable(Room(kind=Room.Kind.DIRECT))
    assert (refused.value.code, refused.value.message) == ("invalid", access.DIRECT_IS_FIXED)


# --- the rule as a queryset -------------------------------------------------------------


def slugs(rooms) -> list[str]:
    return sorted(rooms.values_list("slug", flat=True))


@pytest.mark.django_db
def test_visible_rooms_are_the_public_ones_and_the_users_private_ones(room_factory, alice, bob):
    room_factory("lobby", members=[alice, bob])
    room_factory("secret", is_private=True, members=[alice])
    room_factory("attic", is_archived=True)
    assert slugs(access.visible_rooms(alice)) == ["attic", "lobby", "secret"]
    assert slugs(access.visible_rooms(bob)) == ["attic", "lobby"]
    assert slugs(access.visible_rooms(AnonymousUser())) == ["attic", "lobby"]
    assert slugs(access.visible_rooms(None)) == ["attic", "lobby"]


@pytest.mark.django_db
def test_a_private_room_is_invisible_to_a_staff_user_who_is_not_a_member(
    room_factory, user_factory
):
    staff = user_factory("boss", is_staff=True, is_superuser=True)
    room_factory("secret", is_private=True)
    assert slugs(access.visible_rooms(staff)) == []
    assert room_access(user=staff, slug="secret") is None


@pytest.mark.django_db
def test_visible_q_filters_what_points_at_a_room(room_factory, alice, bob):
    secret = room_factory("secret", is_private=True, members=[alice])
    services.message_post(room=secret, author=alice, body="hidden")
    assert Message.objects.filter(access.visible_q(alice, prefix="room__")).count() == 1
    assert Message.objects.filter(access.visible_q(bob, prefix="room__")).count() == 0


# --- fetch and authorize ----------------------------------------------------------------


@pytest.mark.django_db
def test_public_room_is_visible_to_everyone(room_factory, alice):
    room = room_factory("lobby", title="The Lobby")
    services.message_post(room=room, author=None, body="one")
    services.message_post(room=room, author=None, body="two")
    seen = room_access(user=alice, slug="lobby")
    assert (seen.id, seen.slug, seen.title, seen.head) == (room.id, "lobby", "The Lobby", 2)
    assert (seen.role, seen.last_read_seq, seen.read_only) == (None, None, False)


@pytest.mark.django_db
def test_title_defaults_to_the_slug(room_factory, alice):
    room_factory("untitled")
    assert room_access(user=alice, slug="untitled").title == "untitled"


@pytest.mark.django_db
def test_private_room_is_hidden_from_non_members(room_factory, alice, bob):
    room_factory("secret", is_private=True, members=[alice])
    assert room_access(user=alice, slug="secret").role == Role.MEMBER
    assert room_access(user=bob, slug="secret") is None


@pytest.mark.django_db
def test_private_room_is_hidden_from_staff_who_are_not_members(room_factory, user_factory):
    staff = user_factory("mod", is_staff=True)
    room_factory("secret", is_private=True)
    assert room_access(user=staff, slug="secret") is None
    room_factory("secret", members=[staff])
    assert room_access(user=staff, slug="secret") is not None


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["nope", "has space", "", "x" * 65, "../etc", "é"])
def test_unknown_or_impossible_slugs_are_not_found(room_factory, alice, slug):
    room_factory("lobby")
    assert room_access(user=alice, slug=slug) is None
    with pytest.raises(RoomsError) as refused:
        access.room_access_or_404(user=alice, slug=slug)
    assert refused.value.code == "not_found"


@pytest.mark.django_db
def test_read_only_member_and_archived_room_are_read_only(room_factory, alice, bob):
    room = room_factory("lobby")
    services.membership_set_role(user=alice, room=room, role=Role.READ_ONLY)
    assert room_access(user=alice, slug="lobby").read_only
    assert not room_access(user=bob, slug="lobby").read_only
    services.room_update(room=room, is_archived=True)
    bob_view = room_access(user=bob, slug="lobby")
    assert (bob_view.read_only, bob_view.is_archived) == (True, True)


@pytest.mark.django_db
def test_room_access_carries_the_read_cursor(room_factory, alice):
    room = room_factory("lobby")
    for n in range(4):
        services.message_post(room=room, author=None, body=f"m{n}")
    services.read_cursor_advance(user=alice, room=room_access(user=alice, slug="lobby"), seq=3)
    assert room_access(user=alice, slug="lobby").last_read_seq == 3


@pytest.mark.django_db
def test_room_manager_access_tells_not_found_forbidden_and_direct(room_factory, alice, bob):
    room_factory("secret", is_private=True)
    room_factory("lobby", members=[bob])
    plans = room_factory("plans")
    services.membership_set_role(user=alice, room=plans, role=Role.MODERATOR)
    direct, _ = services.direct_open(user=alice, others=[bob])
    for slug, code in (("secret", "not_found"), ("lobby", "forbidden"), (direct.slug, "invalid")):
        with pytest.raises(RoomsError) as refused:
            access.room_manager_access(user=alice, slug=slug)
        assert refused.value.code == code, slug
    assert access.room_manager_access(user=alice, slug="plans") == plans
