"""Keeps API tokens out of the logs.

A WebSocket client that cannot set headers sends its token as `?token=`
(docs/protocol.md, Connection), and uvicorn logs every handshake with its
query string. This filter rewrites any `token=<value>` of a log line to
`token=[redacted]`; project/settings.py puts it on the console handler and
on uvicorn's logger (docs/security.md, Secrets in logs).
"""

import logging
import re

TOKEN = re.compile(r"(token=)[^&\s\"']+", re.IGNORECASE)
REDACTED = r"\1[redacted]"


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: the handler reports it
            return True
        redacted = TOKEN.sub(REDACTED, message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
