"""A message's attachments in the admin: listed under the message, read
only, each with a link to its file (served, like everywhere, only to
people who may see the room). Files come and go with their messages: the
admin's delete action stores a `delete` entry, which deletes them."""

from django.contrib import admin
from django.utils.html import format_html

from .. import selectors
from ..models import Attachment


class AttachmentInline(admin.TabularInline):
    model = Attachment
    fk_name = "message"
    extra = 0
    fields = ("file_link", "content_type", "size", "width", "height", "uploader", "created_at")
    readonly_fields = fields
    ordering = ("position",)
    can_delete = False

    @admin.display(description="file")
    def file_link(self, attachment: Attachment) -> str:
        url = selectors.attachment_json(attachment=attachment)["url"]
        return format_html('<a href="{}">{}</a>', url, attachment.name)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
