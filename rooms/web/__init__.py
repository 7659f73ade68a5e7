"""The chat's HTML pages: the room list and a room's page, sign-up and login,
a room's manage page, direct conversations and search. Each view parses a
form, calls one service or selector (or rooms.access), and renders; the chat
itself runs in the browser over the WebSocket. The routes are in `urls`."""
