"""`/api/push/…`: Web Push for the browser's service worker (docs/api.md,
docs/notifications.md). `GET /api/push/key` gives the server's VAPID public
key to subscribe with; `POST /api/push/subscriptions` stores the browser's
`PushSubscription.toJSON()` (201 new, 200 known), `DELETE` with
`{"endpoint"}` forgets it (204)."""

from django.http import HttpResponse

from .. import services
from ..delivery import push
from ..errors import RoomsError
from .http import dumps, endpoint, json_response, read_json


@endpoint("GET")
def push_key(request, user):
    key = push.vapid_public_key()
    if key is None:
        raise RoomsError("not_found", "Web Push is not configured on this server.")
    return json_response(dumps({"public_key": key}))


@endpoint("POST", "DELETE")
def push_subscriptions(request, user):
    body = read_json(request, optional=request.method == "DELETE")
    if request.method == "DELETE":
        services.push_subscription_delete(user=user, endpoint=body.get("endpoint"))
        return HttpResponse(status=204)
    keys = body.get("keys") if isinstance(body.get("keys"), dict) else {}
    created = services.push_subscription_save(
        user=user,
        endpoint=body.get("endpoint"),
        p256dh=keys.get("p256dh"),
        auth=keys.get("auth"),
        session_key=request.session.session_key if hasattr(request, "session") else None,
    )
    return json_response(dumps({"endpoint": body["endpoint"]}), 201 if created else 200)
