"""The one exception every layer raises for a user's mistake.

It carries a protocol error code (docs/protocol.md, Errors), so the consumer, the
HTTP API, the admin and the management commands all report the same problem
the same way. Each code has one HTTP status (docs/api.md, Errors), which the
pages and the API answer with; the WebSocket sends the code itself.
"""

import math

# Codes no HTTP request can raise (`not_joined`, `unknown_type`) have none:
# reaching HTTP, they are a server error.
HTTP_STATUS = {
    "bad_frame": 400,
    "invalid": 400,
    "auth_required": 401,
    "forbidden": 403,
    "not_found": 404,
    "read_only": 409,
    "too_large": 413,
    "rate_limited": 429,
    "unavailable": 503,
}


class RoomsError(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        retry_after: float | None = None,
        ref: str | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.retry_after = retry_after
        # The client's ref to echo, set by the protocol parser.
        self.ref = ref

    @property
    def status(self) -> int:
        """The HTTP status of this error's code (500 for a code HTTP never raises)."""
        return HTTP_STATUS.get(self.code, 500)

    @property
    def retry_after_header(self) -> str | None:
        """Retry-After for HTTP, whole seconds rounded up (so a retry then
        succeeds); None when the error says nothing of when."""
        if self.retry_after is None:
            return None
        return str(max(1, math.ceil(self.retry_after)))
