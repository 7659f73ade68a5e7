"""Rights that end while a socket is open, on a real daphne worker
(docs/protocol.md, Access and flow control): within ROOMS_REPAIR_INTERVAL
(0.5 s here) a frame is decided with what the user may do now, and a socket
whose session ended (a logout, or a password change from another session)
is closed with 4401. The changes are made where no event announces them
(manage.py shell, another process) or by the site's own pages.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.harness.network import Client
from tests.harness.sessions import BrowserSession

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

PASSWORD = "test-pass-123"  # tests.harness.deployment.Deployment.create_users
REPAIRS = 6  # intervals to wait: the check comes once per interval


async def test_a_user_who_lost_staff_cannot_delete_others_messages_from_her_open_socket(
    embedded,
):
    site = embedded.provision(["bob", "carol"])
    deployment, worker = site.deployment, site.workers[0]
    deployment.create_users("carol", staff=True)
    first, second = deployment.post_many("lobby", ["one", "two"], as_user="bob")
    carol = await Client.connect(worker.ws_url, site.tokens["carol"], name="carol")
    await carol.join("lobby")
    ack = await carol.request({"type": "delete", "room": "lobby", "seq": first})
    assert ack["type"] == "ack"

    await asyncio.to_thread(deployment.create_users, "carol", staff=False)
    await asyncio.sleep(REPAIRS * float(deployment.env["ROOMS_REPAIR_INTERVAL"]))
    delete = carol.submit({"type": "delete", "room": "lobby", "seq": second})
    reply = await asyncio.wait_for(delete, 30)
    assert (reply["type"], reply.get("code")) == ("error", "forbidden"), reply
    await carol.close()
    site.assert_clean_logs()


async def test_a_password_change_closes_the_sockets_of_the_sessions_it_ended_and_a_logout_its_own(
    embedded,
):
    site = embedded.provision(["alice"])
    deployment, worker = site.deployment, site.workers[0]
    deployment.create_users("alice", password=PASSWORD)
    login = BrowserSession.login
    a, b = [await asyncio.to_thread(login, worker.http_url, "alice", PASSWORD) for _ in "ab"]
    socket_a = await Client.connect(worker.ws_url, None, name="a", headers=a.websocket_headers())
    socket_b = await Client.connect(worker.ws_url, None, name="b", headers=b.websocket_headers())
    await socket_a.join("lobby")

    new = "n3w-pass-w0rd!"
    change = {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    assert await asyncio.to_thread(b.post, "/accounts/password_change/", change) == 200
    # Session A still exists, with the old password's hash: it is over.
    assert await socket_a.wait_closed(within=REPAIRS * 0.5) == 4401
    # Session B was given the new hash under a new key (Django's
    # update_session_auth_hash): the old key's socket closes, the new
    # cookie opens one.
    assert await socket_b.wait_closed(within=REPAIRS * 0.5) == 4401
    # Django's own verdict on session A: its pages send it to the login form.
    assert 'name="password"' in (await asyncio.to_thread(a.get, "/"))[1]
    socket_b = await Client.connect(worker.ws_url, None, name="b", headers=b.websocket_headers())
    await asyncio.sleep(REPAIRS * 0.5)
    assert (await socket_b.request({"type": "ping"}))["type"] == "pong"

    assert await asyncio.to_thread(b.post, "/accounts/logout/", {}) == 200
    assert await socket_b.wait_closed(within=REPAIRS * 0.5) == 4401
    worker.stop()  # flushes the log
    log = worker.log()
    assert log.count("closed (4401): The session has ended.") == 3, log[-3000:]
    site.assert_clean_logs()
