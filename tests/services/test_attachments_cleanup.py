"""Uploads nobody sent (rooms/services/attachments_cleanup.py): the job an
upload queues deletes it a day later unless a message claimed it;
`uploads_prune` sweeps every one that is due. Files go with their rows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from rooms import services, tasks
from rooms.models import Attachment
from tests.files.samples import in_storage, png, stored_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def lobby(room_factory):
    return room_factory("lobby")


def age(attachment, *, hours: float) -> None:
    moment = timezone.now() - timedelta(hours=hours)
    Attachment.objects.filter(pk=attachment.pk).update(created_at=moment)


def test_the_job_deletes_a_day_old_upload_nobody_sent_with_its_files(
    lobby, alice, django_capture_on_commit_callbacks
):
    attachment = stored_upload(alice, lobby, png(), "a.png")
    age(attachment, hours=25)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.forget_upload.call(attachment.id) is True
    assert not Attachment.objects.exists()
    assert not in_storage(attachment.key) and not in_storage(attachment.thumbnail_key)


def test_the_job_keeps_an_upload_that_was_sent_or_is_not_due(lobby, alice):
    sent, fresh = stored_upload(alice, lobby), stored_upload(alice, lobby)
    services.message_post(room=lobby, author=alice, body="", attachments=(sent.id,))
    age(sent, hours=25)
    age(fresh, hours=23)
    assert services.upload_forget(attachment_id=sent.id) is False
    assert services.upload_forget(attachment_id=fresh.id) is False
    assert Attachment.objects.count() == 2 and in_storage(sent.key)


def test_the_sweep_deletes_every_due_upload_and_a_dry_run_nothing(
    lobby, alice, django_capture_on_commit_callbacks
):
    old = [stored_upload(alice, lobby) for _ in range(3)]
    fresh = stored_upload(alice, lobby)
    for attachment in old:
        age(attachment, hours=30)
    assert services.uploads_prune(dry_run=True) == 3
    assert Attachment.objects.count() == 4
    with django_capture_on_commit_callbacks(execute=True):
        assert services.uploads_prune() == 3
    assert list(Attachment.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not any(in_storage(attachment.key) for attachment in old)


def test_the_sweep_works_in_batches(lobby, alice, monkeypatch):
    from rooms.services import attachments_cleanup

    monkeypatch.setattr(attachments_cleanup, "BATCH", 2)
    for _ in range(5):
        age(stored_upload(alice, lobby), hours=30)
    assert services.uploads_prune(older_than=timedelta(hours=1)) == 5
    assert not Attachment.objects.exists()
