"""Messages in the admin: the log read-only, the delete action, and the page
that posts to a room.

The message log has rules the ModelForm machinery knows nothing about, so
entries are never edited, added or removed here: the delete action stores a
`delete` entry by the staff user, and "Post to a room" stores a message,
each through the services, so sockets hear of them like of any other entry.

Posting as another user is for superusers only (rooms/admin/forms.py,
`may_act_as_others`); every post is logged by `rooms.admin`. A staff user
who is not a superuser posts through the rate limit.
"""

import logging

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.text import Truncator

from .. import services
from ..errors import RoomsError
from ..models import Message
from ..selectors import admin as admin_selectors
from .attachments import AttachmentInline
from .forms import PostMessageForm, may_act_as_others

# The admin's one audit logger, whichever of its modules writes (docs/security.md).
logger = logging.getLogger("rooms.admin")


def _as_whom(author, actor) -> str:
    if author is None:
        return "as a system message"
    return "as themselves" if author.pk == actor.pk else f"as {author.get_username()!r}"


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows (`SELECT COUNT(*) FROM (... LIMIT CAP)`), so a
    changelist page of a million-row table never counts the whole table.
    Beyond the cap, narrow the list with the filters, the search or the date
    hierarchy, or flip the sort order."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return admin_selectors.count_at_most(rows=self.object_list, cap=self.CAP)


class MessageAdmin(admin.ModelAdmin):
    list_display = ("room_slug", "seq", "author", "short_body", "kind", "created_at", "deleted")
    list_display_links = ("seq",)
    list_select_related = ("room", "author")
    list_filter = ("room", "kind", "deleted")
    search_fields = ("body", "author__username")
    date_hierarchy = "created_at"
    # Both directions walk the (room, seq) unique index; (room, seq) is a total order.
    ordering = ("-room_id", "-seq")
    sortable_by = ("room_slug", "seq", "created_at")
    paginator = CappedCountPaginator
    show_full_result_count = False
    fields = (
        "room",
        "seq",
        "author",
        "kind",
        "body",
        "client_id",
        "created_at",
        "reply_to",
        "edited_at",
        "deleted",
        "target",
        "emoji",
        "reaction_on",
    )
    readonly_fields = fields
    inlines = (AttachmentInline,)
    actions = ("delete_messages",)
    change_list_template = "admin/rooms/message/change_list.html"

    @admin.display(description="room", ordering="room_id")
    def room_slug(self, message: Message) -> str:
        return message.room.slug

    @admin.display(description="body")
    def short_body(self, message: Message) -> str:
        """The body as plain text (the admin never renders Markdown)."""
        if message.deleted:
            return "(deleted)"
        if message.kind == Message.Kind.DELETE:
            return f"(deletes #{message.target})"
        if message.kind == Message.Kind.REACTION:
            verb = "reacts" if message.reaction_on else "takes back"
            return f"({verb} {message.emoji} on #{message.target})"
        if message.kind == Message.Kind.EDIT:
            return f"(edits #{message.target}) " + Truncator(message.body).chars(60)
        return Truncator(message.body).chars(80)

    # Editing, adding or deleting a row would break the log's seq; the view
    # stays read-only and the writes are the delete action and the post page.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_moderate_permission(self, request) -> bool:
        return request.user.has_perm("rooms.change_message")

    def has_post_permission(self, request) -> bool:
        return request.user.has_perm("rooms.add_message")

    @admin.action(description="Delete the selected messages", permissions=["moderate"])
    def delete_messages(self, request, queryset):
        """Each becomes a `delete` entry by the staff user: clients that were
        away learn of it on re-join like of any other change."""
        deleted = 0
        for message in admin_selectors.messages_to_delete(selected=queryset):
            try:
                services.entry_post(
                    room=message.room,
                    author=request.user,
                    kind=Message.Kind.DELETE,
                    target=message.seq,
                    check_rate=False,
                    operator=True,
                )
            except RoomsError as error:
                self.message_user(request, f"#{message.seq}: {error.message}", messages.ERROR)
            else:
                deleted += 1
        self.message_user(request, f"{deleted} message(s) deleted.", messages.SUCCESS)

    def get_urls(self):
        view = self.admin_site.admin_view(self.post_view)
        return [path("post/", view, name="rooms_message_post"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        context = {"can_post": self.has_post_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context=context)

    def post_view(self, request):
        """Post a message to a room, as a system message or as a user."""
        if not self.has_post_permission(request):
            raise PermissionDenied
        initial = {"room": request.GET.get("room")}
        form = PostMessageForm(
            request.POST or None, initial=initial, admin_site=self.admin_site, actor=request.user
        )
        if request.method == "POST" and form.is_valid():
            room, author = form.cleaned_data["room"], form.cleaned_data["author"]
            try:
                result = services.message_post(
                    room=room,
                    author=author,
                    body=form.cleaned_data["body"],
                    client_id=form.cleaned_data["client_id"],
                    check_rate=not may_act_as_others(request.user),
                )
            except RoomsError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                logger.info(
                    "admin: %r posted #%s to %s %s%s",
                    request.user.get_username(),
                    result.seq,
                    room.slug,
                    _as_whom(author, request.user),
                    " (duplicate: nothing stored)" if result.duplicate else "",
                )
                if result.duplicate:
                    note = f"Nothing new stored: that client id is already message #{result.seq}."
                else:
                    note = f"Posted message #{result.seq} to {room.slug}."
                self.message_user(request, note, messages.SUCCESS)
                changelist = reverse("admin:rooms_message_changelist")
                return redirect(f"{changelist}?room__id__exact={room.pk}")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Post to a room",
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/rooms/message/post.html", context)
