"""The commands and attachments: `pruneuploads` deletes the uploads nobody
sent (and says how many), `exportroom` and `tailroom` print messages with
their files, `prunemessages` deletes the files of what it prunes."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.utils import timezone

from rooms import services
from rooms.models import Attachment, Message
from tests.files.samples import in_storage, png, stored_upload

pytestmark = pytest.mark.django_db(transaction=True)  # the files go after the commit


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_pruneuploads_has_help_that_explains_it():
    command = load_command_class(get_commands()["pruneuploads"], "pruneuploads")
    assert "uploads" in command.help and len(command.help) > 40


def test_pruneuploads_deletes_day_old_uploads_nobody_sent(room_factory, alice):
    lobby = room_factory("lobby")
    old, sent, fresh = (stored_upload(alice, lobby) for _ in range(3))
    services.message_post(room=lobby, author=alice, body="", attachments=(sent.id,))
    Attachment.objects.filter(pk__in=[old.pk, sent.pk]).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    assert run("pruneuploads", "--dry-run") == "1 upload would be deleted (dry run)\n"
    assert run("pruneuploads") == "1 upload deleted\n"
    assert not in_storage(old.key) and in_storage(sent.key) and in_storage(fresh.key)
    assert run("pruneuploads", "--older-than", "0") == "1 upload deleted\n"
    assert list(Attachment.objects.values_list("pk", flat=True)) == [sent.pk]


def test_exportroom_prints_messages_with_their_files(room_factory, alice):
    lobby = room_factory("lobby")
    attachment = stored_upload(alice, lobby, png(), "a.png")
    services.message_post(room=lobby, author=alice, body="look", attachments=(attachment.id,))
    (line,) = run("exportroom", "lobby").splitlines()
    assert json.loads(line)["attachments"][0]["url"] == f"/attachments/{attachment.id}/a.png"
    (tail,) = run("tailroom", "lobby").splitlines()
    assert tail == line


def test_prunemessages_deletes_the_files_of_what_it_prunes(room_factory, alice):
    lobby = room_factory("lobby")
    attachment = stored_upload(alice, lobby, png(), "a.png")
    services.message_post(room=lobby, author=alice, body="", attachments=(attachment.id,))
    services.message_post(room=lobby, author=alice, body="newest")
    Message.objects.filter(room=lobby, seq=1).update(created_at=timezone.now() - timedelta(days=5))
    run("prunemessages", "--older-than", "1")
    assert not Attachment.objects.exists()
    assert not in_storage(attachment.key) and not in_storage(attachment.thumbnail_key)
