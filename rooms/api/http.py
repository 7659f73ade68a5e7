"""What every API endpoint shares: who calls (a token, or the session with
the CSRF check), JSON in and out, and the one error body.

Authentication: an API token (`Authorization: Bearer <token>`), or the
browser's session. A token cannot be sent by another site, so token requests
skip the CSRF check; session requests that change something must pass it.

Errors: a refusal is a RoomsError, answered with the status its code knows
(rooms/errors.py) as `{"error": {"code", "message", "field"?,
"retry_after"?}}`. django-ninja's own refusals (a body or parameter of the
wrong shape, a body that is no JSON object, a method the path does not take)
are turned into the same body here, so a client meets one shape.
"""

import functools
import json
from typing import Annotated

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError, ValidationError
from ninja.parser import Parser
from ninja.renderers import BaseRenderer
from ninja.security import APIKeyCookie, HttpBearer
from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from .. import protocol, services
from ..errors import RoomsError
from ..tokens import bearer_token

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# The order `Allow` lists an endpoint's methods in.
METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE")


def json_response(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="application/json")


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --- Errors -------------------------------------------------------------------


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


class ErrorDetail(Schema):
    code: str = Field(description="The protocol's error code (docs/protocol.md, Errors).")
    message: str = Field(description="For people.")
    # Absent, not null, when it does not apply.
    field: str = Field(None, description="The request's field at fault.")
    retry_after: float = Field(None, description="Seconds to wait (`rate_limited`).")


class Error(Schema):
    error: ErrorDetail


def answers(successes: dict, *statuses: int) -> dict:
    """An operation's responses: its successes, and the error statuses it
    may answer with besides 401 (no valid token or session)."""
    return {**successes, **{status: Error for status in sorted({401, *statuses})}}


def _shape_error(request, exc: ValidationError) -> HttpResponse:
    """A parameter or body field of the wrong type or out of range, as the
    hand-written checks said it: `invalid`, naming the field."""
    first = exc.errors[0]
    source, *where = first["loc"]
    if source == "body":
        where = where[1:]  # the view's parameter that holds the body
    names = [str(part) for part in where if isinstance(part, str)]
    if not names:
        return error_response(RoomsError("invalid", "The request body must be a JSON object."))
    field = ".".join(names)
    return error_response(RoomsError("invalid", f"`{field}`: {first['msg']}.", field=field))


def _unreadable_body(request, exc: HttpError) -> HttpResponse:
    # ninja wraps what the parser raised (too large, not a JSON object).
    if isinstance(exc.__cause__, RoomsError):
        return error_response(exc.__cause__)
    if exc.status_code != 400:
        raise exc
    return error_response(RoomsError("invalid", str(exc)))


def _too_large(request, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.ROOMS_MAX_FRAME_BYTES
    refusal = RoomsError("too_large", f"A request body may hold at most {limit} bytes.")
    return error_response(refusal)


def _not_found(request, exc: Http404) -> HttpResponse:
    return error_response(RoomsError("not_found", "No such API endpoint. See docs/api.md."))


def _server_error(request, exc: Exception) -> HttpResponse:
    # Django answers it (500) and logs it, as for any other view.
    raise exc


@csrf_exempt
def unknown_endpoint(request, rest=""):
    return error_response(RoomsError("not_found", "No such API endpoint. See docs/api.md."))


def json_405(view):
    """ninja answers a method that a path does not take with a bare 405:
    give it the API's error body, and `Allow` in the usual order."""

    @functools.wraps(view)  # keeps csrf_exempt: the auth classes check CSRF
    def api_view(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if not isinstance(response, HttpResponseNotAllowed):
            return response
        allowed = {method.strip() for method in response["Allow"].split(",")}
        methods = [method for method in METHOD_ORDER if method in allowed]
        detail = {"code": "invalid", "message": f"Use {' or '.join(methods)}."}
        refusal = json_response(dumps({"error": detail}), 405)
        refusal["Allow"] = ", ".join(methods)
        return refusal

    return api_view


# --- Who calls ------------------------------------------------------------------


class TokenAuth(HttpBearer):
    openapi_description = (
        "An API token (`manage.py issuetoken USER`, or the admin). A header that is present "
        "but no valid token is refused with 401, even beside a session cookie."
    )

    def __call__(self, request):
        token = bearer_token(request.headers.get("Authorization"))
        if token is None:
            return None  # no Authorization header: the session may be the caller
        return self.authenticate(request, token)

    def authenticate(self, request, token: str):
        user = services.api_token_authenticate(token=token)
        if user is None:
            raise RoomsError("auth_required", "The API token is missing, unknown or revoked.")
        return user


class SessionAuth(APIKeyCookie):
    """The browser's session; the last of the API's auth classes, so its
    refusal is the answer to a request with neither."""

    param_name = settings.SESSION_COOKIE_NAME
    openapi_description = (
        "The pages' session cookie. `POST`, `PUT`, `PATCH` and `DELETE` must send the "
        "`csrftoken` cookie's value as `X-CSRFToken` (403 `forbidden` otherwise)."
    )

    def __call__(self, request):
        if not request.user.is_authenticated:
            raise RoomsError("auth_required", "Send `Authorization: Bearer <token>`, or log in.")
        if request.method not in SAFE_METHODS and not _csrf_passes(request):
            raise RoomsError(
                "forbidden", "CSRF check failed: send the csrftoken cookie's value as X-CSRFToken."
            )
        return request.user

    def authenticate(self, request, key):  # __call__ does it all
        return None


def _csrf_passes(request) -> bool:
    """What CsrfViewMiddleware would have said, had the view not been exempt."""
    middleware = CsrfViewMiddleware(lambda _: None)
    middleware.process_request(request)
    return middleware.process_view(request, None, (), {}) is None


# --- JSON in and out --------------------------------------------------------------


class JsonObjects(Parser):
    """A request body is one JSON object, read as strictly as a WebSocket
    frame (no NaN), within the frame limit."""

    def parse_body(self, request) -> dict:
        limit = settings.ROOMS_MAX_FRAME_BYTES
        if len(request.body) > limit:
            raise RoomsError("too_large", f"A request body may hold at most {limit} bytes.")
        try:
            return protocol.load_object(request.body)
        except ValueError:
            raise RoomsError("invalid", "The request body must be a JSON object.") from None


class JsonRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request, data, *, response_status: int) -> str:
        return dumps(data)


def url_integer(*, minimum: int = 0, maximum: int = protocol.MAX_INT):
    """An integer of a URL's path or query: ASCII digits, no sign, space or
    `_`, in minimum..maximum. The length is checked before int(): a
    5,000-digit number is a client's mistake (400), not Python's int-size
    guard (500)."""

    def check(raw):
        if isinstance(raw, str) and (
            len(raw) > len(str(maximum))
            or not raw.isascii()
            or not raw.isdigit()
            or not minimum <= int(raw) <= maximum
        ):
            raise PydanticCustomError(
                "url_integer", f"must be an integer from {minimum} to {maximum}"
            )
        return raw

    # The range for the schema only: check() has enforced it.
    bounds = {"minimum": minimum, "maximum": maximum}
    return Annotated[int, BeforeValidator(check), Field(json_schema_extra=bounds)]


def stated(**constraints) -> dict:
    """JSON Schema constraints for the document only: the domain enforces
    them (rooms/validators.py, the services), with its own messages, after
    the schema has checked the JSON's types."""
    return {"json_schema_extra": constraints}


# A time as the protocol writes it: ISO 8601 in UTC, milliseconds, `Z`.
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class RoomsAPI(NinjaAPI):
    """django-ninja with the project's auth, JSON and errors."""

    def __init__(self, **kwargs):
        super().__init__(
            auth=[TokenAuth(), SessionAuth()],
            parser=JsonObjects(),
            renderer=JsonRenderer(),
            **kwargs,
        )

    def set_default_exception_handlers(self) -> None:
        self.add_exception_handler(RoomsError, lambda request, error: error_response(error))
        self.add_exception_handler(ValidationError, _shape_error)
        self.add_exception_handler(HttpError, _unreadable_body)
        self.add_exception_handler(RequestDataTooBig, _too_large)
        self.add_exception_handler(Http404, _not_found)
        self.add_exception_handler(Exception, _server_error)

    def get_content_type(self) -> str:
        return "application/json"

    def get_openapi_operation_id(self, operation) -> str:
        # The view's name, unique across the routers: what a generated client calls it.
        return operation.view_func.__name__
