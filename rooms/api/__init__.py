"""The JSON API for integrations (docs/api.md): rooms, a room's log by seq,
publishing, editing, deleting and reacting, members, search, direct
conversations, the user picker, notification settings and Web Push.

A thin adapter like the WebSocket consumer, on django-ninja: a router per
subject, whose typed schemas check the JSON's shape and describe the
answers; each endpoint calls one service or selector. Who calls, JSON in and
out and the one error body are in `http`:
`{"error": {"code", "message", "field"?, "retry_after"?}}`, with the status
the RoomsError's code knows. The routes, and the OpenAPI document made from
these modules (`/api/openapi.json`, shown at `/api/docs`), are in `urls`.
"""
