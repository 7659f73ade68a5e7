"""HTML pages and the health check. The chat itself runs in the browser over
the WebSocket (static/rooms/)."""

import asyncio

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render

from . import selectors


@login_required
def room_list(request):
    rooms = selectors.rooms_for_user(user=request.user)
    return render(request, "rooms/room_list.html", {"rooms": rooms})


@login_required
def room_page(request, slug):
    room = selectors.room_access(user=request.user, slug=slug)
    if room is None:
        raise Http404("No such room.")
    return render(request, "rooms/room.html", {"room": room})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


async def _layer_ok() -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        channel = await asyncio.wait_for(layer.new_channel(prefix="healthz"), 2)
        await asyncio.wait_for(layer.send(channel, {"type": "healthz"}), 2)
        await asyncio.wait_for(layer.receive(channel), 2)
        return True
    except Exception:
        return False


async def healthz(request):
    db = await sync_to_async(_database_ok)()
    layer = await _layer_ok()
    status = 200 if db and layer else 503
    return JsonResponse({"ok": db and layer, "db": db, "layer": layer}, status=status)
