"""The realtime runtime: the WebSocket consumer and its handshake rules, the
per-event-loop hub with its room feeds, and group commit.

Everything here lives on a server's event loop. The domain modules of
`rooms` (models, services, selectors, protocol) never import this package;
only adapters that run a loop do (the ASGI routing, `tailroom --follow`).
Services reach the hubs through `rooms.broadcast`'s local sinks.
"""
