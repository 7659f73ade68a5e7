"""A client that never reads (docs/protocol.md, Slow readers), against real
daphne and uvicorn processes: its backlog is bounded by ROOMS_MAX_BACKLOG,
past it the server closes it with 4408, and the room's other sockets get
every message meanwhile without waiting for it."""

import asyncio
import base64
import json
import os
import socket

import pytest

from tests.harness import frames
from tests.harness.deployment import Deployment
from tests.harness.network import Client

pytestmark = pytest.mark.integration

BACKLOG = 64 * 1024
BODY = "x" * 3900
COUNT = 1500  # ~6 MB: more than the kernel's socket buffers and the backlog


class RawSocket:
    """A WebSocket client on a plain socket that reads only when told to:
    its kernel receive buffer is tiny, so the server's writes pile up."""

    def __init__(self, url: str, token: str):
        host, port = url.removeprefix("ws://").split("/")[0].split(":")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(30)
        self.sock.connect((host, int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /ws/ HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def send(self, frame: dict) -> None:
        payload = json.dumps(frame).encode()
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[n % 4] for n, byte in enumerate(payload))
        assert len(payload) < 126
        self.sock.sendall(bytes((0x81, 0x80 | len(payload))) + mask + masked)

    def read_all(self) -> tuple[list[dict], int | None]:
        """Every frame until the server closes: (text frames, close code)."""
        received, code = [], None
        while True:
            frame = self._frame()
            if frame is None:
                return received, code
            opcode, payload = frame
            if opcode == 0x8:
                return received, int.from_bytes(payload[:2], "big") if payload else None
            if opcode == 0x1:
                received.append(frames.received(payload))

    def _frame(self):
        header = self._take(2)
        if header is None:
            return None
        length = header[1] & 0x7F
        if length in (126, 127):
            extended = self._take(2 if length == 126 else 8)
            if extended is None:
                return None
            length = int.from_bytes(extended, "big")
        payload = self._take(length)
        return None if payload is None else (header[0] & 0x0F, payload)

    def _take(self, count: int) -> bytes | None:
        while len(self.buffer) < count:
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                return None
            if not chunk:
                return None
            self.buffer += chunk
        taken, self.buffer = self.buffer[:count], self.buffer[count:]
        return taken


@pytest.mark.parametrize("server", ["daphne", "uvicorn"])
async def test_a_client_that_never_reads_is_closed_with_4408_and_delays_nobody(tmp_path, server):
    deployment = Deployment(tmp_path, env={"ROOMS_MAX_BACKLOG": str(BACKLOG)})
    deployment.create_users("alice", "bob")
    deployment.manage("createroom", "lobby")
    worker = deployment.start_worker(server=server)
    try:
        sleeper = RawSocket(worker.ws_url, deployment.token("bob"))
        sleeper.send({"type": "join", "room": "lobby", "presence": False})
        reader = await Client.connect(worker.ws_url, deployment.token("alice"))
        await reader.join("lobby", since=0)
        writer = await Client.connect(worker.ws_url, deployment.token("alice"))
        await writer.join("lobby", since=0)
        await asyncio.wait_for(writer.send_many("lobby", [BODY] * COUNT), 120)
        # Every message reaches the reading socket however far behind the
        # other one is.
        stream = await asyncio.wait_for(reader.wait_for_seq("lobby", COUNT), 120)
        assert stream.problems == [] and stream.seqs == list(range(1, COUNT + 1))
        # The server dropped the sleeper: what it reads at last ends in a
        # close (4408, or a cut connection once it is past due), not in
        # every message; the server's log says why.
        received, code = await asyncio.to_thread(sleeper.read_all)
        assert code in (4408, None)
        assert sum(frame["type"] == "message" for frame in received) < COUNT
        assert "closed (4408)" in worker.log()
        await reader.close()
        await writer.close()
    finally:
        deployment.stop()
    assert deployment.tracebacks() == []
