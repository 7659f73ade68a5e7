"""`manage.py compiletranslations`: the project's message catalogues
(`locale/<language>/LC_MESSAGES/*.po`) compiled into the `.mo` files Django
reads, by Babel in pure Python, so running or building Rooms needs no GNU
gettext (Django's own `compilemessages` needs its `msgfmt`). `make run`,
`make test` and a deployment run it; the `.mo` files are not kept in git.
Untranslated and fuzzy entries are left out (they show in English)."""

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand


def catalogues() -> list[Path]:
    """The .po files of the rooms app and of LOCALE_PATHS; never those of
    installed packages (Django's, django-axes'), which ship compiled."""
    folders = [Path(apps.get_app_config("rooms").path) / "locale"]
    folders += [Path(path) for path in getattr(settings, "LOCALE_PATHS", [])]
    return sorted({po for folder in folders for po in folder.glob("*/LC_MESSAGES/*.po")})


def compile_catalogue(po: Path) -> Path:
    """Write `po`'s .mo beside it, whole or not at all (a process reading
    it meanwhile sees the old one)."""
    with po.open("rb") as source:
        catalog = read_po(source, locale=po.parents[1].name, domain=po.stem)
    mo = po.with_suffix(".mo")
    handle, temporary = tempfile.mkstemp(dir=po.parent, prefix=".", suffix=".mo")
    try:
        with os.fdopen(handle, "wb") as target:
            write_mo(target, catalog)
        os.replace(temporary, mo)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return mo


class Command(BaseCommand):
    help = "Compile the message catalogues (.po) into .mo files, those not up to date."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="compile every catalogue")

    def handle(self, *args, force: bool = False, **options):
        for po in catalogues():
            mo = po.with_suffix(".mo")
            if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                continue
            compile_catalogue(po)
            if options["verbosity"] >= 1:
                self.stdout.write(f"compiled {mo}")
