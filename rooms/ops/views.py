"""`/metrics`: this worker's Prometheus metrics (rooms/ops/metrics.py), in the
text format, for the bearer of ROOMS_METRICS_TOKEN (docs/deploy.md, Metrics).

Without the setting there is no such page (404); without the right token,
401. The token is compared in constant time and never logged. Each worker
serves its own numbers: Prometheus scrapes every worker's port
(docs/deploy.md, Metrics).
"""

import hmac
import logging

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from ..tokens import bearer_token
from . import metrics as _metrics  # noqa: F401 (defines and registers the metrics)

logger = logging.getLogger(__name__)


def _authorized(request, expected: str) -> bool:
    token = bearer_token(request.headers.get("Authorization"))
    if not token:
        reason = "no bearer token"
    elif not hmac.compare_digest(token.encode(), expected.encode()):
        reason = "wrong token"
    else:
        return True
    client = request.META.get("REMOTE_ADDR")
    logger.warning("metrics refused (401): %s", reason, extra={"client": client})
    return False


@never_cache
@require_safe
def metrics(request):
    expected = settings.ROOMS_METRICS_TOKEN
    if not expected:
        raise Http404("No metrics: ROOMS_METRICS_TOKEN is not set.")
    if not _authorized(request, expected):
        response = HttpResponse("A bearer token is required.\n", status=401)
        response["Content-Type"] = "text/plain; charset=utf-8"
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
