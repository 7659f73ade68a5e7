from django.core.management.base import BaseCommand, CommandError

from rooms import services
from rooms.errors import RoomsError
from rooms.management.base import user_named
from rooms.models import Membership

ROLE_OPTIONS = (
    ("member", Membership.Role.MEMBER),
    ("moderator", Membership.Role.MODERATOR),
    ("read_only", Membership.Role.READ_ONLY),
)


class Command(BaseCommand):
    help = (
        "Create a room, or update the given attributes and memberships of an existing one "
        "(idempotent): --member, --moderator and --read-only USER give USER that role (or "
        "change it), --remove USER ends the membership; each may be repeated. Prints the slug."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="letters, digits, hyphens, underscores (max 64)")
        parser.add_argument("--title", help="the room's display title")
        access = parser.add_mutually_exclusive_group()
        access.add_argument(
            "--private",
            dest="private",
            action="store_true",
            default=None,
            help="only its members see it",
        )
        access.add_argument(
            "--public", dest="private", action="store_false", help="every user sees it"
        )
        state = parser.add_mutually_exclusive_group()
        state.add_argument(
            "--archived",
            dest="archived",
            action="store_true",
            default=None,
            help="read-only for everyone",
        )
        state.add_argument("--active", dest="archived", action="store_false", help="writable again")
        for dest, _ in ROLE_OPTIONS:
            parser.add_argument(
                f"--{dest.replace('_', '-')}",
                dest=dest,
                action="append",
                default=[],
                metavar="USER",
                help=f"give USER the role {dest} (repeat)",
            )
        parser.add_argument(
            "--remove",
            action="append",
            default=[],
            metavar="USER",
            help="end USER's membership (repeat)",
        )

    def handle(self, *args, **options):
        roles = {}
        for dest, role in ROLE_OPTIONS:
            for name in options[dest]:
                user = user_named(name)
                if roles.setdefault(user, role) != role:
                    raise CommandError(f"User {name!r} cannot be given two roles at once.")
        remove = [user_named(name) for name in options["remove"]]
        if both := sorted(user.get_username() for user in set(roles) & set(remove)):
            raise CommandError(f"User {both[0]!r} cannot be given a role and removed at once.")
        try:
            room, _ = services.room_create_or_update(
                slug=options["slug"],
                title=options["title"],
                is_private=options["private"],
                is_archived=options["archived"],
                roles=roles,
                remove=remove,
            )
        except RoomsError as error:
            raise CommandError(error.message) from None
        self.stdout.write(room.slug)
