"""A message's attachments in the admin: shown under the message, read
only, each linking to its file; the delete action deletes them."""

import pytest
from django.urls import reverse

from rooms import services
from rooms.models import Attachment, Message
from tests.files.samples import png, stored_upload

pytestmark = pytest.mark.django_db


def test_a_message_page_lists_its_files_with_links(admin_client, lobby, alice):
    attachment = stored_upload(alice, lobby, png(), "chart.png")
    seq = services.message_post(
        room=lobby, author=alice, body="see", attachments=(attachment.id,)
    ).seq
    message = Message.objects.get(room=lobby, seq=seq)
    page = admin_client.get(reverse("admin:rooms_message_change", args=[message.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<a href="/attachments/{attachment.id}/chart.png">chart.png</a>' in html
    assert "image/png" in html
    assert 'name="attachments-0-content_type"' not in html  # read only: shown, not a field


def test_the_delete_action_deletes_the_files_of_the_message(admin_client, lobby, alice):
    attachment = stored_upload(alice, lobby)
    seq = services.message_post(room=lobby, author=alice, body="", attachments=(attachment.id,)).seq
    message = Message.objects.get(room=lobby, seq=seq)
    admin_client.post(
        reverse("admin:rooms_message_changelist"),
        {"action": "delete_messages", "_selected_action": [message.pk]},
    )
    assert not Attachment.objects.exists()
