"""Forms of the admin's custom pages: posting to a room and issuing an API
token. They only collect input; the services validate and write, so a body
the WebSocket would refuse is refused here with the same message.

Both forms can make the staff user act as someone else (post as another
user; a token acts with its user's rights), so only a superuser chooses the
user; anybody else gets themselves as the only choice (`may_act_as_others`).

(Forms of the chat's own pages live in rooms/page_forms.py.)
"""

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_user_model

from .models import ApiToken, Message, Room


def may_act_as_others(user) -> bool:
    """Whether `user` may post as another user or issue another user's API
    token: superusers only (docs/security.md, Admin privileges)."""
    return user.is_superuser


def _autocomplete(field: forms.ModelChoiceField, model_field, admin_site) -> None:
    """Give `field` the admin's search-as-you-type widget for `model_field`."""
    field.widget = AutocompleteSelect(model_field, admin_site)
    field.widget.choices = field.choices


def _user_field(form: forms.Form, name: str, model_field, *, actor, admin_site) -> None:
    """Every user for a superuser (searched as you type); else `actor` alone."""
    field = form.fields[name]
    if may_act_as_others(actor):
        _autocomplete(field, model_field, admin_site)
    else:
        field.queryset = field.queryset.filter(pk=actor.pk)
        field.widget = forms.Select(choices=field.choices)


class PostMessageForm(forms.Form):
    room = forms.ModelChoiceField(queryset=Room.objects.all())
    author = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True),
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
        # The admin's own search boxes (RoomAdmin/UserAdmin search_fields)
        # instead of a <select> listing every room and user.
        _autocomplete(self.fields["room"], Message._meta.get_field("room"), admin_site)
        author = Message._meta.get_field("author")
        _user_field(self, "author", author, actor=actor, admin_site=admin_site)
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
        _user_field(self, "user", user, actor=actor, admin_site=admin_site)
        self.fields["user"].help_text = "The bot or script's user: it acts with this user's rights."
        if not may_act_as_others(actor):
            self.fields["user"].initial = actor.pk
            self.fields["user"].help_text += " Only superusers issue tokens for other users."
