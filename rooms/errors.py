"""The one exception every layer raises for a user's mistake.

It carries a protocol error code (docs/protocol.md, Errors), so the consumer, the
HTTP API, the admin and the management commands all report the same problem
the same way.
"""


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
