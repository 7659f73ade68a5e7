"""Rooms in the admin: the list with each room's counts, the form with the
room's memberships inline, and the archive actions. Rooms are not deleted
here (archive instead: the delete confirmation would list every message of
the room); saves write only the fields the form changed, so a page opened a
while ago never writes back a stale `last_seq`."""

from django.contrib import admin, messages

from .. import selectors, services
from ..models import Membership, Room
from .errors import ServiceErrorsAsMessages
from .forms import MembershipInlineFormSet

# What an admin's room form may change (slug, last_seq are read-only).
ROOM_FIELDS = ("title", "is_private", "is_archived")


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipInlineFormSet
    extra = 0
    fields = ("user", "role", "joined_at")
    readonly_fields = ("joined_at",)
    autocomplete_fields = ("user",)
    show_change_link = True


class RoomAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
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
        # Each membership through the services, whose rules apply (a direct
        # conversation's people are fixed) and whose sockets hear of it.
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
