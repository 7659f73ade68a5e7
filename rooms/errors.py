"""The one exception every layer raises for a user's mistake.

It carries a protocol error code (PROTOCOL.md, Errors), so the consumer, the
HTTP API, the admin and the management commands all report the same problem
the same way.
"""

# Precedence of PROTOCOL.md: when several errors apply, the first one wins.
PRECEDENCE = (
    "bad_frame",
    "unknown_type",
    "invalid",
    "not_found",
    "not_joined",
    "forbidden",
    "read_only",
    "rate_limited",
)


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
