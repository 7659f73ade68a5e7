"""Who is online where, as each worker process last saw it: the snapshot a
command or the admin reads (selectors.online_users, `roomstats`). Live
clients learn presence from the hubs' own gossip, so nothing is published
here."""

from django.utils import timezone

from ..models import PresenceSnapshot


def presence_snapshot_save(*, process_id: str, rooms: dict[int, list[str]]) -> None:
    """Record which users this worker process has online in which rooms
    (selectors.online_users); an empty one removes the process's row."""
    if not rooms:
        PresenceSnapshot.objects.filter(process_id=process_id).delete()
        return
    PresenceSnapshot.objects.update_or_create(
        process_id=process_id,
        defaults={"rooms": {str(k): v for k, v in rooms.items()}, "updated_at": timezone.now()},
    )
