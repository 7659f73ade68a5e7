"""Login throttling with two limits (docs/security.md, Authentication):
failures of one username from one address (AXES_FAILURE_LIMIT, 10), and
failures from one address whatever the usernames
(ROOMS_LOGIN_FAILURES_PER_ADDRESS, 50), both counted within
AXES_COOLOFF_TIME by django-axes' database handler.

axes counts failures for each of AXES_LOCKOUT_PARAMETERS, the pair and the
address, but compares only the largest count with one limit, and the
address's count, which holds the pair's, is always the largest. This handler
gives each its own limit, and keeps a successful login from clearing more
than its own username's failures.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Sum
from django.http import HttpRequest

PARAMETERS = [["username", "ip_address"], "ip_address"]  # the pair's, the address's


class LoginThrottle(AxesDatabaseHandler):
    """AXES_HANDLER: axes' database handler, with a limit per parameter set."""

    def __init__(self):
        super().__init__()
        if settings.AXES_LOCKOUT_PARAMETERS != PARAMETERS:
            raise ImproperlyConfigured(f"{__name__} counts AXES_LOCKOUT_PARAMETERS = {PARAMETERS}.")

    def failures(self, request: HttpRequest, credentials: dict | None = None) -> tuple[int, int]:
        """(failures of this username from this address, failures from this
        address), within the cool-off."""
        pair, address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        return pair, address

    def address_locked(self, request: HttpRequest, credentials: dict | None = None) -> bool:
        """Whether the address's own limit, not the pair's, refuses this login."""
        pair, address = self.failures(request, credentials)
        return pair < settings.AXES_FAILURE_LIMIT and address >= _address_limit()

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        # axes locks when this reaches AXES_FAILURE_LIMIT (the pair's limit):
        # the address's count is given in that limit's units, reaching it
        # exactly when the count reaches the address's own limit.
        pair, address = self.failures(request, credentials)
        return max(pair, address * settings.AXES_FAILURE_LIMIT // _address_limit())

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        # A successful login clears the failures of its username from its
        # address, not the address's: else a login to an account of one's
        # own would reset the address's count before every 50th guess.
        pair_attempts = self.filter_user_attempts(request, credentials)[0]
        count, _ = pair_attempts.delete()
        return count


def address_locked(request: HttpRequest, credentials: dict | None = None) -> bool:
    """Whether a refused login is refused for its address (any username),
    not for its (username, address) pair: what the refusal says."""
    AxesProxyHandler.update_request(request)  # axes' attributes (address, time)
    return LoginThrottle().address_locked(request, credentials)


def _address_limit() -> int:
    return settings.ROOMS_LOGIN_FAILURES_PER_ADDRESS
