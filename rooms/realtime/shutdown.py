"""Graceful shutdown of a worker on SIGTERM (docs/deploy.md, Graceful restarts).

daphne and uvicorn each install their own SIGTERM handler with
`signal.signal` when they start: daphne's (Twisted's reactor) stops the
reactor, which cancels every connection's application at once, so clients
see their TCP connection drop; uvicorn's closes every WebSocket with 1012
and then waits without a bound. Neither lets the entries this process has
already received be stored and acknowledged first. So when the hub starts
(`install`), it puts a handler of its own in front of the server's; on
SIGTERM it

1. stops accepting connections: it closes the server's listening sockets,
   so nginx sends new connections to the other workers;
2. answers frames that would store an entry with `unavailable` (the consumer
   asks `draining()`), so the group commit's queue can empty;
3. waits until every entry already received is committed and acknowledged
   (rooms/realtime/batching.py, `settled`);
4. closes every socket with 4503: the client resumes on another worker with
   `since` (G5) and resends what it has not had an `ack` for (G4);
5. hands the signal over to the server's own handler, which exits.

Steps 3 and 4 take at most ROOMS_SHUTDOWN_TIMEOUT * 0.8 seconds, and the
process exits when ROOMS_SHUTDOWN_TIMEOUT has passed whatever is left (a
database call that hangs, say). A second SIGTERM hands over at once.
1001 ("going away") would say the same as 4503, but daphne lets an
application close only with 1000 or 3000-4999, so both servers use 4503.
"""

import asyncio
import contextlib
import logging
import os
import signal
import threading
import time

from django.conf import settings

from rooms import protocol

from . import batching

logger = logging.getLogger(__name__)

# Shares of ROOMS_SHUTDOWN_TIMEOUT: the group commit may take until the first,
# closing the sockets until the second; the server's own exit gets the rest.
SETTLE_SHARE = 0.5
CLOSE_SHARE = 0.8

_draining = False
_installed = False


def draining() -> bool:
    """Whether this process received SIGTERM and is handing its sockets over."""
    return _draining


def install(hub) -> None:
    """Put the graceful shutdown in front of the server's SIGTERM handler,
    once per process. Nothing happens where there is no server's handler to
    hand over to (the default, as in tests and `tailroom`), or off the main
    thread, where Python cannot set one."""
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)
    if not callable(previous):
        return
    _installed = True
    loop = hub.loop

    def on_sigterm(signum, frame):
        if _draining:  # a second SIGTERM: stop waiting
            _hand_over(previous, signum)
            return
        loop.call_soon_threadsafe(hub.spawn, _drain(hub, previous, signum))

    signal.signal(signal.SIGTERM, on_sigterm)


def _hand_over(previous, signum) -> None:
    signal.signal(signal.SIGTERM, previous)
    previous(signum, None)


async def _drain(hub, previous, signum) -> None:
    global _draining
    if _draining:
        return
    _draining = True
    timeout = settings.ROOMS_SHUTDOWN_TIMEOUT
    started = time.monotonic()
    hard_exit = threading.Timer(timeout, _exit_now, args=(timeout,))
    hard_exit.daemon = True
    hard_exit.start()
    try:
        listeners = _stop_listening(previous)
        sockets = _sockets(hub)
        logger.info(
            "SIGTERM: draining (%d listening sockets closed, %d sockets open)",
            listeners,
            len(sockets),
        )
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout * SETTLE_SHARE):
                await batching.settled()
        remaining = max(0.1, started + timeout * CLOSE_SHARE - time.monotonic())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(remaining):
                await _close_all(hub)
        left = len(_sockets(hub))
        logger.info(
            "SIGTERM: drained in %.1fs (%d sockets still open); exiting",
            time.monotonic() - started,
            left,
        )
    except Exception:
        logger.exception("SIGTERM: draining failed; exiting")
    finally:
        _hand_over(previous, signum)


def _sockets(hub) -> set:
    sockets = {socket for group in hub.user_sockets.values() for socket in group}
    for feed in hub.feeds.values():
        sockets.update(subscription.socket for subscription in feed.subscriptions)
    return sockets


async def _close(socket) -> None:
    await socket.close(code=protocol.CLOSE_UNAVAILABLE)  # after what is queued for it
    socket.gone = True  # the answers to frames it sent meanwhile are not sent


async def _close_all(hub) -> None:
    """Close every socket with 4503, then wait until they are gone."""
    closes = [_close(socket) for socket in _sockets(hub) if hasattr(socket, "close")]
    await asyncio.gather(*closes, return_exceptions=True)
    # Each socket leaves the hub when the server reports its disconnect; the
    # hub has no event for that, and the caller bounds the wait.
    while _sockets(hub):  # noqa: ASYNC110
        await asyncio.sleep(0.05)


def _stop_listening(handler) -> int:
    """Close the listening sockets of the server whose SIGTERM handler is
    `handler`: uvicorn's Server (its `handle_exit`), or Twisted's reactor
    under daphne (its `sigTerm`). Connections already open stay open."""
    owner = getattr(handler, "__self__", None)
    closed = 0
    for server in getattr(owner, "servers", None) or ():  # uvicorn: asyncio servers
        server.close()
        closed += 1
    get_readers = getattr(owner, "getReaders", None)  # Twisted: its listening ports
    if callable(get_readers):
        for reader in get_readers():
            if callable(getattr(reader, "stopListening", None)):
                reader.stopListening()
                closed += 1
    return closed


def _exit_now(timeout: float) -> None:
    logger.error("SIGTERM: still running after ROOMS_SHUTDOWN_TIMEOUT (%ss): exiting now", timeout)
    logging.shutdown()
    os._exit(1)
