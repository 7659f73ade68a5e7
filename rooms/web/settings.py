"""`/settings/`: a user's own settings page — the email address that
notifications go to and whether to email at all (docs/notifications.md),
and a place for this device's push button (static/rooms/push.js fills
`#push-device`)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .. import services
from ..errors import RoomsError
from ..selectors.away import email_settings


class EmailSettingsForm(forms.Form):
    email = forms.EmailField(label="Email address", required=False, max_length=254)
    enabled = forms.BooleanField(
        label="Email me messages I missed (mentions, direct messages)", required=False
    )


@login_required
def settings_page(request):
    if request.method == "POST":
        form = EmailSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.email_settings_set(
                    user=request.user,
                    email=form.cleaned_data["email"],
                    enabled=form.cleaned_data["enabled"],
                )
            except RoomsError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, "Your settings are saved.")
                return redirect("settings")
    else:
        form = EmailSettingsForm(initial=email_settings(user=request.user))
    return render(request, "rooms/settings.html", {"form": form})
