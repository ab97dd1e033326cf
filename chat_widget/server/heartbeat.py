"""Engine.IO's heartbeat at a cost that does not grow a task per connection per ping.

Engine.IO pings every connection `ping_interval` seconds after its last
pong and drops one that does not answer within `ping_timeout`. The library
does the first with a new asyncio task per connection per ping (a task that
sleeps the interval, then queues the ping), and the second with a service
task that visits the connections one by one, each visit an `asyncio.wait_for`
with its own timer and task. At 5,000 idle connections and a 4 s interval
that was a fifth of a core before anyone sent a message.

`HeartbeatServer` keeps the library's rules and its own per-socket code (the
ping packet, `last_ping`, `check_ping_timeout`, the close on timeout) and
changes only the scheduling:

- pings wait in one queue ordered by when they are due (every connection
  waits the same interval, so arrival order is due order) and one task sends
  those due, waking at most every `PING_SLACK` seconds: a ping may leave up to
  that much early, never late;
- the timeout sweep is one pass over the connections every `SWEEP_EVERY`
  seconds, a comparison each, and calls the library's check only for the few
  whose ping has gone unanswered too long.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from typing import Any

import engineio
import socketio
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket

logger = logging.getLogger(__name__)

PING_SLACK = 0.05  # seconds a ping may leave before it is due, so one wake sends a batch
SWEEP_EVERY = 1.0  # seconds between timeout sweeps: a dead link is seen by timeout + this


class HeartbeatServer(engineio.AsyncServer):  # type: ignore[misc]
    """Engine.IO's server with one ping task and one sweep for every connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._due: collections.deque[tuple[float, AsyncSocket]] = collections.deque()
        self._pinger: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None

    def start_background_task(self, target: Any, *args: Any, **kwargs: Any) -> Any:
        """The library's way to start tasks; a socket's next ping joins the queue instead."""
        if getattr(target, "__func__", None) is AsyncSocket._send_ping:
            self._schedule_ping(target.__self__)
            return None  # the library keeps no handle to a ping task
        return super().start_background_task(target, *args, **kwargs)

    def _schedule_ping(self, socket: AsyncSocket) -> None:
        self._due.append((time.monotonic() + self.ping_interval, socket))
        if self._pinger is None or self._pinger.done():
            self._wake = asyncio.Event()
            self._pinger = asyncio.ensure_future(self._send_pings())
        elif len(self._due) == 1 and self._wake is not None:
            self._wake.set()  # the pinger sleeps with nothing due: it has work again

    async def _send_pings(self) -> None:
        """Send each queued ping when it is due (`AsyncSocket._send_ping` after its sleep)."""
        assert self._wake is not None
        while True:
            if not self._due:
                self._wake.clear()
                await self._wake.wait()
                continue
            wait = self._due[0][0] - time.monotonic() - PING_SLACK
            if wait > 0:
                await asyncio.sleep(wait + PING_SLACK)
            now = time.monotonic()
            while self._due and self._due[0][0] - PING_SLACK <= now:
                _, socket = self._due.popleft()
                if socket.closing or socket.closed:
                    continue
                socket.last_ping = time.time()
                try:
                    await socket.send(eio_packet.Packet(eio_packet.PING))
                except Exception as error:  # one socket's trouble must not stop the rest
                    logger.debug("ping to %s failed: %s", socket.sid, error)

    async def _service_task(self) -> None:
        """Drop sockets whose ping went unanswered; forget closed ones (the library's duties)."""
        self.service_task_event = self.create_event()
        while not self.service_task_event.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.service_task_event.wait(), SWEEP_EVERY)
                break
            try:
                await self._sweep()
            except Exception:  # the sweep must go on, as the library's does
                logger.exception("heartbeat sweep failed")
        if self._pinger is not None:
            self._pinger.cancel()

    async def _sweep(self) -> None:
        now = time.time()
        for sid, socket in list(self.sockets.items()):
            if socket.closed:
                self.sockets.pop(sid, None)
            elif (not socket.closing and socket.last_ping
                  and now - socket.last_ping > self.ping_timeout):
                await socket.check_ping_timeout()  # closes it, with the library's reason


class HeartbeatSocketIOServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's server on `HeartbeatServer`."""

    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        return HeartbeatServer
