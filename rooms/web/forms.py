"""Forms of the chat's own pages: sign-up and create-a-room. They collect
input; the rules and the writes stay in services.py (rooms: a malformed or
taken slug comes back as the service's error) and Django's auth (users).

(Forms of the admin's custom pages live in rooms/admin_forms.py.)"""

from django import forms
from django.contrib.auth.forms import UserCreationForm


class SignupForm(UserCreationForm):
    """Username and password, checked by AUTH_PASSWORD_VALIDATORS."""

    class Meta(UserCreationForm.Meta):
        fields = ("username",)


class RoomCreateForm(forms.Form):
    slug = forms.CharField(
        max_length=64,
        help_text="Letters, digits, hyphens and underscores; it becomes the room's address.",
    )
    title = forms.CharField(max_length=200, required=False)
    is_private = forms.BooleanField(
        label="Private", required=False, help_text="Only members can see a private room."
    )
