"""No API token in the logs of real servers (docs/security.md, Secrets in
logs): a WebSocket client may send its token as `?token=`, and daphne,
uvicorn and the shipped nginx config each log the handshake. Each test
connects with a token in the query, accepted and refused, and reads the
server's log. And the login throttle in a real worker, with its log line.
"""

import asyncio
import http.cookiejar
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.harness import frames
from tests.harness.deployment import ROOT, Deployment, free_port

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"


async def handshakes_with_a_query_token(ws_url: str, token: str) -> None:
    """One accepted socket, and one refused for its foreign Origin."""
    async with websockets.connect(f"{ws_url}?token={token}") as ws:
        hello = frames.received(await asyncio.wait_for(ws.recv(), 10))
        assert hello["type"] == "hello" and hello["user"] == "alice"
    with pytest.raises(InvalidStatus):
        await websockets.connect(
            f"{ws_url}?token={token}", additional_headers={"Origin": "http://evil.example"}
        )


def assert_no_token(log: str, token: str) -> None:
    secret = token.partition("_")[2]
    assert secret and secret[:16] not in log, log[-3000:]


@pytest.fixture
def site(tmp_path):
    deployment = Deployment(tmp_path / "site")
    deployment.create_users("alice")
    deployment.token_of_alice = deployment.token("alice")
    yield deployment
    deployment.stop()


@pytest.mark.parametrize("server", ["daphne", "uvicorn"])
async def test_a_query_token_reaches_no_worker_log(site, server):
    worker = site.start_worker(server=server)
    await handshakes_with_a_query_token(worker.ws_url, site.token_of_alice)
    worker.stop()  # flushes the log
    log = worker.log()
    assert "/ws/" in log  # the handshakes were logged, without the token
    if server == "uvicorn":
        assert "/ws/?token=[redacted]" in log
    assert_no_token(log, site.token_of_alice)


def nginx_config(workdir: Path, listen: int, worker_port: int) -> Path:
    """deploy/nginx.conf as shipped, but for its addresses and paths: plain
    HTTP on `listen`, the one worker, logs in `workdir`."""
    shipped = (ROOT / "deploy/nginx.conf").read_text()
    config, count = re.subn(r"listen 443 ssl http2;", f"listen 127.0.0.1:{listen};", shipped)
    config = config.replace("server 127.0.0.1:8002;", "")
    config = re.sub(r"server 127\.0\.0\.1:8001\b", f"server 127.0.0.1:{worker_port}", config)
    config = re.sub(r"access_log /\S+ rooms;", f"access_log {workdir}/access.log rooms;", config)
    config = config.replace("/srv/rooms/staticfiles/", f"{workdir}/static/")
    assert count == 1 and f"{workdir}/access.log rooms" in config
    main = workdir / "nginx.conf"
    temp = " ".join(
        f"{name}_temp_path {workdir}/{name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main.write_text(
        f"daemon off; master_process off; pid {workdir}/nginx.pid;\n"
        f"error_log {workdir}/error.log warn;\n"
        f"events {{}}\nhttp {{\n{temp}\n{config}\n}}\n"
    )
    return main


def test_the_shipped_nginx_config_logs_no_query_token(site, tmp_path):
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():  # not one of the services CI must have
        pytest.skip("nginx is not installed (apt-get install -y nginx)")
    worker = site.start_worker()
    port = free_port()
    config = nginx_config(tmp_path, port, worker.port)
    nginx = subprocess.Popen(
        [binary, "-p", str(tmp_path), "-c", str(config), "-e", str(tmp_path / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert nginx.poll() is None, nginx.stderr.read().decode()
                assert time.monotonic() < deadline, "nginx did not listen"
                time.sleep(0.1)
        url = f"ws://127.0.0.1:{port}/ws/"
        asyncio.run(handshakes_with_a_query_token(url, site.token_of_alice))
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
    log = (tmp_path / "access.log").read_text()
    assert '"GET /ws/ HTTP/1.1" 101' in log and '"GET /ws/ HTTP/1.1" 403' in log, log
    assert_no_token(log, site.token_of_alice)


def test_a_real_worker_refuses_the_eleventh_login_and_logs_it_without_the_password(site):
    """The throttle under daphne's asynchronous request path, with its log."""
    worker = site.start_worker()
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(worker.http_url + "/accounts/login/", timeout=10).read()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")

    def login(password: str) -> int:
        form = {"username": "alice", "password": password, "csrfmiddlewaretoken": csrf}
        request = urllib.request.Request(
            worker.http_url + "/accounts/login/",
            data=urllib.parse.urlencode(form).encode(),
            headers={"Referer": worker.http_url + "/accounts/login/"},
        )
        try:
            with opener.open(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    statuses = [login("wrong-password-42") for _ in range(11)]
    assert statuses == [200] * 9 + [429, 429]
    assert login("test-pass-123") == 429
    worker.stop()
    log = worker.log()
    assert "login refused (429): too many failures for 'alice' from 127.0.0.1" in log
    assert "wrong-password-42" not in log and "test-pass-123" not in log


@pytest.mark.browser
def test_the_pages_run_in_chromium_without_a_policy_violation(site):
    """Every page type in a real browser, as in production (DEBUG off,
    collected static files): the Content-Security-Policy blocks nothing."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing")
    from playwright.sync_api import expect, sync_playwright

    site.collect_static()
    site.create_users("boss", staff=True)
    site.shell(
        "from django.contrib.auth import get_user_model\n"
        "get_user_model().objects.filter(username='boss').update(is_superuser=True)\n"
    )
    site.manage("createroom", "lobby")
    worker = site.start_worker()
    pages = ["/", "/rooms/lobby/", "/admin/", "/admin/rooms/message/", "/admin/rooms/message/post/"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        violations = []
        page.on(
            "console", lambda m: "Content Security Policy" in m.text and violations.append(m.text)
        )
        page.on("pageerror", lambda error: violations.append(str(error)))
        page.goto(worker.http_url + "/accounts/login/")
        page.get_by_label("Username").fill("boss")
        page.get_by_label("Password").fill("test-pass-123")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(worker.http_url + "/")
        for path in pages:
            page.goto(worker.http_url + path)
            page.wait_for_load_state("networkidle")
            if path == "/rooms/lobby/":  # the modules loaded and the socket connected
                expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
        browser.close()
    assert violations == []
