import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rooms.services import demo


class Command(BaseCommand):
    help = (
        f"Create demo users ({', '.join(demo.DEMO_USERS)}, password {demo.DEMO_PASSWORD!r}; "
        "admin/admin as staff) and rooms for the embedded default, with a short "
        "conversation in the lobby that shows a reply, an edit, reactions and a deletion, "
        "a direct conversation of alice and bob, and alice moderating Development. "
        "Idempotent: every entry has a client_id, so a second run stores nothing. "
        "Refuses with DJANGO_DEBUG off: the demo's passwords are public."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seeddemo creates accounts with public passwords (admin/admin): "
                "it runs only with DJANGO_DEBUG on."
            )
        demo.demo_seed(say=self.stdout.write, warn=lambda line: sys.stderr.write(line + "\n"))
        self.stdout.write("demo ready")
