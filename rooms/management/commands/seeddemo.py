from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from rooms import services
from rooms.models import Room

DEMO_PASSWORD = "rooms-demo"
DEMO_USERS = ["alice", "bob", "carol"]
DEMO_ROOMS = [("lobby", "Lobby"), ("random", "Random"), ("dev", "Development")]


class Command(BaseCommand):
    help = (
        f"Create demo users ({', '.join(DEMO_USERS)}, password {DEMO_PASSWORD!r}; "
        "admin/admin as staff) and rooms for the embedded default. Idempotent."
    )

    def handle(self, *args, **options):
        User = get_user_model()
        for name in DEMO_USERS:
            user, created = User.objects.get_or_create(username=name)
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
                self.stdout.write(f"user {name} (password {DEMO_PASSWORD})")
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.com", "admin")
            self.stdout.write("staff user admin (password admin)")
        for slug, title in DEMO_ROOMS:
            if not Room.objects.filter(slug=slug).exists():
                room, _ = services.room_create_or_update(slug=slug, title=title)
                services.message_post(room=room, author=None, body=f"Welcome to {title}!")
                self.stdout.write(f"room {slug}")
        self.stdout.write("demo ready")
