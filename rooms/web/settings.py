"""`/settings/`: a user's own settings page — the email address that
notifications go to and whether to email at all (docs/notifications.md),
their language and colour theme (docs/ui.md, Languages), and a place for
this device's push button (static/rooms/push.js fills `#push-device`).
Each card is a form of its own; the display card's names itself with
`form=display`."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import selectors, services
from ..errors import RoomsError
from ..selectors.away import email_settings
from .forms import DisplaySettingsForm


class EmailSettingsForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Email address"), required=False, max_length=254)
    enabled = forms.BooleanField(
        label=gettext_lazy("Email me messages I missed (mentions, direct messages)"),
        required=False,
    )


@login_required
def settings_page(request):
    form = display_form = None
    if request.method == "POST" and request.POST.get("form") == "display":
        display_form = DisplaySettingsForm(request.POST)
        if _save_display(request, display_form):
            return redirect("settings")
    elif request.method == "POST":
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
                messages.success(request, _("Your settings are saved."))
                return redirect("settings")
    if form is None:
        form = EmailSettingsForm(initial=email_settings(user=request.user))
    if display_form is None:
        display = selectors.user_display(user=request.user)
        display_form = DisplaySettingsForm(
            initial={"language": display.language, "theme": display.theme}
        )
    context = {"form": form, "display_form": display_form}
    return render(request, "rooms/settings.html", context)


def _save_display(request, form: DisplaySettingsForm) -> bool:
    if not form.is_valid():
        return False
    language = form.cleaned_data["language"]
    try:
        services.user_settings_set(
            user=request.user, language=language, theme=form.cleaned_data["theme"]
        )
    except RoomsError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return False
    # Said in the language just chosen, as the next page will be.
    translation.activate(language or translation.get_language_from_request(request))
    messages.success(request, _("Your settings are saved."))
    return True
