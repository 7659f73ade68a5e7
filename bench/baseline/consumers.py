"""The tutorial design, as most Channels chat apps are written: each socket
joins the room's group on the channel layer, a send is stored with a naive
counter and broadcast with `group_send`, and every socket's handler encodes
the message to JSON for itself. A join with `since` replays the stored
messages one frame each (the tutorial has no backfill; this is the obvious
extension). No gap repair, no ordering across processes: what Rooms adds.
"""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import transaction
from django.db.models import F

from rooms.models import Message, Room


def _room_id(slug: str) -> int | None:
    return Room.objects.filter(slug=slug).values_list("id", flat=True).first()


def _store(room_id: int, slug: str, author, body: str, client_id) -> dict:
    with transaction.atomic():
        Room.objects.filter(pk=room_id).update(last_seq=F("last_seq") + 1)
        seq = Room.objects.filter(pk=room_id).values_list("last_seq", flat=True).get()
        message = Message.objects.create(
            room_id=room_id, seq=seq, author=author, body=body, client_id=client_id
        )
    return _as_dict(message, slug, author.get_username())


def _as_dict(message: Message, slug: str, author: str | None) -> dict:
    return {
        "seq": message.seq,
        "room": slug,
        "author": author,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
        "client_id": message.client_id,
        "kind": message.kind,
    }


def _stored_after(room_id: int, slug: str, since: int) -> list[dict]:
    messages = Message.objects.filter(room_id=room_id, seq__gt=since).select_related("author")
    return [
        _as_dict(m, slug, m.author.get_username() if m.author else None)
        for m in messages.order_by("seq")
    ]


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.user = self.scope["user"]
        self.rooms: dict[str, int] = {}
        await self.accept()
        await self.send_json({"type": "hello", "protocol": 2, "user": self.user.get_username()})

    async def disconnect(self, code):
        for slug in self.rooms:
            await self.channel_layer.group_discard(f"chat_{slug}", self.channel_name)

    async def receive_json(self, content, **kwargs):
        kind, slug, ref = content.get("type"), content.get("room"), content.get("ref")
        if kind == "join":
            room_id = await database_sync_to_async(_room_id)(slug)
            self.rooms[slug] = room_id
            await self.channel_layer.group_add(f"chat_{slug}", self.channel_name)
            await self.send_json({"type": "joined", "room": slug, "ref": ref})
            if content.get("since") is not None:
                stored = await database_sync_to_async(_stored_after)(
                    room_id, slug, content["since"]
                )
                for message in stored:
                    await self.send_json({"type": "message", "room": slug, "message": message})
        elif kind == "send":
            message = await database_sync_to_async(_store)(
                self.rooms[slug], slug, self.user, content["body"], content.get("client_id")
            )
            await self.send_json(
                {"type": "ack", "ref": ref, "room": slug, "seq": message["seq"], "duplicate": False}
            )
            await self.channel_layer.group_send(
                f"chat_{slug}", {"type": "chat.message", "message": message}
            )
        elif kind == "ping":
            await self.send_json({"type": "pong", "ref": ref})

    async def chat_message(self, event):
        message = event["message"]
        await self.send_json({"type": "message", "room": message["room"], "message": message})
