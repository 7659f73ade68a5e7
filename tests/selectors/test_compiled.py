"""Queries compiled once and run with one value (rooms/selectors/compiled.py):
the same rows as the queryset built for that value, and a query whose SQL
depends on more than the value refused before it runs."""

import pytest

from rooms import services
from rooms.access import room_access
from rooms.models import Room
from rooms.selectors.compiled import CompiledQuery
from rooms.selectors.listings import _LISTING, _listing

pytestmark = pytest.mark.django_db


def test_the_compiled_listing_gives_each_user_the_rows_of_their_own_queryset(
    room_factory, alice, bob
):
    lobby = room_factory("lobby")
    room_factory("secret", is_private=True, members=[bob])
    for n in range(4):
        services.message_post(room=lobby, author=bob, body=f"@alice m{n}", check_rate=False)
    services.read_cursor_advance(user=alice, room=room_access(user=alice, slug="lobby"), seq=1)
    for user in (alice, bob, alice):  # the second alice reuses what bob's call compiled
        assert _LISTING.rows(user) == list(_listing(user))
    assert [row["unread"] for row in _LISTING.rows(alice)] == [3]


def test_a_query_whose_sql_depends_on_more_than_the_value_is_refused(room_factory):
    room_factory("lobby")

    def build(value):
        rooms = Room.objects.filter(slug=value)
        return (rooms if value == "one" else rooms.filter(is_private=False)).values("slug")

    with pytest.raises(RuntimeError, match="depends on more than one value"):
        CompiledQuery(build, stand_ins=("one", "two")).rows("lobby")


def test_a_query_that_does_not_use_the_value_is_refused(room_factory):
    room_factory("lobby")
    query = CompiledQuery(lambda value: Room.objects.values("slug"), stand_ins=("one", "two"))
    with pytest.raises(RuntimeError):
        query.rows("lobby")


def test_a_per_user_query_is_compiled_for_each_kind_of_user(room_factory, alice, django_user_model):
    """A rule on the user's flags (here: staff also see private rooms) gets
    the SQL of the caller's kind, not that of whoever asked first."""
    from django.db.models import Q

    from rooms.access import visible_q
    from rooms.selectors.compiled import PerUserQuery

    room_factory("lobby")
    room_factory("secret", is_private=True)
    staff = django_user_model.objects.create_user("operator", is_staff=True)

    def build(user):
        return Room.objects.filter(visible_q(user) | Q(is_private=user.is_staff)).values("slug")

    query = PerUserQuery(build)
    assert [row["slug"] for row in query.rows(alice)] == ["lobby"]
    assert sorted(row["slug"] for row in query.rows(staff)) == ["lobby", "secret"]
