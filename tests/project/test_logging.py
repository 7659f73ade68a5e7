"""Structured logs (docs/deploy.md, Logs): with ROOMS_LOG_FORMAT=json the
console writes one JSON object per line with the time, level, logger and
message, and the request id, socket, user and room where they apply; no
token or session id reaches a line, in either format. A real worker's JSON
lines: tests/integration/test_logging.py."""

import io
import json
import logging
import os
import subprocess
import sys

import pytest

from project.logfilters import JsonLines, RedactTokens
from tests.harness.deployment import ROOT

SECRET = "s3cr3tVALUE0123456789abcdef"


@pytest.fixture
def json_lines():
    """The console's chain (redacting filter, then JsonLines) on the `rooms`
    logger, writing to a buffer; yields a function returning the parsed lines."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonLines())
    handler.addFilter(RedactTokens())
    logger = logging.getLogger("rooms")
    logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)


def test_a_json_line_has_the_time_level_logger_message_and_what_it_is_about(json_lines):
    logger = logging.getLogger("rooms.realtime.consumer")
    fields = {"socket": "0bc5f844", "user": "alice", "room": "lobby"}
    logger.warning(
        "socket %s of %s closed (%d): %s", "0bc5f844", "alice", 4408, "slow", extra=fields
    )
    (line,) = json_lines()
    assert line["level"] == "WARNING"
    assert line["logger"] == "rooms.realtime.consumer"
    assert line["message"] == "socket 0bc5f844 of alice closed (4408): slow"
    assert line["time"].endswith("+00:00") and "T" in line["time"]
    assert {key: line[key] for key in fields} == fields
    assert "request_id" not in line and "exc" not in line


def test_a_json_line_leaves_out_the_fields_that_do_not_apply(json_lines):
    logging.getLogger("rooms.x").info("plain", extra={"socket": "abc", "room": None})
    (line,) = json_lines()
    assert set(line) == {"time", "level", "logger", "message", "socket"}


def test_a_json_line_carries_a_traceback_as_one_field(json_lines):
    try:
        raise ValueError("broken")
    except ValueError:
        logging.getLogger("rooms.x").exception("failed")
    (line,) = json_lines()
    assert line["message"] == "failed"
    assert "Traceback" in line["exc"] and "ValueError: broken" in line["exc"]


@pytest.mark.django_db
def test_a_json_line_of_an_http_request_carries_its_request_id(client, settings, json_lines):
    settings.ROOMS_METRICS_TOKEN = "the-metrics-token-" + "x" * 30
    given = client.get("/metrics", HTTP_X_REQUEST_ID="req-1234")
    made = client.get("/metrics", HTTP_X_REQUEST_ID="not a valid id!")
    first, second = json_lines()
    assert given["X-Request-ID"] == first["request_id"] == "req-1234"
    assert made["X-Request-ID"] == second["request_id"] != "not a valid id!"
    assert first["message"] == "metrics refused (401): no bearer token"
    assert first["client"] == "127.0.0.1"


@pytest.mark.parametrize(
    "message, args",
    [
        ("handshake /ws/?a=1&token=%s&b=2", None),
        ("Authorization: Bearer %s", None),
        ("cookie sessionid=%s; csrftoken=abc", None),
        ("handshake %s", "/ws/?token={}"),
        ("TOKEN=%s", None),
    ],
)
def test_no_token_or_session_id_reaches_a_line_in_either_format(json_lines, message, args):
    logger = logging.getLogger("rooms.x")
    if args is None:
        logger.warning(message % SECRET)
    else:
        logger.warning(message, args.format(SECRET))
    try:
        raise RuntimeError(f"GET /ws/?token={SECRET}")
    except RuntimeError:
        logger.exception("failed at token=%s", SECRET)
    lines = json_lines()
    assert len(lines) == 2
    assert SECRET not in json.dumps(lines)
    assert "[redacted]" in lines[0]["message"] and "[redacted]" in lines[1]["exc"]


def test_the_redaction_leaves_words_about_tokens_alone():
    record = logging.LogRecord("rooms", logging.INFO, "", 0, "no bearer token; a token", (), None)
    assert RedactTokens().filter(record)
    assert record.getMessage() == "no bearer token; a token"


def run_django(code: str, **env: str) -> subprocess.CompletedProcess:
    """`code` in a fresh process with the project's settings and `env`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ROOMS_"))}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "project.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_setting_switches_the_console_to_json_lines():
    code = (
        "import logging\n"
        "logger = logging.getLogger('rooms.realtime.hub')\n"
        f"logger.warning('seen %s', '/ws/?token={SECRET}', extra={{'room': 'lobby'}})\n"
        "try:\n"
        f"    raise ValueError('/ws/?token={SECRET}')\n"
        "except ValueError:\n"
        "    logger.exception('failed')\n"
    )
    result = run_django(code, ROOMS_LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    seen, failed = [json.loads(text) for text in result.stderr.splitlines()]
    assert seen["message"] == "seen /ws/?token=[redacted]"
    assert seen["room"] == "lobby" and seen["logger"] == "rooms.realtime.hub"
    assert failed["exc"].endswith("ValueError: /ws/?token=[redacted]")
    assert SECRET not in result.stderr
    plain = run_django(code)
    assert "WARNING rooms.realtime.hub: seen /ws/?token=[redacted]\n" in plain.stderr
    assert plain.stderr.rstrip().endswith("ValueError: /ws/?token=[redacted]")
    assert SECRET not in plain.stderr and not plain.stderr.startswith("{")


def test_an_unknown_log_format_is_refused_at_start():
    result = run_django("", ROOMS_LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "ROOMS_LOG_FORMAT must be `plain` or `json`" in result.stderr
