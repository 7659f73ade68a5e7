"""A direct conversation's people are fixed when it starts: no write path
adds, removes or re-roles one of them (access.check_people_changeable, in
every membership service). Each path gets the clear error, and the
memberships stay as they were."""

import html
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from rooms import services
from rooms.access import DIRECT_IS_FIXED
from rooms.errors import RoomsError
from rooms.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol(user_factory):
    return user_factory("carol")


@pytest.fixture
def direct(alice, bob):
    room, _ = services.direct_open(user=alice, others=[bob])
    return room


def people(room) -> list[tuple[str, str]]:
    rows = Membership.objects.filter(room=room).order_by("user__username")
    return list(rows.values_list("user__username", "role"))


FIXED = [("alice", "member"), ("bob", "member")]


def test_the_membership_services_refuse(direct, alice, bob, carol):
    for write, kwargs in (
        (services.membership_set_role, {"user": carol}),
        (services.membership_set_role, {"user": bob, "role": "moderator"}),
        (services.membership_remove, {"user": bob}),
    ):
        with pytest.raises(RoomsError) as refused:
            write(room=direct, **kwargs)
        assert (refused.value.code, refused.value.message) == ("invalid", DIRECT_IS_FIXED)
    assert people(direct) == FIXED


def test_the_admin_inline_refuses_an_added_membership(admin_client, direct, carol):
    url = reverse("admin:rooms_room_change", args=[direct.pk])
    existing = Membership.objects.filter(room=direct).order_by("user__username")
    inline = {
        "memberships-TOTAL_FORMS": str(existing.count() + 1),
        "memberships-INITIAL_FORMS": str(existing.count()),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    rows = [(m.pk, m.user_id, m.role) for m in existing] + [("", carol.pk, "member")]
    for index, (pk, user_id, role) in enumerate(rows):
        inline.update(
            {
                f"memberships-{index}-id": pk,
                f"memberships-{index}-room": direct.pk,
                f"memberships-{index}-user": user_id,
                f"memberships-{index}-role": role,
            }
        )
    response = admin_client.post(url, {"title": direct.title, **inline}, follow=True)
    assert response.status_code == 200
    assert DIRECT_IS_FIXED in html.unescape(response.content.decode())
    assert people(direct) == FIXED


@pytest.mark.parametrize(
    "option", [("--member", "carol"), ("--moderator", "bob"), ("--remove", "bob")]
)
def test_createroom_refuses_to_change_the_people(direct, carol, option):
    with pytest.raises(CommandError) as refused:
        call_command("createroom", direct.slug, *option)
    assert str(refused.value) == DIRECT_IS_FIXED
    assert people(direct) == FIXED


def test_the_api_refuses_an_invitation(direct, alice, carol):
    token = services.api_token_issue(user=alice)
    client = Client(headers={"Authorization": f"Bearer {token}"})
    response = client.post(
        f"/api/rooms/{direct.slug}/members",
        json.dumps({"user": "carol"}),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("invalid", DIRECT_IS_FIXED)
    assert people(direct) == FIXED


def test_the_manage_page_refuses_an_invitation(direct, alice, carol):
    client = Client()
    client.force_login(alice)
    response = client.post(
        f"/rooms/{direct.slug}/manage/", {"action": "invite", "user": "carol", "role": "member"}
    )
    assert response.status_code == 400
    assert DIRECT_IS_FIXED in html.unescape(response.content.decode())
    assert people(direct) == FIXED
