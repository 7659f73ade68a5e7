"""Helpers for the tests that prove an admin, command-line or HTTP API write
reaches an open WebSocket live: a real daphne worker on the embedded default
(SQLite, in-memory layer) and a minimal protocol client over `websockets`.

On the in-memory layer a write from another process (manage.py) reaches the
worker through its repair loop (ROOMS_REPAIR_INTERVAL, 0.5 s in
tests.harness.deployment.Deployment); a write served by the worker itself (admin, API)
reaches its hub directly. Every frame read is checked against
docs/asyncapi.yaml (tests/harness/frames.py).
"""

import asyncio
import json
from collections.abc import Callable
from contextlib import asynccontextmanager

import websockets

from tests.harness import frames
from tests.harness.deployment import Deployment, Worker

TIMEOUT = 30.0  # generous: the machine is shared; waits end on the frame


def start_site(workdir, *users: str, rooms: tuple[str, ...] = ("lobby",)):
    """A deployment with one worker, the given users and public rooms."""
    deployment = Deployment(workdir)
    deployment.create_users(*users)
    for slug in rooms:
        deployment.manage("createroom", slug)
    deployment.start_worker()
    return deployment


@asynccontextmanager
async def joined_socket(worker: Worker, token: str, room: str):
    """A WebSocket authenticated with `token`, joined to `room` (its
    `joined` frame read)."""
    async with websockets.connect(
        worker.ws_url,
        additional_headers={"Authorization": f"Bearer {token}"},
        open_timeout=TIMEOUT,
    ) as ws:
        await ws.send(json.dumps(frames.client_frame({"type": "join", "room": room})))
        await next_frame(ws, lambda frame: frame["type"] == "joined")
        yield ws


async def next_frame(ws, predicate: Callable[[dict], bool]) -> dict:
    """The next frame for which `predicate` holds, passing over the others."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            frame = frames.received(await ws.recv())
            if predicate(frame):
                return frame
