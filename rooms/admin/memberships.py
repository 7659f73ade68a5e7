"""Memberships in the admin: a user's place in a room, its role changed,
added or deleted through the services (a direct conversation's people are
fixed: MembershipForm refuses, and so would the services)."""

from django.contrib import admin

from .. import services
from ..selectors import admin as admin_selectors
from .errors import ServiceErrorsAsMessages
from .forms import MembershipForm


class MembershipAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    form = MembershipForm
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
        for membership in admin_selectors.memberships_with_people(selected=queryset):
            services.membership_remove(room=membership.room, user=membership.user)
