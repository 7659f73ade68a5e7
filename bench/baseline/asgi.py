"""ASGI entry point of the baseline: HTTP (for /healthz) goes to Django, /ws/
to the tutorial-style consumer, behind the same token auth as Rooms.

`daphne bench.baseline.asgi:application` with
DJANGO_SETTINGS_MODULE=bench.baseline.settings.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.baseline.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from bench.baseline.consumers import ChatConsumer  # noqa: E402
from rooms.realtime.auth import WebSocketAuthMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": WebSocketAuthMiddleware(URLRouter([path("ws/", ChatConsumer.as_asgi())])),
    }
)
