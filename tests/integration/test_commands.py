"""The management commands as an operator runs them: separate processes
against a real daphne worker on the embedded default. A CLI post reaches an
open WebSocket live, `tailroom --follow` prints what is posted later, bad
arguments exit non-zero without a traceback, and `exportroom` streams
100,000 messages in bounded memory.
"""

import json
import os
import select
import signal
import subprocess
import sys
import time

import pytest

from tests.harness.deployment import ROOT, Deployment
from tests.harness.live import joined_socket, next_frame, start_site

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    deployment = start_site(tmp_path_factory.mktemp("commands"), "alice", rooms=("lobby", "big"))
    try:
        yield deployment
    finally:
        deployment.stop()


def manage_process(site, *args, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=site.env, **popen)


async def test_post_from_the_command_line_reaches_an_open_websocket_live(site):
    worker = site.workers[0]
    async with joined_socket(worker, site.token("alice"), "lobby") as ws:
        seq = int(site.manage("post", "lobby", "from the command line").stdout)
        frame = await next_frame(ws, lambda frame: frame["type"] == "message")
    assert frame["message"]["seq"] == seq
    assert frame["message"]["body"] == "from the command line"
    assert frame["message"]["author"] is None and frame["message"]["kind"] == "system"
    assert not site.tracebacks()


class LineReader:
    """Lines from a pipe, each waited for until a deadline (nothing to await
    in sync code). Reads the raw fd: a buffered reader could hold a line that
    select() no longer reports."""

    def __init__(self, pipe):
        self.fd = pipe.fileno()
        self.pending = b""

    def line(self, deadline: float) -> str:
        while b"\n" not in self.pending:
            ready, _, _ = select.select([self.fd], [], [], max(deadline - time.monotonic(), 0))
            assert ready, f"no complete line before the deadline (have {self.pending!r})"
            chunk = os.read(self.fd, 65536)
            assert chunk, f"the pipe closed (have {self.pending!r})"
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode()


def test_tailroom_follow_prints_messages_posted_after_it_started(site):
    head = int(site.manage("post", "lobby", "before the tail").stdout)
    tail = manage_process(
        site,
        *("tailroom", "lobby", "--since", str(head), "--follow", "--interval", "0.1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        site.manage("post", "lobby", "first after")
        site.manage("post", "lobby", "second after")
        deadline, reader = time.monotonic() + 30, LineReader(tail.stdout)
        printed = [json.loads(reader.line(deadline)) for _ in range(2)]
    finally:
        tail.send_signal(signal.SIGINT)
        _, errors = tail.communicate(timeout=30)
    assert [message["body"] for message in printed] == ["first after", "second after"]
    assert [message["seq"] for message in printed] == [head + 1, head + 2]
    assert tail.returncode == 0 and b"Traceback" not in errors


def test_tailroom_follow_with_redis_prints_through_the_channel_layer(tmp_path, redis_url):
    """With a database check only every 60 s, only the layer can bring the
    messages in time: the follow is live, not polling."""
    site = Deployment(tmp_path, redis_url=redis_url)
    site.manage("createroom", "lobby")
    tail = manage_process(
        site,
        *("tailroom", "lobby", "--since", "0", "--follow", "--interval", "60"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        reader = LineReader(tail.stdout)
        site.manage("post", "lobby", "before the layer test")
        first = json.loads(reader.line(time.monotonic() + 30))  # caught up or live
        site.manage("post", "lobby", "through redis")
        second = json.loads(reader.line(time.monotonic() + 20))
    finally:
        tail.send_signal(signal.SIGINT)
        _, errors = tail.communicate(timeout=30)
        site.stop()  # and its Redis keys
    assert [first["seq"], second["seq"]] == [1, 2]
    assert second["body"] == "through redis"
    assert tail.returncode == 0 and b"Traceback" not in errors


@pytest.mark.parametrize(
    ("args", "exit_code", "problem"),
    [
        (["post", "nowhere", "hi"], 1, "CommandError: No room 'nowhere'"),
        (["post", "lobby", "hi", "--as", "nobody"], 1, "CommandError: No user 'nobody'"),
        (["tailroom", "lobby", "--since", "-1"], 2, "argument --since: '-1' is negative"),
        (["prunemessages", "--older-than", "soon"], 2, "'soon' is not a whole number"),
        (["roomstats", "nowhere"], 1, "CommandError: No room 'nowhere'"),
    ],
)
def test_bad_arguments_exit_non_zero_with_a_message_and_no_traceback(
    site, args, exit_code, problem
):
    result = site.manage(*args, check=False)
    assert result.returncode == exit_code
    assert problem in result.stderr
    assert "Traceback" not in result.stderr


def _peak_rss_mib(site, *args) -> float:
    """Run a command; its own peak resident memory (wait4 reports it per child)."""
    process = manage_process(site, *args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, f"{args} exited {process.returncode}"
    return usage.ru_maxrss / 1024  # KiB on Linux


EXPORT_MESSAGES = 100_000
# Holding 100,000 rendered rows at once takes over 70 MiB of Python objects;
# streaming holds one 1,000-message batch.
EXPORT_EXTRA_MIB_BOUND = 25


def test_exportroom_streams_100k_messages_in_bounded_memory(site, tmp_path):
    site.shell(
        "from rooms import services\n"
        "from rooms.services import EntryRequest\n"
        "from rooms.models import Room\n"
        "room = Room.objects.get(slug='big')\n"
        "body = 'a moderately long chat message body, ' * 3\n"
        f"n = {EXPORT_MESSAGES}\n"
        "for start in range(1, n + 1, 5000):\n"
        "    services.entry_post_many([EntryRequest(room, None, f'{s} {body}')\n"
        "        for s in range(start, min(start + 5000, n + 1))])\n"
    )
    target = tmp_path / "big.jsonl"
    # The same command exporting nothing: Django's and the interpreter's share.
    baseline = _peak_rss_mib(site, "exportroom", "big", "--since", str(EXPORT_MESSAGES))
    full = _peak_rss_mib(site, "exportroom", "big", "--output", str(target))
    print(f"exportroom of {EXPORT_MESSAGES}: {full:.0f} MiB peak RSS, baseline {baseline:.0f}")
    assert full - baseline < EXPORT_EXTRA_MIB_BOUND
    with target.open(encoding="utf-8") as exported:
        count = 0
        for count, line in enumerate(exported, start=1):
            assert json.loads(line)["seq"] == count
    assert count == EXPORT_MESSAGES
