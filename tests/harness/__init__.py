"""The test harness that the suite and the benchmark (bench/) share.

- `deployment`: real server processes (daphne or uvicorn) on a private
  database and Redis prefix, with the management commands and logs.
- `inprocess`: sockets on the ASGI application in this process
  (Channels' WebsocketCommunicator), with the hub checked at the end.
- `network`: a WebSocket client over the network that checks every stream
  it receives (exactly once, in order, gapless) as it arrives.
- `live`: a one-worker site for the tests of adapters against a real server.
- `sessions`: a browser's login session on a real worker, without a browser
  (its forms, its cookie for a WebSocket handshake).
"""
