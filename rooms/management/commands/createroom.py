from django.core.management.base import BaseCommand, CommandError

from rooms import services
from rooms.errors import RoomsError
from rooms.management.base import user_named


class Command(BaseCommand):
    help = (
        "Create a room, or update the given attributes of an existing one (idempotent). "
        "Prints the slug."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="letters, digits, hyphens, underscores (max 64)")
        parser.add_argument("--title", help="the room's display title")
        access = parser.add_mutually_exclusive_group()
        access.add_argument("--private", dest="private", action="store_true", default=None)
        access.add_argument("--public", dest="private", action="store_false")
        state = parser.add_mutually_exclusive_group()
        state.add_argument("--archived", dest="archived", action="store_true", default=None)
        state.add_argument("--active", dest="archived", action="store_false")
        parser.add_argument(
            "--member", action="append", default=[], metavar="USER", help="add a member (repeat)"
        )

    def handle(self, *args, **options):
        members = [user_named(name) for name in options["member"]]
        try:
            room, _ = services.room_create_or_update(
                slug=options["slug"],
                title=options["title"],
                is_private=options["private"],
                is_archived=options["archived"],
                members=members,
            )
        except RoomsError as error:
            raise CommandError(error.message) from None
        self.stdout.write(room.slug)
