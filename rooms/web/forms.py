"""Forms of the chat's pages: sign-up, create-a-room, the manage page and
search. They collect input; the rules and the writes stay in rooms.services
(a malformed or taken slug, who may act, unknown users, members invited
twice, the last moderator) and Django's auth (users), whose errors come back
onto these forms. The create-a-room form checks an address's shape itself,
to say "address" where the services say "slug".

(Forms of the admin's custom pages live in rooms/admin/forms.py.)"""

from django import forms
from django.contrib.auth.forms import UserCreationForm

from .. import validators
from ..models import Membership, Room
from ..selectors import addresses

ROLE_CHOICES = Membership.Role.choices


class SignupForm(UserCreationForm):
    """Username and password, checked by AUTH_PASSWORD_VALIDATORS."""

    class Meta(UserCreationForm.Meta):
        fields = ("username",)


class RoomCreateForm(forms.Form):
    """A room's name (its title) and its address (the slug): the address is
    made from the name when left empty, by the page's script as the name is
    typed and otherwise here (selectors.addresses)."""

    title = forms.CharField(label="Name", max_length=Room._meta.get_field("title").max_length)
    slug = forms.CharField(
        label="Address",
        max_length=Room._meta.get_field("slug").max_length,
        required=False,
        help_text="/rooms/<em>address</em>/: letters, digits, hyphens and underscores. "
        "Empty: made from the name.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                # room-create.js makes no address the services would refuse.
                "data-reserved-prefix": Room.DIRECT_SLUG_PREFIX,
            }
        ),
    )
    is_private = forms.BooleanField(
        label="Private", required=False, help_text="Only members can see a private room."
    )

    def clean(self):
        data = super().clean()
        if "title" in data and not data.get("slug"):
            data["slug"] = addresses.address_from_name(name=data["title"])
            if not data["slug"]:
                self.add_error(
                    "slug", "Choose an address: the name has no letters or digits to make one of."
                )
        if data.get("slug") and not validators.is_slug(data["slug"]):
            self.add_error(
                "slug", "An address holds 1 to 64 letters, digits, hyphens or underscores."
            )
        return data

    def offer_address(self, free: str | None) -> None:
        """The address is taken: say so, and fill in a free one."""
        taken = self.cleaned_data["slug"]
        if free is None:
            self.add_error("slug", f"“{taken}” is taken; choose another address.")
            return
        self.data = self.data.copy()
        self.data["slug"] = free
        self.add_error("slug", f"“{taken}” is taken; “{free}” is free, and filled in.")


# --- The manage page -----------------------------------------------------------


class RoomSettingsForm(forms.Form):
    title = forms.CharField(
        max_length=Room._meta.get_field("title").max_length,
        required=False,
        help_text="Empty: the room is called by its slug.",
    )
    is_private = forms.BooleanField(
        label="Private", required=False, help_text="Only members can see a private room."
    )
    is_archived = forms.BooleanField(
        label="Archived", required=False, help_text="An archived room is read-only for everyone."
    )


class InviteForm(forms.Form):
    user = forms.CharField(
        label="Username",
        max_length=150,
        # manage.js fills the list from /api/users as the name is typed.
        widget=forms.TextInput(attrs={"list": "invite-suggestions", "autocomplete": "off"}),
    )
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=Membership.Role.MEMBER)


class MemberRoleForm(forms.Form):
    user = forms.CharField(widget=forms.HiddenInput, max_length=150)
    role = forms.ChoiceField(choices=ROLE_CHOICES)


class MemberRemoveForm(forms.Form):
    user = forms.CharField(widget=forms.HiddenInput, max_length=150)


# --- Search ---------------------------------------------------------------------

SEARCH_FILTERS = ("room", "author", "after", "before")


class SearchForm(forms.Form):
    """The query and the filters that narrow it (all of them must hold)."""

    q = forms.CharField(required=False, strip=False, label="Search messages")
    room = forms.ChoiceField(required=False, label="Room")
    author = forms.CharField(
        required=False, label="From", widget=forms.TextInput(attrs={"placeholder": "username"})
    )
    after = forms.DateField(
        required=False, label="On or after", widget=forms.DateInput(attrs={"type": "date"})
    )
    before = forms.DateField(
        required=False, label="Before", widget=forms.DateInput(attrs={"type": "date"})
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, rooms: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].choices = [("", "All rooms")] + [
            (room["slug"], room["title"]) for room in rooms
        ]

    def asked(self) -> bool:
        """Whether there is anything to search for (a blank form shows help)."""
        data = self.cleaned_data
        return bool(data["q"].strip()) or any(data[name] for name in SEARCH_FILTERS)
