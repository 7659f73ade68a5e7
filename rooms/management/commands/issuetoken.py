from django.core.management.base import BaseCommand, CommandError

from rooms import services
from rooms.management.base import user_named


class Command(BaseCommand):
    help = (
        "Issue a new API token for USER (bots and scripts); prints the token alone. "
        "Only its hash is stored. --revoke revokes all of USER's tokens instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("user", help="the username")
        parser.add_argument("--revoke", action="store_true", help="revoke all the user's tokens")

    def handle(self, *args, **options):
        user = user_named(options["user"])
        if options["revoke"]:
            self.stdout.write(str(services.api_token_revoke_all(user=user)))
        elif not user.is_active:
            # Its token would be refused on every request: say so now.
            raise CommandError(f"User {options['user']!r} is deactivated.")
        else:
            self.stdout.write(services.api_token_issue(user=user))
