"""The browser client's words in the reader's language: Django's JavaScript
catalog of the rooms app (the `djangojs` message files), served per
language at `/jsi18n/<language>.js` as a script of the site's own (the
Content-Security-Policy allows no inline script). It defines `gettext`,
`ngettext` and `interpolate` before the modules run (static/rooms/i18n.js
reads them).

The pages name it with `?v=` and a digest of its content, so browsers keep
it for a year and fetch it anew when a deploy changes it; without the
current digest it is revalidated on every use."""

import functools
import hashlib

from django.conf import settings
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_safe
from django.views.i18n import JavaScriptCatalog

YEAR = 365 * 24 * 3600


@functools.cache
def _catalog(language: str) -> tuple[bytes, str]:
    """(the script, its digest). Translations load once per process, so
    the script is made once per language."""
    with translation.override(language):
        view = JavaScriptCatalog(packages=["rooms"])
        body = view.get(None).content
    return body, hashlib.sha256(body).hexdigest()[:16]


def catalog_url(language: str) -> str:
    language = translation.get_supported_language_variant(language)
    _, digest = _catalog(language)
    return f"{reverse('js-catalog', args=[language])}?v={digest}"


@require_safe
def js_catalog(request, language: str):
    if language not in dict(settings.LANGUAGES):
        raise Http404("No such language.")
    body, digest = _catalog(language)
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["ETag"] = f'"{digest}"'
    if request.GET.get("v") == digest:
        response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        response["Cache-Control"] = "no-cache"
    return response
