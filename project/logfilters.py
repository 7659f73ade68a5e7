"""Log lines on their way out: no secrets in them, and JSON lines on request.

A WebSocket client that cannot set headers sends its token as `?token=`
(docs/protocol.md, Connection), and uvicorn logs every handshake with its
query string. `RedactTokens` rewrites any `token=<value>` of a log line to
`token=[redacted]` (and a `sessionid=` cookie or an `Authorization: Bearer`
value likewise); project/settings.py puts it on the console handler and on
uvicorn's logger (docs/security.md, Secrets in logs).

The console's formatters redact their whole output too (a traceback may
quote a URL): `PlainLines` by default, `JsonLines` with ROOMS_LOG_FORMAT=json
(docs/deploy.md, Logs): one object per line with `time`, `level`, `logger`
and `message`, plus what the line is about where that applies: `request_id`
(an HTTP request, project/logcontext.py), `socket`, `user`, `room` and
`client` (given by the log call as `extra=`), and `exc` for a traceback.
"""

import json
import logging
import re
from datetime import UTC, datetime

from . import logcontext

SECRETS = re.compile(
    r"((?i:token|sessionid)=)[^&\s\"';,]+|(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}",
)
REDACTED = "[redacted]"

# Attributes a log call may set with `extra=`, copied into a JSON line.
CONTEXT_FIELDS = ("socket", "user", "room", "client")


def redact(text: str) -> str:
    return SECRETS.sub(lambda match: (match[1] or match[2]) + REDACTED, text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: the handler reports it
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class PlainLines(logging.Formatter):
    """The readable format, redacted whole: a traceback may quote a URL."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Django's own request lines (django.request) carry the request.
        request = getattr(record, "request", None)
        request_id = getattr(request, "request_id", None) or logcontext.request_id.get()
        if request_id:
            line["request_id"] = request_id
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value if isinstance(value, (int, float, bool)) else str(value)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        # The message passed RedactTokens; a traceback or a field did not.
        for name, value in line.items():
            if isinstance(value, str):
                line[name] = redact(value)
        return json.dumps(line, ensure_ascii=False)


def logging_config(*, line_format: str, rooms_level: str) -> dict:
    """The LOGGING setting: one console handler in `line_format` (`plain` or
    `json`), the `rooms` loggers at `rooms_level`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {
                "()": "project.logfilters.PlainLines",
                "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
            },
            "json": {"()": "project.logfilters.JsonLines"},
        },
        # No API token in any log line: the console's, and uvicorn's
        # WebSocket lines, which carry the handshake's query string.
        "filters": {"redact_tokens": {"()": "project.logfilters.RedactTokens"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": line_format,
                "filters": ["redact_tokens"],
            }
        },
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {
            "rooms": {"level": rooms_level},
            "django": {"level": "WARNING"},
            # The connection pool retries on its own while the database is
            # away; what fails is logged where it fails (a frame, /healthz).
            "psycopg.pool": {"level": "ERROR"},
            # A filter only: uvicorn keeps its own handlers and --log-level.
            "uvicorn.error": {"filters": ["redact_tokens"]},
        },
    }
