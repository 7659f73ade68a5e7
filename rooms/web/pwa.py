"""What makes the pages an installable app that reaches people who are away
(docs/ui.md, "Installable app and push"): the service worker at the site
root, the web app manifest, and the page the service worker shows when the
network is gone.

The service worker's script lives with the other static files
(static/rooms/sw.js) but is served here, at /sw.js: a worker controls only
the pages under its own path, and the static files' path is /static/. Its
name never changes, so the browser checks it for updates on every visit
(`Cache-Control: no-cache`) rather than keeping a copy under a hashed name.
"""

from pathlib import Path

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.http import require_safe

SERVICE_WORKER = Path(__file__).resolve().parents[1] / "static" / "rooms" / "sw.js"
# The brand's colours (static/rooms/rooms.css: --accent and the light --bg).
THEME_COLOR = "#4f46e5"
BACKGROUND_COLOR = "#f5f6f8"
ICON_SIZES = (192, 512)


@require_safe
def service_worker(request):
    response = HttpResponse(SERVICE_WORKER.read_bytes(), content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def manifest(request):
    icons = [
        {
            "src": static(f"rooms/icons/icon-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
        }
        for size in ICON_SIZES
    ]
    return JsonResponse(
        {
            "name": "Rooms",
            "short_name": "Rooms",
            "description": "Realtime chat rooms",
            "id": "/",
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "theme_color": THEME_COLOR,
            "background_color": BACKGROUND_COLOR,
            "icons": icons,
        },
        content_type="application/manifest+json",
    )


@require_safe
def offline(request):
    return render(request, "offline.html")
