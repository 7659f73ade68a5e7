"""Claiming uploads under concurrency on PostgreSQL (the group commit,
rooms/services/attachments.py): sends racing for one upload give it to one
message only; a send racing the clean-up of unsent uploads either gets the
upload or is refused, never a message naming a file that is gone."""

import ast

import pytest

from tests.harness.deployment import Deployment

pytestmark = [pytest.mark.postgres, pytest.mark.integration]

SETUP = """
from django.contrib.auth import get_user_model
from rooms import services
user = get_user_model().objects.get(username="alice")
room = services.room_create_or_update(slug="lobby")[0]
"""

# Every thread waits at the barrier, then sends the same upload.
SENDS = (
    SETUP
    + """
import threading
from django.db import connection
from rooms.models import Attachment
upload = Attachment.objects.create(id="a" * 32, room=room, uploader=user, name="a", size=1,
                                   content_type="text/plain", key="k")
barrier = threading.Barrier({threads}, timeout=60)
results = []

def send(n):
    try:
        barrier.wait()
        request = services.EntryRequest(room=room, author=user, body="", attachments=(upload.id,),
                                        check_rate=False)
        result = services.entry_post_many([request])[0]
        results.append(getattr(result, "code", "stored"))
    finally:
        connection.close()

threads = [threading.Thread(target=send, args=(n,)) for n in range({threads})]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
upload.refresh_from_db()
print("@@", sorted(results), upload.message_id is not None)
"""
)

# A send and the clean-up, many times over.
SWEEPS = (
    SETUP
    + """
import threading
from datetime import timedelta
from django.db import connection
from rooms.models import Attachment, Message
outcomes = set()
for n in range(20):
    upload = Attachment.objects.create(id=f"{{n:032x}}", room=room, uploader=user, name="a",
                                       size=1, content_type="text/plain", key="")
    barrier = threading.Barrier(2, timeout=60)
    def send():
        try:
            barrier.wait()
            request = services.EntryRequest(room=room, author=user, body="",
                                            attachments=(upload.id,), check_rate=False)
            services.entry_post_many([request])
        finally:
            connection.close()
    def sweep():
        try:
            barrier.wait()
            services.uploads_prune(older_than=timedelta(0))
        finally:
            connection.close()
    threads = [threading.Thread(target=send), threading.Thread(target=sweep)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kept = Attachment.objects.filter(pk=upload.pk).exists()
    sent = Message.objects.filter(attachments__pk=upload.pk).exists()
    outcomes.add((kept, sent))
print("@@", sorted(outcomes), Message.objects.filter(room=room).count() == sum(
    1 for _ in Message.objects.filter(room=room, attachments__isnull=False)))
"""
)


def printed(output: str) -> str:
    return next(line[3:] for line in output.splitlines() if line.startswith("@@ "))


def test_sends_racing_for_one_upload_give_it_to_one_message(tmp_path, postgres_url):
    deployment = Deployment(
        tmp_path, database=postgres_url, env={"ROOMS_MEDIA_ROOT": str(tmp_path / "media")}
    )
    deployment.create_users("alice")
    results, claimed = printed(deployment.shell(SENDS.format(threads=5))).rsplit(" ", 1)
    assert ast.literal_eval(results) == ["invalid"] * 4 + ["stored"]
    assert claimed == "True"


def test_a_send_racing_the_clean_up_either_gets_the_upload_or_is_refused(tmp_path, postgres_url):
    deployment = Deployment(
        tmp_path, database=postgres_url, env={"ROOMS_MEDIA_ROOT": str(tmp_path / "media")}
    )
    deployment.create_users("alice")
    outcomes, every_message_has_its_file = printed(deployment.shell(SWEEPS)).rsplit(" ", 1)
    assert set(ast.literal_eval(outcomes)) <= {(True, True), (False, False)}
    assert every_message_has_its_file == "True"
