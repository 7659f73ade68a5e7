"""The Django admin for staff: rooms, messages, memberships and API tokens.

Declarative where it can be; every write with a live effect goes through
rooms/services.py, so sockets hear of it like of any other change: archiving
sends a `room` frame, deleting a message stores a `delete` entry, posting
stores a message: each reaches sockets as an entry of the room's log.

The message log has rules the ModelForm machinery knows nothing about, so:
entries are never edited, added or removed here (the delete action stores a
`delete` entry; post through "Post to a room"); rooms are not deleted here (archive instead: the
delete confirmation would list every message of the room); and saves write
only the fields the form changed, so a page opened a while ago never writes
back a stale `last_seq` or read cursor.

Posting as another user and issuing another user's API token act with that
user's rights: superusers only (rooms/admin_forms.py, `may_act_as_others`),
and every post and every token issued here is logged by `rooms.admin` (never
the token). A staff user who is not a superuser posts through the rate limit.
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

from . import selectors, services
from .admin_forms import ApiTokenIssueForm, PostMessageForm, may_act_as_others
from .errors import RoomsError
from .models import ApiToken, Membership, Message, Room

logger = logging.getLogger(__name__)


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
        return self.object_list.order_by()[: self.CAP].count()


# What an admin's room form may change (slug, last_seq are read-only).
ROOM_FIELDS = ("title", "is_private", "is_archived")


# --- rooms -------------------------------------------------------------------


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "joined_at")
    readonly_fields = ("joined_at",)
    autocomplete_fields = ("user",)
    show_change_link = True


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = (
        "slug",
        "title",
        "kind",
        "is_private",
        "is_archived",
        "message_count",
        "member_count",
        "last_activity",
    )
    list_display_links = ("slug", "title")
    search_fields = ("slug", "title")
    list_filter = ("kind", "is_private", "is_archived")
    fields = ("slug", "title", "kind", "is_private", "is_archived", "last_seq", "created_at")
    # A direct conversation is made by its people (services.direct_open),
    # never turned into one or out of one here.
    readonly_fields = ("kind", "last_seq", "created_at")
    inlines = (MembershipInline,)
    actions = ("archive_rooms", "unarchive_rooms")
    change_form_template = "admin/rooms/room/change_form.html"

    def get_queryset(self, request):
        return selectors.with_room_stats(super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        # Sockets and URLs name a room by its slug: it never changes.
        if obj is not None:
            return ("slug", *self.readonly_fields)
        return self.readonly_fields

    @admin.display(description="messages", ordering="message_count")
    def message_count(self, room: Room) -> int:
        return room.message_count

    @admin.display(description="members", ordering="member_count")
    def member_count(self, room: Room) -> int:
        return room.member_count

    @admin.display(description="last activity", ordering="last_activity")
    def last_activity(self, room: Room):
        return room.last_activity

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        # Through the services: a slug taken meanwhile is the service's error,
        # and sockets joined to the room learn of the change.
        if not change:
            created = services.room_create(
                slug=obj.slug,
                title=obj.title,
                is_private=obj.is_private,
                is_archived=obj.is_archived,
            )
            obj.pk, obj.created_at = created.pk, created.created_at
            return
        services.room_update(
            room=obj,
            **{name: getattr(obj, name) for name in form.changed_data if name in ROOM_FIELDS},
        )

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)  # sorts the forms into new, changed and deleted
        for membership in formset.deleted_objects:
            services.membership_remove(room=membership.room, user=membership.user)
        for membership in formset.new_objects:
            services.membership_set_role(
                room=form.instance, user=membership.user, role=membership.role
            )
        for membership, _ in formset.changed_objects:
            services.membership_set_role(
                room=form.instance, user=membership.user, role=membership.role
            )

    def _set_archived(self, request, queryset, archived: bool) -> None:
        changed = 0
        for room in queryset:
            changed += services.room_update(room=room, is_archived=archived)
        verb = "archived" if archived else "unarchived"
        self.message_user(request, f"{changed} room(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Archive the selected rooms (read-only)", permissions=["change"])
    def archive_rooms(self, request, queryset):
        self._set_archived(request, queryset, True)

    @admin.action(description="Unarchive the selected rooms", permissions=["change"])
    def unarchive_rooms(self, request, queryset):
        self._set_archived(request, queryset, False)


# --- messages ----------------------------------------------------------------


@admin.register(Message)
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
        for message in queryset.filter(
            kind__in=Message.MESSAGE_KINDS, deleted=False
        ).select_related("room"):
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


# --- memberships -------------------------------------------------------------


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "room", "role", "joined_at")
    list_select_related = ("user", "room")
    list_filter = ("role",)
    search_fields = ("user__username", "room__slug", "room__title")
    autocomplete_fields = ("user", "room")
    readonly_fields = ("joined_at",)

    def get_readonly_fields(self, request, obj=None):
        # A membership is a user's place in a room: change the role, or
        # delete it and add another.
        if obj is not None:
            return ("user", "room", *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        membership = services.membership_set_role(room=obj.room, user=obj.user, role=obj.role)
        obj.pk = membership.pk

    def delete_model(self, request, obj):
        services.membership_remove(room=obj.room, user=obj.user)

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("room", "user"):
            services.membership_remove(room=membership.room, user=membership.user)


# --- API tokens --------------------------------------------------------------


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("user",)
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("prefix", "user__username")
    fields = ("user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ("revoke_tokens",)

    # Only the hash is stored: there is nothing to edit. Tokens are issued
    # on the add page (shown once) and revoked with the action.
    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("rooms.change_apitoken")

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke_tokens(self, request, queryset):
        revoked = services.api_tokens_revoke(token_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{revoked} token(s) revoked.", messages.SUCCESS)

    def add_view(self, request, form_url="", extra_context=None):
        """Issue a token and show it once: only its hash is kept."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiTokenIssueForm(
            request.POST or None, admin_site=self.admin_site, actor=request.user
        )
        token = None
        if request.method == "POST" and form.is_valid():
            user = form.cleaned_data["user"]
            token = services.api_token_issue(user=user)
            whose = "their own" if user.pk == request.user.pk else f"{user.get_username()!r}'s"
            logger.info("admin: %r issued %s API token", request.user.get_username(), whose)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Your new API token" if token else "Issue an API token",
            "form": form,
            "token": token,
            "token_user": form.cleaned_data["user"] if token else None,
            "media": self.media + form.media,
        }
        # admin_view() marks every admin page no-store: the token is not cached.
        return TemplateResponse(request, "admin/rooms/apitoken/issue.html", context)
