"""What the notification tests share: a real SMTP server (aiosmtpd on
127.0.0.1, a free port) whose inbox a test polls, settings that send to it
with short delays, and a way to run the due jobs in this process."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller

from tests.harness.deployment import free_port

DELAY = 0.5  # seconds: ROOMS_NOTIFY_EMAIL_DELAY and _PUSH_DELAY in these tests


@dataclass
class Inbox:
    """What the SMTP server received, parsed; filled by the server's thread."""

    messages: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay: float = 0.0  # seconds the server takes to accept each message

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(parsed)
        return "250 OK"

    def received(self) -> list:
        with self.lock:
            return list(self.messages)

    def to(self, address: str) -> list:
        return [m for m in self.received() if address in m["To"]]

    def wait_for(self, count: int, *, timeout: float = 20.0, poll=None) -> list:
        """The messages once there are `count`, polling (and calling `poll`
        between looks, e.g. to run due jobs); fails after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if poll is not None:
                poll()
            received = self.received()
            if len(received) >= count:
                return received
            time.sleep(0.05)
        raise AssertionError(f"{len(self.received())} emails received, {count} expected")


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


@pytest.fixture
def inbox(smtp_server, settings):
    """Email on, to the test's SMTP server, with short delays; no Web Push."""
    controller, received = smtp_server
    settings.EMAIL_URL = f"smtp://127.0.0.1:{controller.port}"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.ROOMS_NOTIFY_EMAIL_DELAY = DELAY
    settings.ROOMS_NOTIFY_PUSH_DELAY = DELAY
    settings.ROOMS_VAPID_PRIVATE_KEY = None
    settings.ROOMS_BASE_URL = "https://rooms.example"
    settings.ROOMS_RATE_LIMIT = None
    return received


def run_due_jobs() -> None:
    """Deliver every notification and run every job due now, in this
    process, as `manage.py worker --batch` does (without taking over this
    process's signals)."""
    from rooms.worker import Worker

    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
        excluded_queue_names=[],
    ).run()


def pending_jobs() -> int:
    """Deliveries pending (NotifyState rows with `due_at`) and jobs not yet
    run: the worker's queue (/metrics' rooms_task_queue_depth)."""
    from rooms.selectors import jobs

    return jobs.jobs_waiting()


def drain(*, timeout: float = 20.0) -> None:
    """Run the worker as things fall due until none is left (every send is
    done when its delivery is: smtplib returns once the server has accepted)."""
    deadline = time.monotonic() + timeout
    while pending_jobs():
        assert time.monotonic() < deadline, "jobs still pending"
        run_due_jobs()
        time.sleep(0.05)


def wait_until(condition, *, timeout: float = 20.0) -> None:
    """Run due jobs until `condition()` holds; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        run_due_jobs()
        time.sleep(0.05)
