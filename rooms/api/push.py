"""`/api/push/…`: Web Push for the browser's service worker (docs/api.md,
docs/notifications.md). `GET /api/push/key` gives the server's VAPID public
key to subscribe with; `POST /api/push/subscriptions` stores the browser's
`PushSubscription.toJSON()` (201 new, 200 known), `DELETE` with
`{"endpoint"}` forgets it (204)."""

from typing import Annotated

from ninja import Router, Schema, Status
from pydantic import Field, StrictFloat, StrictStr

from .. import services
from ..delivery import push
from ..errors import RoomsError
from .http import answers, stated

router = Router(tags=["push"])


class PublicKey(Schema):
    public_key: str = Field(description="The base64url uncompressed P-256 point.")


# The service's limits (services.push_subscription_save): no NUL anywhere.
NO_NUL = "^[^\\u0000]*$"
EndpointUrl = Annotated[
    StrictStr,
    Field(
        description="The push service's https URL.",
        **stated(minLength=1, maxLength=2000, pattern="^https://[^\\u0000]*$"),
    ),
]


class SubscriptionKeys(Schema):
    p256dh: Annotated[StrictStr, Field(**stated(minLength=1, maxLength=200, pattern=NO_NUL))]
    auth: Annotated[StrictStr, Field(**stated(minLength=1, maxLength=100, pattern=NO_NUL))]


class Subscription(Schema):
    """The browser's `PushSubscription.toJSON()`."""

    endpoint: EndpointUrl
    keys: SubscriptionKeys
    expirationTime: StrictFloat | None = None  # the browser's name; unused


class Endpoint(Schema):
    # Any endpoint is forgotten, also one never stored.
    endpoint: Annotated[StrictStr, Field(**stated(minLength=1, pattern=NO_NUL))]


class Saved(Schema):
    endpoint: str


@router.get(
    "/push/key", response=answers({200: PublicKey}, 404), summary="The server's VAPID public key"
)
def push_key(request):
    """404 when Web Push is not configured (ROOMS_VAPID_PRIVATE_KEY unset)."""
    key = push.vapid_public_key()
    if key is None:
        raise RoomsError("not_found", "Web Push is not configured on this server.")
    return {"public_key": key}


SAVED = {201: Saved, 200: Saved}


@router.post(
    "/push/subscriptions",
    response=answers(SAVED, 400, 403, 413),
    summary="Store a push subscription",
)
def push_subscribe(request, payload: Subscription):
    """Store the caller's subscription: 201 new, 200 already stored."""
    created = services.push_subscription_save(
        user=request.auth,
        endpoint=payload.endpoint,
        p256dh=payload.keys.p256dh,
        auth=payload.keys.auth,
        session_key=request.session.session_key if hasattr(request, "session") else None,
    )
    return Status(201 if created else 200, {"endpoint": payload.endpoint})


@router.delete(
    "/push/subscriptions",
    response=answers({204: None}, 400, 403, 413),
    summary="Forget a push subscription",
)
def push_unsubscribe(request, payload: Endpoint):
    """Forget the caller's subscription of this endpoint (also when there was none)."""
    services.push_subscription_delete(user=request.auth, endpoint=payload.endpoint)
    return Status(204, None)
