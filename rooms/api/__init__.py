"""The JSON API for integrations (docs/api.md): rooms, a room's log by seq,
publishing, editing, deleting and reacting, members, search, direct
conversations, the user picker and notification settings.

A thin adapter like the WebSocket consumer: each endpoint parses its request
(`http`), calls one service or selector, and renders JSON. Errors are the
protocol's codes (RoomsError) with the status the error knows:
`{"error": {"code", "message", "field"?, "retry_after"?}}`. The routes are
in `urls`.
"""
