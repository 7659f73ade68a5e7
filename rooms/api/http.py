"""What every API endpoint shares: who calls (a token or the session), the
JSON in and out, the `endpoint` decorator, and the error response.

Authentication: an API token (`Authorization: Bearer <token>`), or the
browser's session. A token cannot be sent by another site, so token requests
skip the CSRF check; session requests that change something must pass it.
"""

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from .. import protocol, services
from ..errors import RoomsError
from ..tokens import bearer_token


def json_response(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="application/json")


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def error_response(error: RoomsError) -> HttpResponse:
    detail = {"code": error.code, "message": error.message}
    if error.field is not None:
        detail["field"] = error.field
    if error.retry_after is not None:
        detail["retry_after"] = error.retry_after
    response = json_response(dumps({"error": detail}), error.status)
    if error.code == "rate_limited":
        response["Retry-After"] = error.retry_after_header or "1"
    elif error.code == "auth_required":
        response["WWW-Authenticate"] = 'Bearer realm="rooms"'
    return response


def _authenticate(request):
    """The caller, from the bearer token or else the session."""
    token = bearer_token(request.headers.get("Authorization"))
    if token is not None:
        user = services.api_token_authenticate(token=token)
        if user is None:
            raise RoomsError("auth_required", "The API token is missing, unknown or revoked.")
        return user
    if not request.user.is_authenticated:
        raise RoomsError("auth_required", "Send `Authorization: Bearer <token>`, or log in.")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        # What CsrfViewMiddleware would have done, had the view not been exempt.
        middleware = CsrfViewMiddleware(lambda _: None)
        middleware.process_request(request)
        if middleware.process_view(request, None, (), {}) is not None:
            raise RoomsError(
                "forbidden", "CSRF check failed: send the csrftoken cookie's value as X-CSRFToken."
            )
    return request.user


def endpoint(*methods: str):
    """An API view: JSON errors, auth, and only the given methods."""

    def wrap(view):
        @csrf_exempt  # _authenticate applies the check to session requests
        def api_view(request, *args, **kwargs):
            try:
                if request.method not in methods:
                    detail = {"code": "invalid", "message": f"Use {' or '.join(methods)}."}
                    response = json_response(dumps({"error": detail}), 405)
                    response["Allow"] = ", ".join(methods)
                    return response
                user = _authenticate(request)
                return view(request, user, *args, **kwargs)
            except RoomsError as error:
                return error_response(error)

        return api_view

    return wrap


@csrf_exempt
def unknown_endpoint(request, rest=""):
    return error_response(RoomsError("not_found", "No such API endpoint. See docs/api.md."))


# --- Parsing ------------------------------------------------------------------


def integer(raw: str, name: str, *, minimum: int = 0, maximum: int = protocol.MAX_INT) -> int:
    """A decimal integer from a URL, in minimum..maximum. The length is
    checked before int(): a 5,000-digit number is a client's mistake (400),
    not a ValueError from Python's int-size guard (500)."""
    if (
        len(raw) > len(str(maximum))
        or not raw.isascii()
        or not raw.isdigit()
        or not minimum <= int(raw) <= maximum
    ):
        raise RoomsError(
            "invalid", f"`{name}` must be an integer from {minimum} to {maximum}.", field=name
        )
    return int(raw)


def int_param(request, name: str, *, minimum: int = 0, maximum: int = protocol.MAX_INT):
    raw = request.GET.get(name)
    return None if raw is None else integer(raw, name, minimum=minimum, maximum=maximum)


def read_json(request, *, optional: bool = False) -> dict:
    """The request's JSON object, within the WebSocket frame limit; with
    `optional`, an empty body is an empty object (DELETE)."""
    limit = settings.ROOMS_MAX_FRAME_BYTES
    too_large = RoomsError("too_large", f"A request body may hold at most {limit} bytes.")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large
    try:
        raw = request.body
    except RequestDataTooBig:
        raise too_large from None
    if len(raw) > limit:
        raise too_large
    if optional and not raw.strip():
        return {}
    try:
        return protocol.load_object(raw)
    except ValueError:
        raise RoomsError("invalid", "The request body must be a JSON object.") from None


def string(payload: dict, name: str, *, required: bool = False) -> str | None:
    value = payload.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise RoomsError("invalid", f"`{name}` is required: a string.", field=name)
    return value


def boolean(payload: dict, name: str) -> bool | None:
    value = payload.get(name)
    if value is not None and not isinstance(value, bool):
        raise RoomsError("invalid", f"`{name}` must be true or false.", field=name)
    return value
