"""The JSON API's changes to messages (docs/api.md): edit (PATCH), delete
(DELETE) and react (POST .../reactions), and replies on publish. Each is an
entry of the room's log stored by services.entry_post, idempotent with a
client_id (201 stored, 200 duplicate), with the protocol's error codes as
HTTP statuses, in the protocol's order.
"""

import json

import pytest
from django.test import Client

from rooms import services
from rooms.models import Membership, Message

from .test_endpoints import error_of, messages_url, publish, stored

pytestmark = pytest.mark.django_db


def message_url(slug: str, seq) -> str:
    return f"/api/rooms/{slug}/messages/{seq}"


def reactions_url(slug: str, seq) -> str:
    return f"/api/rooms/{slug}/messages/{seq}/reactions"


@pytest.fixture
def api(alice):
    token = services.api_token_issue(user=alice)
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def bob_api(bob):
    token = services.api_token_issue(user=bob)
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})


def edit(client, seq=1, slug="lobby", **payload):
    return client.patch(
        message_url(slug, seq), json.dumps(payload), content_type="application/json"
    )


def delete(client, seq=1, slug="lobby", query="", **payload):
    data = json.dumps(payload) if payload else ""
    return client.delete(message_url(slug, seq) + query, data, content_type="application/json")


def react(client, seq=1, slug="lobby", **payload):
    return client.post(
        reactions_url(slug, seq), json.dumps(payload), content_type="application/json"
    )


def say(room, author, body="hi", **extra) -> int:
    return services.message_post(room=room, author=author, body=body, check_rate=False, **extra).seq


def entry_count() -> int:
    return Message.objects.count()


# --- PATCH: edit -------------------------------------------------------------------


def test_edit_stores_an_edit_entry_and_returns_it_with_201(api, lobby, alice):
    say(lobby, alice, "lunch at noon?")
    response = edit(api, body="lunch at 12:30?", client_id="e-1")
    assert response.status_code == 201
    reply = response.json()
    assert reply["duplicate"] is False
    assert reply["entry"] == stored(lobby, 2)
    entry = reply["entry"]
    assert (entry["kind"], entry["target"], entry["body"]) == ("edit", 1, "lunch at 12:30?")
    assert (entry["author"], entry["client_id"]) == ("alice", "e-1")
    message = stored(lobby, 1)
    assert message["body"] == "lunch at 12:30?"
    assert message["edited_at"] == entry["created_at"]


def test_an_edit_with_a_repeated_client_id_is_200_duplicate_with_the_original(api, lobby, alice):
    say(lobby, alice, "v1")
    first = edit(api, body="v2", client_id="e-1").json()["entry"]
    response = edit(api, body="v3", client_id="e-1")
    assert response.status_code == 200
    assert response.json() == {"entry": first, "duplicate": True}
    assert entry_count() == 2 and stored(lobby, 1)["body"] == "v2"


def test_a_client_id_is_one_namespace_for_all_of_a_users_entries(api, lobby, alice):
    first = publish(api, body="hi", client_id="same").json()["message"]
    response = edit(api, body="changed", client_id="same")
    assert (response.status_code, response.json()) == (200, {"entry": first, "duplicate": True})


def test_editing_another_users_message_is_403(api, lobby, bob):
    say(lobby, bob, "mine")
    assert error_of(edit(api, body="yours now"), 403)["code"] == "forbidden"
    assert entry_count() == 1


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("{}", "body"),
        ('{"body": "   "}', "body"),
        ('{"body": 7}', "body"),
        ('{"body": "' + "x" * 4001 + '"}', "body"),
        ('{"body": "ok", "client_id": ""}', "client_id"),
        ('{"body": "ok", "client_id": 5}', "client_id"),
        ("not json", None),
        ("", None),
        ('["body"]', None),
    ],
)
def test_an_edit_with_a_bad_body_is_400_invalid(api, lobby, alice, raw, field):
    say(lobby, alice)
    response = api.patch(message_url("lobby", 1), raw, content_type="application/json")
    error = error_of(response, 400)
    assert (error["code"], error.get("field")) == ("invalid", field)
    assert entry_count() == 1


# --- DELETE ------------------------------------------------------------------------


def test_delete_stores_a_delete_entry_and_blanks_the_message(api, lobby, alice):
    say(lobby, alice, "oops")
    services.entry_post(room=lobby, author=alice, kind="reaction", target=1, emoji="👀")
    response = delete(api)
    assert response.status_code == 201
    entry = response.json()["entry"]
    assert entry == stored(lobby, 3)
    assert (entry["kind"], entry["target"], entry["author"], entry["client_id"]) == (
        "delete",
        1,
        "alice",
        None,
    )
    message = stored(lobby, 1)
    assert (message["deleted"], message["body"], message["reactions"]) == (True, "", {})


@pytest.mark.parametrize(
    ("query", "payload"),
    [("?client_id=d-1", {}), ("", {"client_id": "d-1"}), ("?client_id=d-1", {"client_id": "d-1"})],
)
def test_a_delete_takes_its_client_id_from_the_query_or_the_body(api, lobby, alice, query, payload):
    say(lobby, alice)
    first = delete(api, query=query, **payload)
    assert first.status_code == 201 and first.json()["entry"]["client_id"] == "d-1"
    again = delete(api, query="?client_id=d-1")
    assert again.status_code == 200
    assert again.json() == {"entry": first.json()["entry"], "duplicate": True}
    assert entry_count() == 2


@pytest.mark.parametrize(
    ("query", "raw"),
    [
        ("?client_id=a", '{"client_id": "b"}'),
        ("?client_id=", ""),
        ("?client_id=" + "c" * 65, ""),
        ("", '{"client_id": ""}'),
        ("", "not json"),
        ("", "[]"),
    ],
)
def test_a_delete_with_a_bad_client_id_or_body_is_400_invalid(api, lobby, alice, query, raw):
    say(lobby, alice)
    response = api.delete(message_url("lobby", 1) + query, raw, content_type="application/json")
    assert error_of(response, 400)["code"] == "invalid"
    assert entry_count() == 1


def test_a_moderator_may_delete_another_users_message_a_member_may_not(api, lobby, alice, bob):
    say(lobby, bob, "spam")
    assert error_of(delete(api), 403)["code"] == "forbidden"
    services.membership_set_role(room=lobby, user=alice, role=Membership.Role.MODERATOR)
    response = delete(api)
    assert response.status_code == 201 and response.json()["entry"]["author"] == "alice"
    assert stored(lobby, 1)["deleted"] is True


def test_staff_may_delete_another_users_message(api, lobby, alice, bob):
    say(lobby, bob, "spam")
    alice.is_staff = True
    alice.save()
    assert delete(api).status_code == 201


def test_deleting_a_deleted_message_again_stores_another_delete_entry(api, lobby, alice):
    # A delete is an idempotent assignment; only a client_id makes the request idempotent.
    say(lobby, alice)
    assert [delete(api).status_code for _ in range(2)] == [201, 201]
    assert stored(lobby, 1)["deleted"] is True


# --- POST .../reactions ---------------------------------------------------------------


def test_a_reaction_is_on_by_default_and_off_takes_it_back(api, lobby, alice, bob):
    say(lobby, bob, "ship it?")
    response = react(api, emoji="🚀", client_id="r-1")
    assert response.status_code == 201
    entry = response.json()["entry"]
    assert entry == stored(lobby, 2)
    assert (entry["kind"], entry["target"], entry["emoji"], entry["on"]) == (
        "reaction",
        1,
        "🚀",
        True,
    )
    assert stored(lobby, 1)["reactions"] == {"🚀": ["alice"]}
    off = react(api, emoji="🚀", on=False)
    assert off.status_code == 201 and off.json()["entry"]["on"] is False
    assert stored(lobby, 1)["reactions"] == {}


def test_a_reaction_with_a_repeated_client_id_is_200_duplicate(api, lobby, bob):
    say(lobby, bob)
    first = react(api, emoji="👍", client_id="r-1").json()["entry"]
    response = react(api, emoji="👍", on=False, client_id="r-1")
    assert (response.status_code, response.json()) == (200, {"entry": first, "duplicate": True})
    assert stored(lobby, 1)["reactions"] == {"👍": ["alice"]}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "emoji"),
        ({"emoji": None}, "emoji"),
        ({"emoji": ""}, "emoji"),
        ({"emoji": "a b"}, "emoji"),
        ({"emoji": "x" * 17}, "emoji"),
        ({"emoji": 1}, "emoji"),
        ({"emoji": "👍", "on": "yes"}, "on"),
        ({"emoji": "👍", "on": None}, "on"),
        ({"emoji": "👍", "on": 1}, "on"),
        ({"emoji": "👍", "client_id": "c" * 65}, "client_id"),
    ],
)
def test_a_reaction_with_a_bad_field_is_400_invalid(api, lobby, bob, payload, field):
    say(lobby, bob)
    error = error_of(react(api, **payload), 400)
    assert (error["code"], error["field"]) == ("invalid", field)
    assert entry_count() == 1


# --- the seq of the URL, and what it names -------------------------------------------


def _each_change(client, seq, slug="lobby"):
    return [
        edit(client, seq, slug, body="new"),
        delete(client, seq, slug),
        react(client, seq, slug, emoji="👍"),
    ]


@pytest.mark.parametrize(
    "seq",
    ["abc", "-1", "1.5", "1e3", "0x10", "٣", "%20", str(2**53), "9" * 17, "1" * 5000],
)
def test_a_seq_that_is_not_an_integer_in_range_is_400_invalid(api, lobby, alice, seq):
    say(lobby, alice)
    for response in _each_change(api, seq):
        error = error_of(response, 400)
        assert (error["code"], error["field"]) == ("invalid", "seq")
    assert entry_count() == 1


def test_a_seq_naming_no_message_or_a_change_is_400_invalid(api, lobby, alice):
    say(lobby, alice)
    services.entry_post(room=lobby, author=alice, kind="reaction", target=1, emoji="👍")
    for seq in (0, 3, 2**53 - 1, 2):  # 2 is the reaction: a change, not a message
        for response in _each_change(api, seq):
            error = error_of(response, 400)
            assert (error["code"], error["field"]) == ("invalid", "seq")
    assert entry_count() == 2


def test_a_deleted_message_may_not_be_edited_or_reacted_to(api, lobby, alice):
    say(lobby, alice)
    assert delete(api).status_code == 201
    for response in (edit(api, body="back"), react(api, emoji="👍")):
        error = error_of(response, 400)
        assert (error["code"], error["field"]) == ("invalid", "seq")


def test_a_system_message_may_not_be_edited_or_reacted_to(api, lobby):
    services.message_post(room=lobby, author=None, body="Welcome")
    for response in (edit(api, body="hijacked"), react(api, emoji="👍")):
        assert error_of(response, 400)["field"] == "seq"


def test_unknown_and_invisible_rooms_are_404_whatever_the_seq_names(api, room_factory, bob):
    secret = room_factory("secret", is_private=True, members=[bob])
    say(secret, bob)
    for slug in ("nowhere", "secret", "not%20a%20slug"):
        for seq in (1, 99):  # a private room reveals nothing, not even its seqs
            for response in _each_change(api, seq, slug):
                assert error_of(response, 404)["code"] == "not_found"
    assert Message.objects.filter(room=secret).count() == 1


def test_a_bad_seq_is_400_before_the_room_is_looked_up(api, room_factory):
    # The shape first (the protocol's precedence): no room lookup for "x".
    for response in _each_change(api, "x", "nowhere"):
        assert error_of(response, 400)["field"] == "seq"


# --- authorization, archive, rate limit ----------------------------------------------


def test_changes_without_a_valid_token_or_session_are_401(lobby, alice):
    say(lobby, alice)
    anonymous = Client(headers={"Authorization": "Bearer rooms_unknown"})
    for response in _each_change(anonymous, 1) + _each_change(Client(), 1):
        assert error_of(response, 401)["code"] == "auth_required"
    assert entry_count() == 1


def test_session_changes_must_pass_the_csrf_check(lobby, alice):
    say(lobby, alice)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    for response in _each_change(browser, 1):
        assert error_of(response, 403)["code"] == "forbidden"
    browser.get("/admin/login/")  # sets the csrftoken cookie
    token = {"X-CSRFToken": browser.cookies["csrftoken"].value}
    url = message_url("lobby", 1)
    response = browser.patch(url, '{"body":"v2"}', content_type="application/json", headers=token)
    assert response.status_code == 201
    assert browser.delete(url, headers=token).status_code == 201


def test_a_read_only_member_may_not_change_anything(api, lobby, alice):
    say(lobby, alice)
    services.membership_set_role(user=alice, room=lobby, role=Membership.Role.READ_ONLY)
    for response in _each_change(api, 1):
        assert error_of(response, 403)["code"] == "forbidden"
    assert entry_count() == 1


def test_changes_in_an_archived_room_are_409_read_only(api, lobby, alice):
    say(lobby, alice)
    services.room_update(room=lobby, is_archived=True)
    for response in _each_change(api, 1):
        assert error_of(response, 409)["code"] == "read_only"
    assert entry_count() == 1


def test_a_repeat_is_still_200_duplicate_after_the_room_is_archived(api, lobby, alice):
    say(lobby, alice)
    first = react(api, emoji="👍", client_id="r-1").json()["entry"]
    services.room_update(room=lobby, is_archived=True)
    response = react(api, emoji="👍", client_id="r-1")
    assert (response.status_code, response.json()["entry"]) == (200, first)


def test_changes_share_the_rate_limit_with_messages(api, lobby, settings):
    settings.ROOMS_RATE_LIMIT = (3, 60.0)
    assert publish(api, body="one", client_id="m-1").status_code == 201
    assert edit(api, body="two", client_id="e-1").status_code == 201
    assert react(api, emoji="👍", client_id="r-1").status_code == 201
    for response in _each_change(api, 1):
        error = error_of(response, 429)
        assert error["code"] == "rate_limited" and 0 < error["retry_after"] <= 60
        assert 1 <= int(response["Retry-After"]) <= 60
    # A repeat is still answered at the limit (G4), and stores nothing.
    assert edit(api, body="two", client_id="e-1").status_code == 200
    assert entry_count() == 3


def test_a_change_over_the_frame_limit_is_413(api, lobby, alice):
    say(lobby, alice)
    raw = json.dumps({"body": "hi", "padding": "x" * 70_000})
    response = api.patch(message_url("lobby", 1), raw, content_type="application/json")
    assert error_of(response, 413)["code"] == "too_large"


def test_other_methods_are_405_with_allow(api, lobby, alice):
    say(lobby, alice)
    response = api.get(message_url("lobby", 1))
    assert error_of(response, 405)["code"] == "invalid"
    assert response["Allow"] == "PATCH, DELETE"
    response = api.delete(reactions_url("lobby", 1))
    assert error_of(response, 405)["code"] == "invalid"
    assert response["Allow"] == "POST"


def test_paths_below_a_message_that_are_not_reactions_are_404(api, lobby, alice):
    say(lobby, alice)
    assert error_of(api.get(f"{message_url('lobby', 1)}/edits"), 404)["code"] == "not_found"


# --- replies, and the log as the GET endpoint shows it --------------------------------


def test_publish_with_reply_to_stores_a_reply(api, lobby, bob):
    say(lobby, bob, "lunch?")
    response = publish(api, body="yes!", reply_to=1)
    assert response.status_code == 201
    assert response.json()["message"]["reply_to"] == 1 == stored(lobby, 2)["reply_to"]


@pytest.mark.parametrize("reply_to", ["1", 1.0, True, -1, 2**53, [1]])
def test_publish_with_a_malformed_reply_to_is_400_before_the_room_lookup(api, lobby, reply_to):
    for slug in ("lobby", "nowhere"):
        error = error_of(publish(api, slug, body="hi", reply_to=reply_to), 400)
        assert (error["code"], error["field"]) == ("invalid", "reply_to")


def test_publish_with_a_reply_to_naming_no_message_is_400(api, lobby, alice):
    say(lobby, alice)
    services.entry_post(room=lobby, author=alice, kind="reaction", target=1, emoji="👍")
    for reply_to in (5, 2):  # nothing, and a change entry
        error = error_of(publish(api, body="hi", reply_to=reply_to), 400)
        assert (error["code"], error["field"]) == ("invalid", "reply_to")
    assert entry_count() == 2


def test_after_reads_the_log_and_the_default_page_the_messages_in_their_state(
    api, bob_api, lobby, alice
):
    say(lobby, alice, "v1")
    edit(api, body="v2")
    react(bob_api, emoji="👍")
    publish(bob_api, body="answer", reply_to=1)
    delete(bob_api, 4)
    log = api.get(messages_url("lobby"), {"after": 0}).json()["messages"]
    assert [entry["kind"] for entry in log] == ["text", "edit", "reaction", "text", "delete"]
    assert log[0] == stored(lobby, 1)  # current state, changes included
    assert (log[0]["body"], log[0]["reactions"]) == ("v2", {"👍": ["bob"]})
    page = api.get(messages_url("lobby")).json()
    assert [message["seq"] for message in page["messages"]] == [1, 4]
    assert page["head"] == 5
    assert (page["messages"][1]["reply_to"], page["messages"][1]["deleted"]) == (1, True)
