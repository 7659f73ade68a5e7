"""Attachments on real servers (docs/attachments.md): a file uploaded over
HTTP and sent over a WebSocket reaches another member's socket, who
fetches it (without its GPS position); people who cannot see the room and
anonymous visitors get 404; HTML and SVG are never served in place;
deleting the message deletes the stored file. A 20 MB upload against the
10 MB limit is refused with 413 without the worker growing (uvicorn; daphne
reads every request body whole before the application sees it). And the
same through an S3-compatible bucket: moto's server, started here."""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import shutil
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import missing_service
from tests.files.samples import GPS_IFD, HTML, SVG, jpeg_with_gps
from tests.harness.deployment import BIN, Deployment, free_port
from tests.harness.live import joined_socket, next_frame

pytestmark = pytest.mark.integration

MB = 1024 * 1024


def multipart(content: bytes, name: str) -> tuple[bytes, str]:
    boundary = "rooms-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )


def request(url: str, *, method="GET", token=None, body=None, headers=None):
    """(status, headers, body) of one request; redirects are not followed."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return response.status, response.headers, response.read()  # headers: any case
    finally:
        connection.close()


def upload(worker, token: str, content: bytes, name: str, room: str = "team") -> dict:
    body, content_type = multipart(content, name)
    status, _, answer = request(
        f"{worker.http_url}/api/rooms/{room}/attachments",
        method="POST",
        token=token,
        body=body,
        headers={"Content-Type": content_type},
    )
    assert status == 201, answer
    return json.loads(answer)["attachment"]


def provision(deployment: Deployment) -> dict[str, str]:
    """alice, bob and carol with an API token each; the private room `team`
    of alice and bob. In one process: every Django start costs seconds. The
    static files are collected: a refusal (404) is a page, linking them."""
    deployment.collect_static()
    out = deployment.shell(
        "import json\n"
        "from django.contrib.auth import get_user_model\n"
        "from rooms import services\n"
        "users = {n: get_user_model().objects.create_user(n) for n in ('alice', 'bob', 'carol')}\n"
        "services.room_create_or_update(slug='team', is_private=True,"
        " roles={users['alice']: 'member', users['bob']: 'member'})\n"
        "tokens = {n: services.api_token_issue(user=u) for n, u in users.items()}\n"
        "print('@@' + json.dumps(tokens))\n"
    )
    return json.loads(next(line for line in out.splitlines() if line.startswith("@@"))[2:])


async def send_and_receive(worker, tokens, ids: list[str]) -> dict:
    """alice sends the uploads; the message as bob's socket receives it."""
    async with (
        joined_socket(worker, tokens["alice"], "team") as alice,
        joined_socket(worker, tokens["bob"], "team") as bob,
    ):
        await alice.send(json.dumps({"type": "send", "room": "team", "attachments": ids}))
        frame = await next_frame(bob, lambda frame: frame["type"] == "message")
        await next_frame(alice, lambda frame: frame["type"] == "ack")
    return frame["message"]


async def delete(worker, token: str, seq: int) -> None:
    async with joined_socket(worker, token, "team") as alice:
        await alice.send(json.dumps({"type": "delete", "room": "team", "seq": seq}))
        ack = await next_frame(alice, lambda frame: frame["type"] in ("ack", "error"))
        assert ack["type"] == "ack", ack


def stored_path(deployment: Deployment, attachment_id: str, suffix: str = "") -> Path:
    return (
        deployment.workdir / "media" / "attachments" / attachment_id[:2] / (attachment_id + suffix)
    )


def test_a_sent_file_reaches_a_member_who_fetches_it_and_nobody_else(tmp_path):
    deployment = Deployment(tmp_path / "site")
    try:
        tokens = provision(deployment)
        worker = deployment.start_worker()
        photo = upload(worker, tokens["alice"], jpeg_with_gps(), "holiday.jpg")
        page = upload(worker, tokens["alice"], HTML, "page.html")
        drawing = upload(worker, tokens["alice"], SVG, "logo.svg")
        ids = [photo["id"], page["id"], drawing["id"]]
        message = asyncio.run(send_and_receive(worker, tokens, ids))
        assert message["attachments"] == [photo, page, drawing]

        status, headers, content = request(worker.http_url + photo["url"], token=tokens["bob"])
        assert (status, headers["Content-Type"]) == (200, "image/jpeg")
        assert headers["Content-Disposition"].startswith("inline")
        assert (headers["X-Content-Type-Options"], headers["Content-Security-Policy"]) == (
            "nosniff",
            "sandbox",
        )
        image = Image.open(io.BytesIO(content))
        assert image.getexif().get_ifd(GPS_IFD) == {} and b"Exif" not in content
        status, headers, _ = request(worker.http_url + photo["thumbnail_url"], token=tokens["bob"])
        assert (status, headers["Content-Type"]) == (200, "image/webp")
        partial = request(
            worker.http_url + photo["url"], token=tokens["bob"], headers={"Range": "bytes=0-9"}
        )
        assert (partial[0], partial[2]) == (206, content[:10])

        for document, raw in ((page, HTML), (drawing, SVG)):
            status, headers, content = request(
                worker.http_url + document["url"], token=tokens["bob"]
            )
            assert (status, content) == (200, raw)
            assert headers["Content-Disposition"].startswith("attachment")
            assert headers["Content-Type"] == "text/plain; charset=utf-8"

        for url in (photo["url"], photo["thumbnail_url"], page["url"]):
            assert request(worker.http_url + url, token=tokens["carol"])[0] == 404
            assert request(worker.http_url + url)[0] == 404

        original = stored_path(deployment, photo["id"])
        assert original.exists() and stored_path(deployment, photo["id"], "-thumbnail").exists()
        asyncio.run(delete(worker, tokens["alice"], message["seq"]))
        assert not original.exists()  # deleted after the commit, before the ack
        assert not stored_path(deployment, photo["id"], "-thumbnail").exists()
        assert request(worker.http_url + photo["url"], token=tokens["bob"])[0] == 404
        assert deployment.tracebacks() == []
    finally:
        deployment.stop()


def resident_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (its peak) of a process, in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def test_a_20_mb_upload_is_refused_with_413_and_the_worker_stays_flat(tmp_path):
    deployment = Deployment(tmp_path / "site")
    try:
        tokens = provision(deployment)
        uvicorn = deployment.start_worker(server="uvicorn")
        daphne = deployment.start_worker()
        small, content_type = multipart(b"x" * 1000, "small.bin")
        big, _ = multipart(b"y" * (20 * MB), "big.bin")
        headers = {"Content-Type": content_type}

        def post(worker, body):
            return request(
                f"{worker.http_url}/api/rooms/team/attachments",
                method="POST",
                token=tokens["alice"],
                body=body,
                headers=headers,
            )

        for worker in (uvicorn, daphne):
            for _ in range(2):  # warm: the first requests load what every request uses
                assert post(worker, small)[0] == 201
            before = resident_kib(worker.process.pid)
            for _ in range(3):
                status, _, answer = post(worker, big)
                assert (status, json.loads(answer)["error"]["code"]) == (413, "too_large")
            after = resident_kib(worker.process.pid)
            # Flat: the peak grew by far less than one upload (20 MB). Under
            # daphne, project/daphne_bodies.py drops the body as it arrives.
            grown = after["VmHWM"] - before["VmRSS"]
            assert grown < 8 * 1024, (worker.log_path.name, before, after)
        assert deployment.tracebacks() == []
    finally:
        deployment.stop()


# --- An S3-compatible bucket ---------------------------------------------------------


@pytest.fixture
def s3_server(tmp_path):
    """moto's S3-compatible server on a free port of 127.0.0.1, with a bucket."""
    binary = BIN / "moto_server"
    if not binary.exists() and shutil.which("moto_server") is None:
        missing_service("moto_server is not installed (pip install 'moto[server]')")
    port = free_port()
    with open(tmp_path / "moto.log", "wb") as log:
        process = subprocess.Popen(
            [str(binary), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        import boto3
        import botocore.exceptions

        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        deadline = time.monotonic() + 30
        while True:  # nothing to await in another process: poll until it answers
            try:
                client.create_bucket(Bucket="rooms-files")
                break
            except botocore.exceptions.EndpointConnectionError:
                assert process.poll() is None and time.monotonic() < deadline, "moto did not start"
                time.sleep(0.1)
        yield endpoint, client
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_files_in_a_bucket_are_served_by_presigned_redirects_and_deleted(tmp_path, s3_server):
    endpoint, bucket = s3_server
    deployment = Deployment(
        tmp_path / "site",
        env={
            "ROOMS_S3_BUCKET": "rooms-files",
            "ROOMS_S3_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
    )
    try:
        tokens = provision(deployment)
        worker = deployment.start_worker()
        photo = upload(worker, tokens["alice"], jpeg_with_gps(), "holiday.jpg")
        page = upload(worker, tokens["alice"], HTML, "page.html")
        keys = {item["Key"] for item in bucket.list_objects_v2(Bucket="rooms-files")["Contents"]}
        assert f"attachments/{photo['id'][:2]}/{photo['id']}" in keys and len(keys) == 3
        message = asyncio.run(send_and_receive(worker, tokens, [photo["id"], page["id"]]))

        status, headers, _ = request(worker.http_url + photo["url"], token=tokens["bob"])
        assert status == 302 and headers["Location"].startswith(endpoint + "/rooms-files/")
        assert "X-Amz-Expires=300" in headers["Location"]
        status, served, content = request(headers["Location"])
        assert (status, served["Content-Type"]) == (200, "image/jpeg")
        assert Image.open(io.BytesIO(content)).getexif().get_ifd(GPS_IFD) == {}
        _, headers, _ = request(worker.http_url + page["url"], token=tokens["bob"])
        _, served, content = request(headers["Location"])
        assert served["Content-Disposition"].startswith("attachment") and content == HTML
        assert request(worker.http_url + photo["url"], token=tokens["carol"])[0] == 404

        asyncio.run(delete(worker, tokens["alice"], message["seq"]))
        assert bucket.list_objects_v2(Bucket="rooms-files").get("KeyCount") == 0
        assert deployment.tracebacks() == []
    finally:
        deployment.stop()
