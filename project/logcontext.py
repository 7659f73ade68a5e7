"""The request id of the HTTP request being served, for its log lines.

`RequestIdMiddleware` takes the proxy's `X-Request-ID` (nginx's
`$request_id`, docs/deploy.md) when it is a plain token, else makes one; it
sets `request.request_id` and the `request_id` context variable for the
request's log lines (project/logfilters.py, JsonLines) and answers with the
same header, so a
client's report can be matched with the server's lines. A context variable
follows the request into the threads of sync views and back; a WebSocket's
lines carry their socket id instead (rooms/realtime/consumer.py).
"""

import contextvars
import re
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "rooms_request_id", default=None
)

HEADER = "X-Request-ID"
ACCEPTED = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _request_id(request) -> str:
    given = request.headers.get(HEADER, "")
    return given if ACCEPTED.fullmatch(given) else uuid.uuid4().hex[:16]


class RequestIdMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        value = request.request_id = _request_id(request)
        reset = request_id.set(value)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(reset)
        response[HEADER] = value
        return response

    async def _acall(self, request):
        value = request.request_id = _request_id(request)
        reset = request_id.set(value)
        try:
            response = await self.get_response(request)
        finally:
            request_id.reset(reset)
        response[HEADER] = value
        return response
