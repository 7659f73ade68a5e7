"""Every frame checked against the protocol's AsyncAPI document
(docs/asyncapi.yaml), in the spirit of Zulip's `check_events`.

The test clients (inprocess.py, network.py, live.py) pass each frame the
server sends through `received`: a frame the document does not describe (an
unknown type or field, a wrong type, a missing field) raises FrameError in
the test that received it, with the frame and the schema's complaint, and is
also recorded in `failures`, which tests/conftest.py checks after every
test, so a frame read by a background task fails its test too.

Client frames are checked with `client_frame` only where a test means them
to be valid: tests that send bad input on purpose still can.

The document is read, and each frame type's schema compiled to Python
(fastjsonschema), once per process.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import fastjsonschema
import yaml

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"
SHOWN = 2000  # characters of a frame quoted in a failure


class FrameError(AssertionError):
    """A frame that docs/asyncapi.yaml does not describe."""


# The frames of the current test that did not match (see module docstring).
failures: list[FrameError] = []


@functools.cache
def document() -> dict:
    return yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))


def resolve(pointer: str) -> Any:
    """The node at a local `$ref` ("#/a/b") of the document."""
    node = document()
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _follow(node: dict) -> tuple[str | None, dict]:
    """(the last pointer followed, the object) of a node that may be a $ref
    to a $ref."""
    pointer = None
    while "$ref" in node:
        pointer = node["$ref"]
        node = resolve(pointer)
    return pointer, node


@functools.cache
def validators() -> dict[str, dict[str, Any]]:
    """{"server": {type: validate}, "client": {type: validate}}: the messages
    of the server's `send` operations, and of its `receive` operations."""
    found: dict[str, dict[str, Any]] = {"server": {}, "client": {}}
    for operation in document()["operations"].values():
        side = "server" if operation["action"] == "send" else "client"
        for reference in operation["messages"]:
            pointer, message = _follow(reference)
            payload = message["payload"]
            kind = _follow(payload)[1]["properties"]["type"]["const"]
            # The payload by its place, beside the components its $refs name.
            place = payload.get("$ref", f"{pointer}/payload")
            schema = {"$ref": place, "components": document()["components"]}
            found[side][kind] = fastjsonschema.compile(schema)
    return found


def problem(side: str, frame: Any) -> str | None:
    """Why `frame` is not a valid frame of `side` ("server" or "client"), or
    None when it is one."""
    kind = frame.get("type") if isinstance(frame, dict) else None
    validate = validators()[side].get(kind) if isinstance(kind, str) else None
    if validate is None:
        return f"type {kind!r} is not a {side} frame of docs/asyncapi.yaml"
    try:
        validate(frame)
    except fastjsonschema.JsonSchemaValueException as error:
        return error.message
    return None


def server_frame(frame: str | bytes | dict) -> dict:
    """A frame the server sent (its text, or parsed), checked; parsed."""
    return _check("server", frame)


def client_frame(frame: str | bytes | dict) -> dict:
    """A frame a client sends, checked; parsed."""
    return _check("client", frame)


def received(frame: str | bytes | None) -> dict:
    """What a test client does with each frame the server sends (None: a
    binary one): check it, record a mismatch for the end of the test, and
    raise it now."""
    try:
        if frame is None:
            raise FrameError("the server sent a binary frame: the protocol has none")
        return server_frame(frame)
    except FrameError as error:
        failures.append(error)
        raise


def _check(side: str, frame: str | bytes | dict) -> dict:
    if isinstance(frame, dict):
        parsed = frame
    else:
        try:
            parsed = json.loads(frame)
        except ValueError as error:
            raise FrameError(f"{side} frame is not JSON ({error}): {_shown(frame)}") from None
    why = problem(side, parsed)
    if why is not None:
        raise FrameError(f"{side} frame does not match docs/asyncapi.yaml: {why}\n{_shown(frame)}")
    return parsed


def _shown(frame: str | bytes | dict) -> str:
    if isinstance(frame, bytes):
        frame = frame.decode("utf-8", "replace")
    text = frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False)
    return text if len(text) <= SHOWN else text[:SHOWN] + f"... ({len(text)} characters)"
