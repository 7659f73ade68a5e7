"""API tokens in the admin: issued on the add page and shown once (only
their hash is kept), revoked with the action. A token acts with its user's
rights: only superusers issue one for another user (rooms/admin/forms.py),
and every token issued here is logged by `rooms.admin` (never the token)."""

import logging

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from .. import services
from ..selectors import admin as admin_selectors
from .forms import ApiTokenIssueForm

# The admin's one audit logger, whichever of its modules writes (docs/security.md).
logger = logging.getLogger("rooms.admin")


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
        revoked = services.api_tokens_revoke(token_ids=admin_selectors.ids_of(selected=queryset))
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
