"""Forms of the admin's custom pages: posting to a room and issuing an API
token. They only collect input; the services validate and write, so a body
the WebSocket would refuse is refused here with the same message.

(Forms of the chat's own pages live in rooms/page_forms.py.)
"""

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_user_model

from .models import ApiToken, Message, Room


def _autocomplete(field: forms.ModelChoiceField, model_field, admin_site) -> None:
    """Give `field` the admin's search-as-you-type widget for `model_field`."""
    field.widget = AutocompleteSelect(model_field, admin_site)
    field.widget.choices = field.choices


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

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        # The admin's own search boxes (RoomAdmin/UserAdmin search_fields)
        # instead of a <select> listing every room and user.
        for name in ("room", "author"):
            _autocomplete(self.fields[name], Message._meta.get_field(name), admin_site)

    def clean_body(self) -> str:
        # Browsers submit textarea line breaks as CRLF; a chat message uses LF.
        return self.cleaned_data["body"].replace("\r\n", "\n")

    def clean_client_id(self) -> str | None:
        return self.cleaned_data["client_id"] or None


class ApiTokenIssueForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user"]

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        _autocomplete(self.fields["user"], ApiToken._meta.get_field("user"), admin_site)
        self.fields["user"].help_text = "The bot or script's user: it acts with this user's rights."
