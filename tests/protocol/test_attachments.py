"""`attachments` in the protocol (docs/protocol.md, Attachments): a send's
list is parsed and bounded before anything is read (whether each id is
the sender's to use is the group commit's), the body may then be empty,
and a message object carries the files only when it has some and is not
deleted, so a message without files is encoded as before."""

import json
from datetime import UTC, datetime

import pytest

from rooms import protocol
from tests.protocol.test_frames import parse_obj, rejected_obj

ID = "0123456789abcdef" * 2
FILE = {
    "id": ID,
    "name": "a.png",
    "size": 3,
    "content_type": "image/png",
    "url": f"/attachments/{ID}/a.png",
    "thumbnail_url": f"/attachments/thumbnails/{ID}.webp",
    "width": 1,
    "height": 1,
}


def test_a_send_with_attachments_may_have_no_body_or_an_empty_one():
    for body in ({}, {"body": ""}, {"body": "  "}, {"body": "look"}):
        frame = parse_obj({"type": "send", "room": "a", "attachments": [ID], **body})
        assert frame.args["attachments"] == (ID,)
        assert frame.args["body"] == body.get("body", "")


@pytest.mark.parametrize(
    "attachments",
    [
        "0123",
        [ID] * 2,  # the same twice
        [f"{n:032x}" for n in range(11)],
        [ID.upper()],
        ["../x"],
        [7],
        {"id": ID},
    ],
)
def test_a_malformed_list_is_invalid_with_its_field(attachments):
    error = rejected_obj({"type": "send", "room": "a", "body": "x", "attachments": attachments})
    assert (error.code, error.field) == ("invalid", "attachments")


def test_the_body_rules_still_hold_with_attachments():
    error = rejected_obj({"type": "send", "room": "a", "body": "\x00", "attachments": [ID]})
    assert error.field == "body"
    error = rejected_obj({"type": "send", "room": "a", "body": 5, "attachments": [ID]})
    assert error.field == "body"


def entry(**fields) -> dict:
    base = {
        "seq": 1,
        "room": "lobby",
        "kind": "text",
        "author": "alice",
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
        "client_id": None,
        "body": "",
    }
    return json.loads(protocol.entry_json(**{**base, **fields}))


def test_a_message_carries_its_files_and_none_once_deleted():
    assert entry(attachments=[FILE])["attachments"] == [FILE]
    assert "attachments" not in entry(attachments=[FILE], deleted=True)
    assert "attachments" not in entry(attachments=[])
    assert "attachments" not in entry()
