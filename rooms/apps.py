from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "rooms"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_save, pre_delete, pre_save

        from .services import stored_json

        # The user model is Django's: its signals are where every rename and
        # deletion passes, whoever makes it (rooms/services/stored_json.py).
        user = settings.AUTH_USER_MODEL
        pre_save.connect(stored_json.user_saving, sender=user, dispatch_uid="rooms-json-rename")
        post_save.connect(stored_json.user_saved, sender=user, dispatch_uid="rooms-json-renamed")
        pre_delete.connect(stored_json.user_deleting, sender=user, dispatch_uid="rooms-json-del")
