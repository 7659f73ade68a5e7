"""The server's frames (rooms/protocol/encode.py) against docs/protocol.md:
the entry object and every frame that carries entries, refs echoed only
when given, errors with their field and retry_after, timestamps in UTC.
"""

import json
from datetime import UTC, datetime, timedelta, timezone

from rooms import protocol
from rooms.errors import RoomsError

MOMENT = datetime(2026, 11, 25, 17, 6, 20, 123456, tzinfo=UTC)


def message(**overrides) -> dict:
    fields = {
        "seq": 42,
        "room": "lobby",
        "author": "alice",
        "body": "hi",
        "created_at": MOMENT,
        "client_id": "c-7f3a",
        "kind": "text",
    }
    return json.loads(protocol.entry_json(**{**fields, **overrides}))


def test_message_object_has_the_documented_shape():
    assert message(reactions={"👍": ["bob", "carol"]}) == {
        "seq": 42,
        "room": "lobby",
        "kind": "text",
        "author": "alice",
        "body": "hi",
        "created_at": "2026-11-25T17:06:20.123Z",
        "client_id": "c-7f3a",
        "reply_to": None,
        "edited_at": None,
        "deleted": False,
        "reactions": {"👍": ["bob", "carol"]},
    }


def test_change_entries_carry_their_target_and_what_they_assign():
    common = {"seq": 43, "room": "lobby", "author": "bob", "client_id": None}
    edit = message(**common, kind="edit", target=42, body="hello")
    assert edit == {
        **common,
        "kind": "edit",
        "created_at": "2026-11-25T17:06:20.123Z",
        "target": 42,
        "body": "hello",
    }
    delete = message(**common, kind="delete", target=42)
    assert set(delete) == {"seq", "room", "kind", "author", "created_at", "client_id", "target"}
    reaction = message(**common, kind="reaction", target=42, emoji="🎉", on=False)
    assert (reaction["target"], reaction["emoji"], reaction["on"]) == (42, "🎉", False)
    assert "body" not in reaction


def test_an_edited_message_carries_the_edit_time():
    edited = message(edited_at=MOMENT + timedelta(seconds=1))
    assert edited["edited_at"] == "2026-11-25T17:06:21.123Z"


def test_created_at_is_utc_with_milliseconds():
    plus_two = timezone(timedelta(hours=2))
    moment = datetime(2026, 11, 25, 19, 6, 20, 5000, tzinfo=plus_two)
    assert protocol.timestamp(moment) == "2026-11-25T17:06:20.005Z"
    assert protocol.timestamp(MOMENT.replace(microsecond=0)) == "2026-11-25T17:06:20.000Z"


def test_deleted_message_keeps_seq_with_empty_body_and_no_reactions():
    deleted = message(deleted=True, body="secret", reactions={"👍": ["bob"]})
    assert (deleted["seq"], deleted["body"], deleted["deleted"]) == (42, "", True)
    assert deleted["reactions"] == {}


def test_system_message_has_null_author():
    system = message(author=None, kind="system", client_id=None)
    assert (system["author"], system["kind"], system["client_id"]) == (None, "system", None)


def test_frames_carrying_messages_embed_them_as_objects():
    text = protocol.entry_json(
        seq=1, room="a", author=None, body="é", created_at=MOMENT, client_id=None, kind="system"
    )
    assert json.loads(protocol.message("a", text)) == {
        "type": "message",
        "room": "a",
        "message": json.loads(text),
    }
    assert json.loads(protocol.backfill("a", [text, text]))["messages"] == [json.loads(text)] * 2
    history = json.loads(protocol.history(room="a", ref="h", messages=[text], has_more=True))
    assert history == {
        "type": "history",
        "room": "a",
        "messages": [json.loads(text)],
        "has_more": True,
        "ref": "h",
    }
    assert "ref" not in json.loads(protocol.history(room="a", ref=None, messages=[], has_more=0))


def test_reply_frames_carry_ref_only_when_given():
    joined = json.loads(
        protocol.joined(
            room="a",
            ref="j",
            head=5,
            since=2,
            truncated=False,
            title="A",
            read_only=False,
            read=None,
        )
    )
    assert joined == {
        "type": "joined",
        "room": "a",
        "ref": "j",
        "head": 5,
        "since": 2,
        "truncated": False,
        "title": "A",
        "read_only": False,
        "read": None,
    }
    ack = json.loads(protocol.ack(ref=None, room="a", seq=3, client_id="c", duplicate=True))
    assert ack == {"type": "ack", "room": "a", "seq": 3, "client_id": "c", "duplicate": True}
    assert json.loads(protocol.pong(ref="p", heads={"a": 5})) == {
        "type": "pong",
        "heads": {"a": 5},
        "ref": "p",
    }
    assert json.loads(protocol.presence("a", {"zed", "amy"}))["users"] == ["amy", "zed"]


def test_error_frame_carries_field_and_retry_after_where_they_apply():
    assert json.loads(protocol.error("invalid", "no", ref="r", field="body")) == {
        "type": "error",
        "code": "invalid",
        "message": "no",
        "ref": "r",
        "field": "body",
    }
    limited = RoomsError("rate_limited", "slow down", retry_after=1.5)
    assert json.loads(protocol.error_from(limited)) == {
        "type": "error",
        "code": "rate_limited",
        "message": "slow down",
        "retry_after": 1.5,
    }
