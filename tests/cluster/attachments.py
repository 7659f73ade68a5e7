"""Attachments through the cluster's nginx (deploy/nginx.conf): a worker
authorizes each file and answers X-Accel-Redirect (ROOMS_ACCEL_REDIRECT,
set by deploy/cluster.sh), nginx sends it from its `internal` location with
the guarding headers and byte ranges; nobody reaches that location
directly; an upload past the limit is refused by nginx itself with the
API's JSON error. Run inside a cluster scenario (a cluster of its own
would cost a start and a stop)."""

from __future__ import annotations

import http.client
import json

from tests.integration.test_attachments import multipart, request

from .conftest import Cluster, provision

MB = 1024 * 1024


def check_nginx_sends_attachments(cluster: Cluster) -> None:
    site = provision(cluster, ["uploader", "reader", "outsider"], [])
    cluster.deployment.manage(
        "createroom", "vault", "--private", "--member", "uploader", "--member", "reader"
    )
    base = f"http://127.0.0.1:{cluster.port}"
    tokens = site.tokens
    body, content_type = multipart(b"0123456789" * 100, "digits.txt")
    status, _, answer = request(
        f"{base}/api/rooms/vault/attachments",
        method="POST",
        token=tokens["uploader"],
        body=body,
        headers={"Content-Type": content_type},
    )
    assert status == 201, answer
    attachment = json.loads(answer)["attachment"]
    status, _, answer = request(
        f"{base}/api/rooms/vault/messages",
        method="POST",
        token=tokens["uploader"],
        body=json.dumps({"attachments": [attachment["id"]]}),
        headers={"Content-Type": "application/json"},
    )
    assert status == 201, answer

    status, headers, content = request(base + attachment["url"], token=tokens["reader"])
    assert (status, content) == (200, b"0123456789" * 100)
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["Content-Disposition"] == 'attachment; filename="digits.txt"'
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "sandbox"
    status, headers, content = request(
        base + attachment["url"], token=tokens["reader"], headers={"Range": "bytes=5-14"}
    )
    assert (status, content, headers["Content-Range"]) == (206, b"5678901234", "bytes 5-14/1000")
    assert request(base + attachment["url"], token=tokens["outsider"])[0] == 404
    key = f"attachments/{attachment['id'][:2]}/{attachment['id']}"
    assert request(f"{base}/_protected/{key}")[0] == 404  # internal: never asked directly

    # Past the limit: refused by nginx on the declared length, the body unread.
    connection = http.client.HTTPConnection("127.0.0.1", cluster.port, timeout=30)
    try:
        connection.putrequest("POST", "/api/rooms/vault/attachments")
        connection.putheader("Authorization", f"Bearer {tokens['uploader']}")
        connection.putheader("Content-Type", content_type)
        connection.putheader("Content-Length", str(12 * MB))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error"]["code"] == "too_large"
    finally:
        connection.close()
