"""The Django admin through the test client: every action and form, who may
use them, that edits never write back a stale seq or read cursor, and that
the changelists' query counts stay constant as rows grow.

That these writes reach open sockets live: tests/integration/test_admin.py.
"""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rooms import services
from rooms.errors import RoomsError
from rooms.models import ApiToken, Message, ReadCursor, Room

pytestmark = pytest.mark.django_db

ROOMS = reverse("admin:rooms_room_changelist")
MESSAGES = reverse("admin:rooms_message_changelist")
MEMBERSHIPS = reverse("admin:rooms_membership_changelist")
TOKENS = reverse("admin:rooms_apitoken_changelist")
POST = reverse("admin:rooms_message_post")


def post(room, body="hi", author=None, **extra):
    return services.message_post(room=room, author=author, body=body, check_rate=False, **extra)


def staff_client(client, user_factory, *perms: str):
    """A client logged in as a staff user holding only `perms` (codenames)."""
    user = user_factory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    client.force_login(user)
    return client


def action(client, url, name, objects):
    return client.post(url, {"action": name, "_selected_action": [o.pk for o in objects]})


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- permissions -------------------------------------------------------------------


@pytest.mark.parametrize("url", [ROOMS, MESSAGES, MEMBERSHIPS, TOKENS, POST])
def test_non_staff_users_are_sent_to_the_login_page(client, alice, url):
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_non_staff_users_cannot_run_actions(client, alice, lobby):
    client.force_login(alice)
    action(client, ROOMS, "archive_rooms", [lobby])
    assert not Room.objects.get(pk=lobby.pk).is_archived


def test_staff_without_change_message_permission_cannot_delete_messages(
    client, user_factory, lobby
):
    staff_client(client, user_factory, "view_message")
    post(lobby, "keep me")
    message = Message.objects.get()
    assert client.get(MESSAGES).status_code == 200
    response = action(client, MESSAGES, "delete_messages", [message])
    assert response.context["action_form"] is None  # no action this user may run
    assert not Message.objects.filter(kind=Message.Kind.DELETE).exists()
    assert (Message.objects.get().body, Message.objects.get().deleted) == ("keep me", False)
    # The same request from a user who may moderate does delete: the refusal
    # above is the permission's, not an action that does not exist.
    moderator = user_factory(is_staff=True)
    moderator.user_permissions.set(
        Permission.objects.filter(codename__in=["view_message", "change_message"])
    )
    client.force_login(moderator)
    action(client, MESSAGES, "delete_messages", [message])
    change = Message.objects.get(kind=Message.Kind.DELETE)
    assert (change.target, change.author) == (message.seq, moderator)
    assert Message.objects.get(pk=message.pk).deleted


def test_staff_without_add_message_permission_cannot_post(client, user_factory, lobby):
    staff_client(client, user_factory, "view_message")
    assert client.get(POST).status_code == 403
    assert client.post(POST, {"room": lobby.pk, "body": "hi"}).status_code == 403
    assert not Message.objects.exists()


# --- query counts -------------------------------------------------------------------


def _grow(count: int) -> None:
    """`count` more rooms, each with a member, two messages and a token."""
    start = get_user_model().objects.count()
    for number in range(start, start + count):
        user = get_user_model().objects.create(username=f"member-{number}")  # no slow hashing
        room, _ = services.room_create_or_update(slug=f"r-{user.username}", roles={user: "member"})
        post(room, "one", author=user)
        post(room, "two")
        services.api_token_issue(user=user)


@pytest.mark.parametrize("url", [ROOMS, MESSAGES, MEMBERSHIPS, TOKENS])
def test_changelist_queries_stay_constant_as_rows_grow(
    admin_client, django_assert_max_num_queries, url
):
    _grow(2)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    _grow(30)
    with django_assert_max_num_queries(len(few)):
        response = admin_client.get(url)
    assert len(response.context["cl"].result_list) > 30


def test_message_changelist_never_counts_the_whole_table(admin_client, lobby):
    for n in range(3):
        post(lobby, f"m{n}")
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(MESSAGES)
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT" in sql.upper() for sql in counts), counts


# --- rooms ---------------------------------------------------------------------------


def test_room_changelist_shows_counts_and_last_activity(admin_client, lobby, alice):
    services.membership_set_role(user=alice, room=lobby)
    post(lobby, "one")
    post(lobby, "two")
    row = admin_client.get(ROOMS).context["cl"].result_list.get(pk=lobby.pk)
    newest = Message.objects.get(room=lobby, seq=2)
    assert (row.message_count, row.member_count, row.last_activity) == (2, 1, newest.created_at)


def test_room_changelist_search_and_filters(admin_client, room_factory):
    room_factory("lobby", title="Lobby")
    room_factory("attic", title="Old things", is_archived=True)
    room_factory("team", is_private=True)

    def slugs(query):
        return sorted(r.slug for r in admin_client.get(ROOMS, query).context["cl"].result_list)

    assert slugs({"q": "old"}) == ["attic"]
    assert slugs({"is_archived__exact": "1"}) == ["attic"]
    assert slugs({"is_private__exact": "1"}) == ["team"]


def test_archive_and_unarchive_actions_change_the_room(admin_client, lobby, room_factory):
    other = room_factory("other")
    response = action(admin_client, ROOMS, "archive_rooms", [lobby, other])
    assert set(Room.objects.values_list("is_archived", flat=True)) == {True}
    assert "2 room(s) archived." in shown_messages(admin_client.get(ROOMS))
    assert response.status_code == 302
    action(admin_client, ROOMS, "unarchive_rooms", [lobby])
    assert not Room.objects.get(pk=lobby.pk).is_archived
    assert Room.objects.get(pk=other.pk).is_archived


def test_room_add_form_creates_the_room(admin_client, db):
    response = admin_client.post(
        reverse("admin:rooms_room_add"),
        {"slug": "new", "title": "New", "is_private": "on", **inline_data()},
    )
    assert response.status_code == 302
    room = Room.objects.get(slug="new")
    assert (room.title, room.is_private, room.last_seq) == ("New", True, 0)


def inline_data(*memberships: dict) -> dict:
    data = {
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(sum(1 for m in memberships if m.get("id"))),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for index, membership in enumerate(memberships):
        for name, value in membership.items():
            data[f"memberships-{index}-{name}"] = value
    return data


def test_room_edit_saves_the_title_without_writing_back_a_stale_head(admin_client, lobby):
    url = reverse("admin:rooms_room_change", args=[lobby.pk])
    assert admin_client.get(url).status_code == 200
    post(lobby, "sent while the page was open")  # the head moves on
    response = admin_client.post(url, {"title": "Renamed", "is_archived": "on", **inline_data()})
    assert response.status_code == 302
    room = Room.objects.get(pk=lobby.pk)
    assert (room.title, room.is_archived, room.last_seq, room.slug) == ("Renamed", True, 1, "lobby")


def test_room_slug_is_read_only_once_created(admin_client, lobby):
    url = reverse("admin:rooms_room_change", args=[lobby.pk])
    admin_client.post(url, {"slug": "moved", "title": "Lobby", **inline_data()})
    assert Room.objects.filter(slug="lobby").exists()


def test_room_inline_sets_roles_and_keeps_read_cursors(admin_client, lobby, user_factory):
    alice, bob = user_factory("alice"), user_factory("bob")
    post(lobby, "one")
    existing = services.membership_set_role(user=alice, room=lobby)
    url = reverse("admin:rooms_room_change", args=[lobby.pk])
    admin_client.get(url)
    services.read_cursor_advance(user=alice, room=lobby, seq=1)  # read meanwhile
    memberships = (
        {"id": existing.pk, "room": lobby.pk, "user": alice.pk, "role": "moderator"},
        {"id": "", "room": lobby.pk, "user": bob.pk, "role": "read_only"},
    )
    response = admin_client.post(url, {"title": "Lobby", **inline_data(*memberships)})
    assert response.status_code == 302
    roles = dict(lobby.memberships.values_list("user__username", "role"))
    assert roles == {"alice": "moderator", "bob": "read_only"}
    assert ReadCursor.objects.get(user=alice, room=lobby).seq == 1


def test_room_member_autocomplete_finds_users(admin_client, lobby, alice):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "rooms", "model_name": "membership", "field_name": "user", "term": "ali"},
    )
    assert [result["text"] for result in response.json()["results"]] == ["alice"]


def test_rooms_cannot_be_deleted_in_the_admin(admin_client, lobby):
    assert admin_client.get(reverse("admin:rooms_room_delete", args=[lobby.pk])).status_code == 403
    assert Room.objects.filter(pk=lobby.pk).exists()


# --- messages ------------------------------------------------------------------------


def test_message_changelist_shows_short_bodies_and_changes_as_text(admin_client, lobby, alice):
    post(lobby, "x" * 200, author=alice)
    post(lobby, "secret", author=alice)
    services.entry_post(room=lobby, author=alice, kind="reaction", target=1, emoji="🎉")
    services.entry_post(room=lobby, author=alice, kind="delete", target=2)
    page = admin_client.get(MESSAGES).content.decode()
    assert "x" * 79 + "…" in page and "x" * 81 not in page
    assert "(deleted)" in page and "secret" not in page
    assert "(deletes #2)" in page and "(reacts 🎉 on #1)" in page


def test_message_changelist_search_and_filters(admin_client, lobby, room_factory, alice):
    other = room_factory("other")
    post(lobby, "hello world", author=alice)
    post(lobby, "system notice")
    post(other, "hello elsewhere")

    def bodies(query):
        listed = admin_client.get(MESSAGES, query).context["cl"].result_list
        return sorted(message.body for message in listed)

    assert bodies({"q": "hello"}) == ["hello elsewhere", "hello world"]
    assert bodies({"q": "alice"}) == ["hello world"]
    assert bodies({"room__id__exact": other.pk}) == ["hello elsewhere"]
    assert bodies({"kind__exact": "system", "room__id__exact": lobby.pk}) == ["system notice"]


def test_delete_action_stores_a_delete_entry_by_the_staff_user(admin_client, lobby, alice):
    post(lobby, "fine", author=alice)
    post(lobby, "rude", author=alice)
    action(admin_client, MESSAGES, "delete_messages", Message.objects.filter(seq=2))
    kept, deleted, change = Message.objects.order_by("seq")
    assert (kept.body, kept.deleted) == ("fine", False)
    assert (deleted.seq, deleted.body, deleted.deleted) == (2, "", True)
    assert (change.seq, change.kind, change.target) == (3, "delete", 2)
    assert change.author.username == "admin"
    assert "1 message(s) deleted." in shown_messages(admin_client.get(MESSAGES))


def test_delete_action_works_in_a_private_room_staff_are_not_members_of(
    admin_client, room_factory, alice
):
    secret = room_factory("secret", is_private=True, members=[alice])
    post(secret, "hidden", author=alice)
    action(admin_client, MESSAGES, "delete_messages", Message.objects.filter(room=secret))
    assert Message.objects.get(room=secret, seq=1).deleted


def test_messages_are_read_only_in_the_admin(admin_client, lobby):
    post(lobby, "as sent")
    message = Message.objects.get()
    change = reverse("admin:rooms_message_change", args=[message.pk])
    assert admin_client.get(change).status_code == 200  # viewable
    assert admin_client.post(change, {"body": "edited", "seq": 7}).status_code == 403
    assert admin_client.get(reverse("admin:rooms_message_add")).status_code == 403
    delete = reverse("admin:rooms_message_delete", args=[message.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert (Message.objects.get().body, Message.objects.get().seq) == ("as sent", 1)


# --- the post form -------------------------------------------------------------------


def test_post_form_posts_a_system_message_with_the_next_seq(admin_client, lobby):
    post(lobby, "earlier")
    assert admin_client.get(POST, {"room": lobby.pk}).status_code == 200
    response = admin_client.post(POST, {"room": lobby.pk, "body": "Maintenance at 6"})
    assert response.status_code == 302
    message = Message.objects.get(room=lobby, seq=2)
    assert (message.body, message.author, message.kind) == ("Maintenance at 6", None, "system")
    assert "Posted message #2 to lobby." in shown_messages(admin_client.get(MESSAGES))


def test_post_form_posts_as_a_user(admin_client, lobby, alice):
    admin_client.post(POST, {"room": lobby.pk, "author": alice.pk, "body": "line 1\r\nline 2"})
    message = Message.objects.get(room=lobby)
    assert (message.author, message.kind, message.body) == (alice, "text", "line 1\nline 2")


def test_post_form_with_a_repeated_client_id_stores_nothing_new(admin_client, lobby):
    form = {"room": lobby.pk, "body": "once", "client_id": "notice-1"}
    admin_client.post(POST, form)
    admin_client.post(POST, {**form, "body": "twice"})
    assert list(Message.objects.values_list("body", flat=True)) == ["once"]
    assert any("Nothing new stored" in note for note in shown_messages(admin_client.get(MESSAGES)))


@pytest.mark.parametrize(
    ("form", "problem"),
    [
        ({"body": "   "}, "must not be empty"),
        ({"body": "x" * 4001}, "at most 4000"),
        ({"body": "hi", "archived": True}, "archived"),
    ],
)
def test_post_form_shows_the_services_errors(admin_client, room_factory, form, problem):
    room = room_factory("target", is_archived=form.pop("archived", None))
    response = admin_client.post(POST, {"room": room.pk, **form})
    assert response.status_code == 200
    assert problem in response.content.decode()
    assert not Message.objects.exists()


# --- memberships ---------------------------------------------------------------------


def test_membership_list_shows_roles_and_searches_users_and_rooms(
    admin_client, lobby, room_factory, user_factory
):
    alice, bob = user_factory("alice"), user_factory("bob")
    post(lobby, "one")
    services.membership_set_role(user=alice, room=lobby)
    services.membership_set_role(user=bob, room=room_factory("other"), role="moderator")
    rows = admin_client.get(MEMBERSHIPS).context["cl"].result_list
    assert {(m.user.username, m.role) for m in rows} == {("alice", "member"), ("bob", "moderator")}

    def users(term):
        listed = admin_client.get(MEMBERSHIPS, {"q": term}).context["cl"].result_list
        return [m.user.username for m in listed]

    assert users("alice") == ["alice"]
    assert users("other") == ["bob"]


def direct_with(alice, bob):
    room, _ = services.direct_open(user=alice, others=[bob])
    return room


def test_a_direct_conversations_people_cannot_be_changed_on_the_room_form(
    admin_client, alice, bob, user_factory
):
    room = direct_with(alice, bob)
    carol = user_factory("carol")
    mine = room.memberships.get(user=alice)
    memberships = (
        {"id": mine.pk, "room": room.pk, "user": alice.pk, "role": "moderator"},
        {"id": "", "room": room.pk, "user": carol.pk, "role": "member"},
    )
    url = reverse("admin:rooms_room_change", args=[room.pk])
    response = admin_client.post(url, {"title": room.title, **inline_data(*memberships)})
    assert response.status_code == 200  # the form again, with the rule's message
    assert "people are fixed" in response.content.decode()
    roles = dict(room.memberships.values_list("user__username", "role"))
    assert roles == {"alice": "member", "bob": "member"}


def test_a_direct_conversations_membership_cannot_be_changed_or_added(
    admin_client, alice, bob, user_factory
):
    room = direct_with(alice, bob)
    mine = room.memberships.get(user=alice)
    change = reverse("admin:rooms_membership_change", args=[mine.pk])
    response = admin_client.post(change, {"role": "moderator"})
    assert response.status_code == 200 and "people are fixed" in response.content.decode()
    carol = user_factory("carol")
    add = reverse("admin:rooms_membership_add")
    response = admin_client.post(add, {"user": carol.pk, "room": room.pk, "role": "member"})
    assert response.status_code == 200 and "people are fixed" in response.content.decode()
    assert dict(room.memberships.values_list("user__username", "role")) == {
        "alice": "member",
        "bob": "member",
    }


def test_a_services_refusal_on_save_is_an_admin_error_and_saves_nothing(admin_client, db):
    # Slugs of direct conversations are the services' rule, not the form's.
    add = reverse("admin:rooms_room_add")
    response = admin_client.post(add, {"slug": "dm-mine", "title": "Mine", **inline_data()})
    assert response.status_code == 302 and response["Location"] == add
    assert not Room.objects.exists()
    (note,) = shown_messages(admin_client.get(add))
    assert note.startswith("Nothing saved: Slugs starting with 'dm-'")


def test_a_services_refusal_in_a_bulk_delete_removes_no_membership(
    admin_client, lobby, alice, bob, monkeypatch
):
    for user in (alice, bob):
        services.membership_set_role(user=user, room=lobby)
    remove = services.membership_remove

    def refuse_bob(*, room, user):
        if user == bob:
            raise RoomsError("invalid", "Not this one.")
        return remove(room=room, user=user)

    monkeypatch.setattr(services, "membership_remove", refuse_bob)
    selected = [m.pk for m in lobby.memberships.all()]
    response = admin_client.post(
        MEMBERSHIPS, {"action": "delete_selected", "_selected_action": selected, "post": "yes"}
    )
    assert response.status_code == 302
    assert lobby.memberships.count() == 2  # alice's removal rolled back too
    assert not LogEntry.objects.exists()
    assert "Nothing saved: Not this one." in shown_messages(admin_client.get(MEMBERSHIPS))


def test_a_services_refusal_on_delete_is_an_admin_error(admin_client, lobby, alice, monkeypatch):
    membership = services.membership_set_role(user=alice, room=lobby)

    def refuse(*, room, user):
        raise RoomsError("invalid", "Not now.")

    monkeypatch.setattr(services, "membership_remove", refuse)
    delete = reverse("admin:rooms_membership_delete", args=[membership.pk])
    response = admin_client.post(delete, {"post": "yes"})
    assert response.status_code == 302 and response["Location"] == delete
    assert lobby.memberships.filter(user=alice).exists()


# --- API tokens ----------------------------------------------------------------------


def test_token_add_page_shows_the_token_once_and_stores_only_its_hash(admin_client, alice):
    assert admin_client.get(reverse("admin:rooms_apitoken_add")).status_code == 200
    response = admin_client.post(reverse("admin:rooms_apitoken_add"), {"user": alice.pk})
    token = response.context["token"]
    assert token in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert services.api_token_authenticate(token=token) == alice
    stored = ApiToken.objects.get()
    assert token not in (stored.token_hash, stored.prefix)
    assert token not in admin_client.get(TOKENS).content.decode()


def test_token_revoke_action_stops_the_selected_tokens_only(admin_client, alice):
    doomed, kept = services.api_token_issue(user=alice), services.api_token_issue(user=alice)
    selected = [t for t in ApiToken.objects.all() if doomed.startswith("rooms_" + t.prefix)]
    action(admin_client, TOKENS, "revoke_tokens", selected)
    assert services.api_token_authenticate(token=doomed) is None
    assert services.api_token_authenticate(token=kept) == alice


def test_staff_without_change_token_permission_cannot_revoke(client, user_factory, alice):
    token = services.api_token_issue(user=alice)
    staff_client(client, user_factory, "view_apitoken")
    action(client, TOKENS, "revoke_tokens", ApiToken.objects.all())
    assert services.api_token_authenticate(token=token) == alice
    assert client.post(reverse("admin:rooms_apitoken_add"), {"user": alice.pk}).status_code == 403
