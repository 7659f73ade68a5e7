"""The benchmark's baseline: a plain Channels-tutorial-style chat server.

One `group_add` per socket, one `group_send` per message delivered to every
socket's own channel, the message JSON-encoded once per socket. It speaks the
small part of the Rooms protocol the benchmark uses (hello, join, joined,
send, ack, message) so the same load generator drives both servers.
"""
