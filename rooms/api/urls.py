"""The API's routes, under `/api/` (docs/api.md): a django-ninja API of one
router per subject, its OpenAPI document at `/api/openapi.json` and the
document shown to people at `/api/docs`. A trailing slash is optional
everywhere; any other path is a JSON 404."""

from django.urls import path, re_path
from ninja.openapi.docs import Swagger

from . import attachments, direct, members, messages, notifications, push, rooms, search, users
from .http import RoomsAPI, json_405, unknown_endpoint

api = RoomsAPI(
    title="Rooms API",
    version="3",
    description=(
        "JSON over HTTP for bots, CI jobs and scripts (docs/api.md). Every error is "
        '`{"error": {"code", "message", "field"?, "retry_after"?}}` with the status its '
        "code knows."
    ),
    urls_namespace="api",
    # The Swagger UI of ninja's own static files, started by its own script:
    # the Content-Security-Policy allows no inline script (project/csp.py).
    docs=Swagger(settings={"persistAuthorization": False}),
)
for subject in (rooms, messages, attachments, members, notifications, direct, users, search, push):
    api.add_router("", subject.router)


def _routes() -> list:
    """ninja's routes, each also under its other spelling (with or without
    the trailing slash), with JSON 405s; its root answers like any unknown
    path."""
    patterns, _, _ = api.urls
    routes = []
    for pattern in patterns:
        route = str(pattern.pattern)
        if pattern.name == "api-root":
            routes.append(path(route, unknown_endpoint, name=pattern.name))
            continue
        if pattern.name in ("openapi-json", "openapi-view"):
            routes.append(pattern)
            continue
        view = json_405(pattern.callback)
        if route.rstrip("/").endswith("/attachments"):
            view = attachments.bounded_upload(view)
        other = route[:-1] if route.endswith("/") else route + "/"
        routes += [path(route, view, name=pattern.name), path(other, view)]
    return routes


app_name = "api"
urlpatterns = [*_routes(), re_path(r"^(?P<rest>.*)$", unknown_endpoint)]
