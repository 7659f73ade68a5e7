"""Forms of the chat's pages: sign-up, create-a-room, the manage page,
search, and the settings page's language and theme. They collect input; the
rules and the writes stay in rooms.services (a malformed or taken slug,
who may act, unknown users, members invited twice, the last moderator) and
Django's auth (users), whose errors come back onto these forms. The
create-a-room form checks an address's shape itself, to say "address" where
the services say "slug".

(Forms of the admin's custom pages live in rooms/admin/forms.py.)"""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import validators
from ..models import Membership, Room, UserSettings
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

    title = forms.CharField(
        label=gettext_lazy("Name"), max_length=Room._meta.get_field("title").max_length
    )
    slug = forms.CharField(
        label=gettext_lazy("Address"),
        max_length=Room._meta.get_field("slug").max_length,
        required=False,
        help_text=gettext_lazy(
            "/rooms/<em>address</em>/: letters, digits, hyphens and underscores. "
            "Empty: made from the name."
        ),
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
        label=gettext_lazy("Private"),
        required=False,
        help_text=gettext_lazy("Only members can see a private room."),
    )

    def clean(self):
        data = super().clean()
        if "title" in data and not data.get("slug"):
            data["slug"] = addresses.address_from_name(name=data["title"])
            if not data["slug"]:
                self.add_error(
                    "slug",
                    _("Choose an address: the name has no letters or digits to make one of."),
                )
        if data.get("slug") and not validators.is_slug(data["slug"]):
            self.add_error(
                "slug", _("An address holds 1 to 64 letters, digits, hyphens or underscores.")
            )
        return data

    def offer_address(self, free: str | None) -> None:
        """The address is taken: say so, and fill in a free one."""
        taken = self.cleaned_data["slug"]
        if free is None:
            self.add_error(
                "slug", _("“%(taken)s” is taken; choose another address.") % {"taken": taken}
            )
            return
        self.data = self.data.copy()
        self.data["slug"] = free
        self.add_error(
            "slug",
            _("“%(taken)s” is taken; “%(free)s” is free, and filled in.")
            % {"taken": taken, "free": free},
        )


# --- The manage page -----------------------------------------------------------


class RoomSettingsForm(forms.Form):
    title = forms.CharField(
        label=gettext_lazy("Title"),
        max_length=Room._meta.get_field("title").max_length,
        required=False,
        help_text=gettext_lazy("Empty: the room is called by its slug."),
    )
    is_private = forms.BooleanField(
        label=gettext_lazy("Private"),
        required=False,
        help_text=gettext_lazy("Only members can see a private room."),
    )
    is_archived = forms.BooleanField(
        label=gettext_lazy("Archived"),
        required=False,
        help_text=gettext_lazy("An archived room is read-only for everyone."),
    )


class InviteForm(forms.Form):
    user = forms.CharField(
        label=gettext_lazy("Username"),
        max_length=150,
        # manage.js fills the list from /api/users as the name is typed.
        widget=forms.TextInput(attrs={"list": "invite-suggestions", "autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Role"), choices=ROLE_CHOICES, initial=Membership.Role.MEMBER
    )


class MemberRoleForm(forms.Form):
    user = forms.CharField(widget=forms.HiddenInput, max_length=150)
    role = forms.ChoiceField(choices=ROLE_CHOICES)


class MemberRemoveForm(forms.Form):
    user = forms.CharField(widget=forms.HiddenInput, max_length=150)


# --- Search ---------------------------------------------------------------------

SEARCH_FILTERS = ("room", "author", "after", "before")


class SearchForm(forms.Form):
    """The query and the filters that narrow it (all of them must hold)."""

    q = forms.CharField(required=False, strip=False, label=gettext_lazy("Search messages"))
    room = forms.ChoiceField(required=False, label=gettext_lazy("Room"))
    author = forms.CharField(
        required=False,
        label=gettext_lazy("From"),
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("username")}),
    )
    after = forms.DateField(
        required=False,
        label=gettext_lazy("On or after"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    before = forms.DateField(
        required=False, label=gettext_lazy("Before"), widget=forms.DateInput(attrs={"type": "date"})
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, rooms: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].choices = [("", _("All rooms"))] + [
            (room["slug"], room["title"]) for room in rooms
        ]

    def asked(self) -> bool:
        """Whether there is anything to search for (a blank form shows help)."""
        data = self.cleaned_data
        return bool(data["q"].strip()) or any(data[name] for name in SEARCH_FILTERS)


# --- The settings page --------------------------------------------------------------


class DisplaySettingsForm(forms.Form):
    """The language (blank: the browser's) and the colour theme. Each
    language is named in itself, as a person looking for theirs reads it."""

    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        required=False,
        choices=[("", gettext_lazy("Like the browser")), *settings.LANGUAGES],
    )
    theme = forms.ChoiceField(
        label=gettext_lazy("Theme"), choices=UserSettings.Theme.choices, initial="auto"
    )
