"""How a RoomsError from a service shows in the admin: as the admin's error
message on the page it came from, never a 500.

The forms check what they can before any write (rooms/admin/forms.py), but
a service may still refuse at save time: a rule the forms do not know, or a
change made meanwhile (a slug taken since the form was checked). Then the
request's writes are rolled back and the page is asked for again, with the
service's message."""

from django.contrib import messages
from django.db import router, transaction
from django.http import HttpResponseRedirect

from ..errors import RoomsError


class ServiceErrorsAsMessages:
    """A ModelAdmin mixin for the models the admin writes through services."""

    def _refused(self, request, error: RoomsError):
        self.message_user(request, f"Nothing saved: {error.message}", messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    # Django runs these two in a transaction: the refusal rolls it back.
    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except RoomsError as error:
            return self._refused(request, error)

    def delete_view(self, request, *args, **kwargs):
        try:
            return super().delete_view(request, *args, **kwargs)
        except RoomsError as error:
            return self._refused(request, error)

    def changelist_view(self, request, *args, **kwargs):
        if request.method != "POST":
            return super().changelist_view(request, *args, **kwargs)
        try:
            # An action (a bulk delete: its log entries, then each row) is all
            # or nothing, like the views above.
            with transaction.atomic(using=router.db_for_write(self.model)):
                return super().changelist_view(request, *args, **kwargs)
        except RoomsError as error:
            return self._refused(request, error)
