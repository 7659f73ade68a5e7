from django.core.management.base import BaseCommand

from rooms.delivery import push


class Command(BaseCommand):
    help = (
        "Print a new VAPID key pair for Web Push as two lines for an env file: "
        "ROOMS_VAPID_PRIVATE_KEY (the raw P-256 private key, base64url; keep it secret) "
        "and ROOMS_VAPID_PUBLIC_KEY (its public key, for reference only: the server "
        "derives it from the private key and serves it at /api/push/key)."
    )

    def handle(self, *args, **options):
        private_key, public_key = push.vapid_keys_generate()
        self.stdout.write(f"ROOMS_VAPID_PRIVATE_KEY={private_key}")
        self.stdout.write(f"ROOMS_VAPID_PUBLIC_KEY={public_key}")
