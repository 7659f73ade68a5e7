"""Forms of the room's manage page (rooms/manage_views.py). They collect
input; who may act, unknown users, members invited twice and the last
moderator are the services' rules (rooms/services.py), whose errors come
back onto these forms."""

from django import forms

from .models import Membership, Room

ROLE_CHOICES = Membership.Role.choices


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
