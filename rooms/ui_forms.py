"""Forms of the HTML pages: sign-up and create-a-room. They validate input;
the writes stay in services.py (rooms) and Django's auth (users)."""

from django import forms
from django.contrib.auth.forms import UserCreationForm

from . import protocol
from .models import Room


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

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].strip()
        if not protocol.is_slug(slug):
            raise forms.ValidationError(
                "Use 1 to 64 letters, digits, hyphens or underscores.", code="invalid"
            )
        # room_create_or_update would update an existing room: this form only creates.
        if Room.objects.filter(slug=slug).exists():
            raise forms.ValidationError("A room with this slug already exists.", code="exists")
        return slug
