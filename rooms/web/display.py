"""The person's display settings applied to every request (docs/ui.md,
Languages): their own language over the browser's, and the colour theme
for the templates.

Django's LocaleMiddleware has chosen the language from Accept-Language
(else LANGUAGE_CODE) before this runs; a signed-in person who chose one in
their settings gets theirs instead. One read per signed-in request, shared
with the theme."""

from django.conf import settings
from django.utils import translation
from django.utils.deprecation import MiddlewareMixin

from .. import selectors
from . import jscatalog


class UserDisplayMiddleware(MiddlewareMixin):
    """After AuthenticationMiddleware and LocaleMiddleware."""

    def process_request(self, request):
        display = selectors.DEFAULT_DISPLAY
        if request.user.is_authenticated:
            display = selectors.user_display(user=request.user)
        request.display = display
        if display.language:
            translation.activate(display.language)
            request.LANGUAGE_CODE = translation.get_language()


def display(request) -> dict:
    """Context processor: `theme` (auto, light, dark: `<html data-theme>`)
    and the URL of the JavaScript catalog in the page's language."""
    chosen = getattr(request, "display", selectors.DEFAULT_DISPLAY)
    return {
        "theme": chosen.theme,
        "js_catalog_url": jscatalog.catalog_url(
            translation.get_language() or settings.LANGUAGE_CODE
        ),
    }
