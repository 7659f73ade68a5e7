import sys

from django.core.management.base import BaseCommand, CommandError

from rooms import services
from rooms.errors import RoomsError
from rooms.management.base import non_negative, room_named, user_named


class Command(BaseCommand):
    help = (
        "Post a message to a room through the same path as a WebSocket send; it is "
        "broadcast live. Prints its seq (the original one when --client-id repeats)."
    )

    def add_arguments(self, parser):
        parser.add_argument("room", help="the room's slug")
        parser.add_argument(
            "body", help="the message; - reads it from stdin (without its final newline)"
        )
        parser.add_argument("--as", dest="author", metavar="USER", help="post as this user")
        parser.add_argument("--client-id", help="idempotency key: a repeat stores nothing new")
        parser.add_argument(
            "--reply-to",
            type=non_negative,
            metavar="SEQ",
            help="the seq of the message of the room this one answers",
        )

    def handle(self, *args, **options):
        room = room_named(options["room"])
        author = user_named(options["author"]) if options["author"] else None
        body = self._stdin_body() if options["body"] == "-" else options["body"]
        try:
            result = services.message_post(
                room=room,
                author=author,
                body=body,
                client_id=options["client_id"],
                reply_to=options["reply_to"],
                check_rate=False,
            )
        except RoomsError as error:
            if error.code == "not_found" and author is not None:
                # The room exists (room_named found it): it is private to them.
                raise CommandError(
                    f"{author.get_username()} may not post in {room.slug}: "
                    "it is a private room they are not a member of."
                ) from None
            raise CommandError(error.message) from None
        self.stdout.write(str(result.seq))

    @staticmethod
    def _stdin_body() -> str:
        try:
            text = sys.stdin.read()
        except UnicodeDecodeError as error:
            raise CommandError(f"stdin is not valid text: {error.reason}") from None
        # `echo hi | manage.py post lobby -` means "hi", not "hi\n".
        return text.removesuffix("\n")
