"""A person's display settings: the language the pages, emails and the
browser client speak to them in, and the colour theme (docs/ui.md,
Languages). Publishes nothing: the next page they load follows them."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from ..display_models import UserSettings
from ..errors import RoomsError


def user_settings_set(*, user: AbstractBaseUser, language: str, theme: str) -> None:
    """`language`: a code of settings.LANGUAGES, or "" for the browser's
    choice; `theme`: auto, light or dark."""
    if language not in {"", *dict(settings.LANGUAGES)}:
        raise RoomsError("invalid", _("Choose a language from the list."), field="language")
    if theme not in UserSettings.Theme.values:
        raise RoomsError("invalid", _("Choose a theme from the list."), field="theme")
    UserSettings.objects.update_or_create(
        user=user, defaults={"language": language, "theme": theme}
    )
