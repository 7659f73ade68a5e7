"""ASGI entry point: HTTP goes to Django, /ws/ to the Rooms consumer.

`daphne project.asgi:application`, any number of processes sharing one
database and (with REDIS_URL) one Redis.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django_asgi_app = get_asgi_application()

from project import daphne_bodies  # noqa: E402

daphne_bodies.install()  # a body past the upload limit never fills daphne's memory

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from rooms.realtime.auth import WebSocketAuthMiddleware  # noqa: E402
from rooms.realtime.consumer import RoomsConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": WebSocketAuthMiddleware(URLRouter([path("ws/", RoomsConsumer.as_asgi())])),
    }
)
