"""Forms of the admin: posting to a room, issuing an API token, and a
room's memberships. They only collect input; the services validate and
write, so a body the WebSocket would refuse is refused here with the same
message.

Posting and issuing a token can make the staff user act as someone else
(post as another user; a token acts with its user's rights), so only a
superuser chooses the user; anybody else gets themselves as the only choice
(`may_act_as_others`).

A direct conversation's people are fixed (access.check_people_changeable):
the membership forms refuse to change them, before any write.

(Forms of the chat's own pages live in rooms/web/forms.py.)
"""

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from .. import access
from ..errors import RoomsError
from ..models import ApiToken, Membership, Message
from ..selectors import admin as admin_selectors


def may_act_as_others(user) -> bool:
    """Whether `user` may post as another user or issue another user's API
    token: superusers only (docs/security.md, Admin privileges)."""
    return user.is_superuser


def _autocomplete(field: forms.ModelChoiceField, model_field, admin_site) -> None:
    """Give `field` the admin's search-as-you-type widget for `model_field`."""
    field.widget = AutocompleteSelect(model_field, admin_site)
    field.widget.choices = field.choices


def _user_field(
    form: forms.Form, name: str, model_field, *, actor, admin_site, active_only: bool
) -> None:
    """Every user for a superuser (searched as you type); else `actor` alone."""
    field = form.fields[name]
    if may_act_as_others(actor):
        field.queryset = admin_selectors.users_to_choose(active_only=active_only)
        _autocomplete(field, model_field, admin_site)
    else:
        field.queryset = admin_selectors.users_to_choose(active_only=active_only, only=actor)
        field.widget = forms.Select(choices=field.choices)


class PostMessageForm(forms.Form):
    # Both querysets are the selectors', set in __init__.
    room = forms.ModelChoiceField(queryset=None)
    author = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="As user",
        help_text="Leave empty to post a system message (no author).",
    )
    # Not stripped: a message is stored exactly as written.
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), strip=False)
    client_id = forms.CharField(
        required=False,
        max_length=64,
        label="Client id",
        help_text="Optional idempotency key: posting again with the same key stores nothing new.",
    )

    def __init__(self, *args, admin_site, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = admin_selectors.rooms_to_post_to()
        # The admin's own search boxes (RoomAdmin/UserAdmin search_fields)
        # instead of a <select> listing every room and user.
        _autocomplete(self.fields["room"], Message._meta.get_field("room"), admin_site)
        author = Message._meta.get_field("author")
        _user_field(self, "author", author, actor=actor, admin_site=admin_site, active_only=True)
        if not may_act_as_others(actor):
            self.fields[
                "author"
            ].help_text = (
                "Leave empty to post a system message. Only superusers post as other users."
            )

    def clean_body(self) -> str:
        # Browsers submit textarea line breaks as CRLF; a chat message uses LF.
        return self.cleaned_data["body"].replace("\r\n", "\n")

    def clean_client_id(self) -> str | None:
        return self.cleaned_data["client_id"] or None


class ApiTokenIssueForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user"]

    def __init__(self, *args, admin_site, actor, **kwargs):
        super().__init__(*args, **kwargs)
        user = ApiToken._meta.get_field("user")
        _user_field(self, "user", user, actor=actor, admin_site=admin_site, active_only=False)
        self.fields["user"].help_text = "The bot or script's user: it acts with this user's rights."
        if not may_act_as_others(actor):
            self.fields["user"].initial = actor.pk
            self.fields["user"].help_text += " Only superusers issue tokens for other users."


# --- Memberships --------------------------------------------------------------


def _check_people_changeable(room) -> None:
    """access.check_people_changeable, as a form's error."""
    try:
        access.check_people_changeable(room)
    except RoomsError as error:
        raise ValidationError(error.message) from None


class MembershipForm(forms.ModelForm):
    """One membership (MembershipAdmin): not of a direct conversation."""

    class Meta:
        model = Membership
        fields = ("user", "room", "role")

    def clean(self):
        cleaned = super().clean()
        # The room is chosen when adding, read-only (the instance's) when changing.
        room = cleaned.get("room") or (self.instance.room if self.instance.room_id else None)
        if room is not None:
            _check_people_changeable(room)
        return cleaned


class MembershipInlineFormSet(BaseInlineFormSet):
    """A room's memberships (RoomAdmin's inline): unchanged, in a direct conversation."""

    def clean(self):
        super().clean()
        if any(form.has_changed() for form in self.forms):
            _check_people_changeable(self.instance)
