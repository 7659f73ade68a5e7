"""`send` with `attachments` through the real ASGI application: the
message every joined socket receives carries the files; the body may then
be empty; an upload that is not the sender's to send there (unknown,
someone else's, another room's, already sent), more than ten, or a
malformed list is `invalid` with field `attachments`, and stores nothing;
a re-join backfills the message with its files."""

import pytest
from channels.db import database_sync_to_async

from rooms.models import Room
from tests.files.samples import png, stored_upload
from tests.harness.inprocess import until_live

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def uploaded(user, slug: str, count: int = 1, content: bytes = b"words") -> list[str]:
    room = Room.objects.get(slug=slug)
    return [stored_upload(user, room, content, f"f{n}.txt").id for n in range(count)]


@database_sync_to_async
def head(slug: str) -> int:
    return Room.objects.values_list("last_seq", flat=True).get(slug=slug)


async def live(clients, slug: str, *users):
    sockets = [await clients.connect(user) for user in users]
    for socket in sockets:
        await socket.join(slug, since=0)
    await until_live(slug)
    return sockets


async def test_a_send_with_files_and_no_text_reaches_every_socket(clients, alice, bob, lobby):
    image = await database_sync_to_async(stored_upload)(alice, lobby, png(), "a.png")
    (text_id,) = await uploaded(alice, "lobby")
    writer, reader = await live(clients, "lobby", alice, bob)
    await writer.send(
        {"type": "send", "room": "lobby", "attachments": [image.id, text_id], "ref": "s"}
    )
    ack = await writer.next_of("ack", skip=("message",))
    entry = (await reader.next_of("message"))["message"]
    assert (ack["seq"], entry["seq"], entry["body"]) == (1, 1, "")
    assert [item["id"] for item in entry["attachments"]] == [image.id, text_id]
    assert entry["attachments"][0]["thumbnail_url"] == f"/attachments/thumbnails/{image.id}.webp"
    late = await clients.connect(bob)
    await late.join("lobby", since=0)
    (backfilled,) = (await late.next_of("backfill"))["messages"]
    assert backfilled == entry


@pytest.mark.parametrize(
    "case",
    ["unknown", "someone else's", "another room's", "already sent", "eleven", "malformed"],
)
async def test_attachments_the_sender_may_not_send_are_invalid(
    clients, alice, bob, lobby, room_factory, case
):
    await database_sync_to_async(room_factory)("elsewhere")
    if case == "unknown":
        ids = ["0" * 32]
    elif case == "someone else's":
        ids = await uploaded(bob, "lobby")
    elif case == "another room's":
        ids = await uploaded(alice, "elsewhere")
    elif case == "eleven":
        ids = await uploaded(alice, "lobby", 11)
    elif case == "malformed":
        ids = "not a list"
    else:
        ids = await uploaded(alice, "lobby")
    (writer,) = await live(clients, "lobby", alice)
    if case == "already sent":
        await writer.send({"type": "send", "room": "lobby", "attachments": ids})
        await writer.next_of("ack", skip=("message",))
    before = await head("lobby")
    frame = {"type": "send", "room": "lobby", "body": "see", "attachments": ids, "ref": "x"}
    await writer.error(frame, "invalid", skip=("message",), field="attachments", ref="x")
    assert await head("lobby") == before


async def test_without_attachments_an_empty_body_stays_invalid(clients, alice, lobby):
    (writer,) = await live(clients, "lobby", alice)
    await writer.error({"type": "send", "room": "lobby", "body": ""}, "invalid", field="body")
    await writer.error(
        {"type": "send", "room": "lobby", "attachments": []}, "invalid", field="body"
    )
