"""The notifications benchmark's counterparts of the outside world
(bench/notifications.py): a mail server and a push service on 127.0.0.1
that accept everything at once and count what arrived, and the keys a
push subscription needs (the site's VAPID key, a browser's p256dh and auth).
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.harness.deployment import free_port


class SmtpSink:
    """aiosmtpd on 127.0.0.1 counting messages per recipient (not parsed:
    the benchmark process shares the cores with the worker)."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.counts: Counter = Counter()
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.counts[rcpt] += 1
        return "250 OK"

    @property
    def port(self) -> int:
        return self.controller.port

    def total(self) -> int:
        with self.lock:
            return sum(self.counts.values())

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


class PushSink:
    """A push service on 127.0.0.1: every POST answers 201 at once and is
    counted per path (one path per subscription); its encoding is checked.
    HTTP/1.1, so a sender may keep its connection, as real push services
    let it."""

    def __init__(self):
        sink = self
        self.counts: Counter = Counter()
        self.refused = 0
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as push services allow: one connection per sender.
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # http.server's hook
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                encrypted = self.headers.get("Content-Encoding") == "aes128gcm" and body
                signed = self.headers.get("Authorization", "").startswith("vapid ")
                with sink.lock:
                    if encrypted and signed:
                        sink.counts[self.path] += 1
                    else:
                        sink.refused += 1
                self.send_response(201 if encrypted and signed else 400)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):  # no line per request on stderr
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def total(self) -> int:
        with self.lock:
            return sum(self.counts.values())

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def vapid_key() -> str:
    """A raw base64url P-256 private key, as ROOMS_VAPID_PRIVATE_KEY takes it."""
    key = ec.generate_private_key(ec.SECP256R1())
    return _b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def browser_keys() -> tuple[str, str]:
    """(p256dh, auth) as a browser's PushSubscription gives them."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return _b64url(point), _b64url(secrets.token_bytes(16))
