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

from asgiref.sync import markcoroutinefunction  # noqa: E402

from project.api_asgi import SyncChainHandler  # noqa: E402
from rooms.realtime.auth import WebSocketAuthMiddleware  # noqa: E402
from rooms.realtime.consumer import RoomsConsumer  # noqa: E402

WEBSOCKET_PATH = "/ws/"
websocket_app = WebSocketAuthMiddleware(RoomsConsumer.as_asgi())
# The API: the same Django and middleware, in one hop to a kept thread
# (project/api_asgi.py).
API_PREFIX = "/api/"
api_app = SyncChainHandler()


@markcoroutinefunction  # what servers check to call it the ASGI 3 way
def application(scope, receive, send):
    """HTTP to Django (/api/ through SyncChainHandler), /ws/ to the
    handshake rules and the consumer. A plain
    function returning the coroutine that serves the connection (what
    Channels' ProtocolTypeRouter and URLRouter do, without their frames and
    their copies of the scope held for each open socket)."""
    if scope["type"] == "websocket":
        if scope["path"] != WEBSOCKET_PATH:
            raise ValueError(f"No route found for path {scope['path']!r}.")
        return websocket_app(scope, receive, send)
    if scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
        return api_app(scope, receive, send)
    return django_asgi_app(scope, receive, send)
