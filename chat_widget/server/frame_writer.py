"""Broadcast frames built once and written straight to each websocket's transport.

Why: a stored message is one `message` frame to every connection of its chat
and one `chat_activity` frame to every connection of the workspace. Through
engine.io each of those frames costs, per receiver, a queue put, a wake-up of
the connection's writer task, an engine.io encode, aiohttp building the frame
(header + payload) and one `transport.write` system call; at 100 receivers
that was most of the server's CPU. A server's websocket frames are unmasked
(RFC 6455 5.3), so a broadcast's bytes are the same for every plain websocket
receiver: `FrameWriter` builds them once and appends them to each eligible
receiver's pending bytes, and once per event-loop pass writes each
connection's pending bytes in one `transport.write`, so a `message` and the
frames after it in the same pass (other senders' bursts) share a system call.

Frames written `lazy` (`chat_activity`, the unread counts every connection
of the workspace gets for every message) wait up to `LAZY_SECONDS` for the
connection's next write instead: with the next urgent frame (a `message` to
a joined connection leaves with the activity before it), or all at once
when the lazy timer fires. A connection that hears of four messages a
second in other chats then costs two writes a second, not four, and the
order of its frames is kept (one pending list per connection).

A receiver is eligible only while nothing could tell the difference
(`Link.writable`); otherwise the emit takes engine.io's queue as before:
- long-polling, or mid-upgrade (`upgraded`, not `upgrading`);
- permessage-deflate negotiated (the compressor's state is per connection;
  browsers offer it), so such a connection never gets a link;
- the connection's queue holds packets, or its writer task is not parked
  waiting on the empty queue (it is mid-send, say waiting for a slow reader
  to drain): frames must leave in the order they were emitted, whichever path
  each took. Frames already pending are written before anything the writer
  sends (`LinkedWebSocket.send`), so a queue put behind them keeps the order;
- the transport's buffer plus the pending bytes above its high-water mark
  (a slow reader: the queue path then waits for the drain as it always did,
  so such a reader holds no more server memory than before);
- a closing socket or websocket, or one whose ping answer is overdue (the
  queue path's own check then closes it).

Library internals relied on (python-engineio >= 4.9, aiohttp >= 3.9), checked
by `missing_internals` at start-up; if any is missing the server keeps
engine.io's path whole: the engine.io server's `_async["websocket"]` driver
class (replaced by a subclass on this server only) with its `handler` and
`_sock`; the socket's `upgraded`, `upgrading`, `closing`, `closed`,
`last_ping` and `queue`, an `asyncio.Queue` whose `_queue` and `_getters` show
whether it holds packets and whether the writer waits on it; the writer
sending every packet through the driver's `send` and ending with its `close`.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from aiohttp import web_ws
from engineio import packet as eio_packet
from engineio.async_drivers.aiohttp import WebSocket as AiohttpWebSocket
from engineio.async_socket import AsyncSocket

from .websocket_loop import run_websocket, runs_here

logger = logging.getLogger(__name__)

TEXT_OPCODE, BINARY_OPCODE = 0x1, 0x2
FINAL_BIT = 0x80
LAZY_SECONDS = 0.5  # the longest a lazy frame waits for its connection's next write


def websocket_frame(payload: bytes, opcode: int) -> bytes:
    """One final, unmasked, uncompressed frame (RFC 6455 5.2): what a server sends."""
    length, first = len(payload), FINAL_BIT | opcode
    if length < 126:
        header = struct.pack("!BB", first, length)
    elif length < 65536:
        header = struct.pack("!BBH", first, 126, length)
    else:
        header = struct.pack("!BBQ", first, 127, length)
    return header + payload


def wire_bytes(packets: Iterable[eio_packet.Packet]) -> bytes:
    """The frames engine.io's aiohttp driver would write for `packets`, one after another.

    As the driver does: a text packet goes as a text frame of its UTF-8, a
    binary one as a binary frame.
    """
    frames = []
    for pkt in packets:
        encoded = pkt.encode()
        if isinstance(encoded, str):
            frames.append(websocket_frame(encoded.encode("utf-8"), TEXT_OPCODE))
        else:
            frames.append(websocket_frame(bytes(encoded), BINARY_OPCODE))
    return b"".join(frames)


@dataclass
class FrameStats:
    """What the fast path did, for benchmarks and tests."""

    direct: int = 0
    """Receivers a broadcast's frames went to through the fast path."""
    queued: int = 0
    """Receivers refused by the fast path (engine.io's queue took them)."""
    writes: int = 0
    """`transport.write` calls the fast path made (`direct` minus the ones that shared)."""
    dropped: int = 0
    """Pending frames thrown away because their connection closed first."""
    links: int = 0
    """Websocket connections that got a link."""
    compressed: int = 0
    """Websocket connections left to engine.io because they negotiated permessage-deflate."""


class Link:
    """One plain websocket connection the fast path may write to, and its pending bytes."""

    __slots__ = ("socket", "response", "transport", "high_water", "pending", "pending_size",
                 "urgent", "stats")

    def __init__(self, socket: Any, response: web_ws.WebSocketResponse,
                 transport: asyncio.Transport, high_water: int, stats: FrameStats) -> None:
        self.socket = socket
        self.response = response
        self.transport = transport
        self.high_water = high_water
        self.pending: list[bytes] = []
        self.pending_size = 0
        self.urgent = False  # pending holds a frame due at the end of this loop pass
        self.stats = stats

    def writable(self, now: float, size: int) -> bool:
        """Whether `size` more bytes may skip the queue without anyone seeing a difference.

        They must keep the transport's buffer (and what is pending) within its
        high-water mark, so that aiohttp's writer, which writes up to its
        writer limit before it looks at the buffer, still bounds it as before;
        a frame larger than the mark goes only into an empty buffer, as
        aiohttp's writer would write it.
        """
        socket = self.socket
        if not socket.upgraded or socket.upgrading or socket.closing or socket.closed:
            return False
        queue = socket.queue
        if queue._queue:
            return False
        for getter in queue._getters:
            if not getter.done():
                break  # the writer is parked on the empty queue: it holds nothing
        else:
            return False
        if self.response.closed or self.transport.is_closing():
            return False
        buffered = self.transport.get_write_buffer_size() + self.pending_size
        if buffered and buffered + size > self.high_water:
            return False
        last_ping = socket.last_ping
        return not (last_ping and now - last_ping > socket.server.ping_timeout)

    def add(self, wire: bytes) -> None:
        self.pending.append(wire)
        self.pending_size += len(wire)

    def flush(self) -> None:
        """Write the pending bytes in one call (or drop them if the connection went)."""
        if not self.pending:
            return
        data = self.pending[0] if len(self.pending) == 1 else b"".join(self.pending)
        count = len(self.pending)
        self.pending.clear()
        self.pending_size = 0
        self.urgent = False
        if self.response.closed or self.transport.is_closing():
            self.stats.dropped += count
            return
        self.transport.write(data)
        self.stats.writes += 1


class FrameWriter:
    """The fast path of one engine.io server: its links by engine.io sid."""

    def __init__(self, lazy_seconds: float = LAZY_SECONDS) -> None:
        self.links: dict[str, Link] = {}
        self.stats = FrameStats()
        self.lazy_seconds = lazy_seconds
        self._dirty: list[Link] = []  # links with an urgent frame: written this pass
        self._lazy: list[Link] = []  # links that had only lazy frames: the timer's
        # (non-empty exactly while the lazy timer is set)

    def write(self, eio_sids: Iterable[str], wire: bytes, lazy: bool = False) -> list[str]:
        """Queue `wire` for each receiver that may take it; return those that may not.

        The caller hands the returned ones to engine.io's queue; the rest are
        written at the end of this event-loop pass, or for `lazy` frames with
        the connection's next write, within `lazy_seconds`.
        """
        now, size, refused, direct = time.time(), len(wire), [], 0
        links, dirty, waiting = self.links, self._dirty, self._lazy
        was_idle, had_lazy = not dirty, bool(waiting)
        for eio_sid in eio_sids:
            link = links.get(eio_sid)
            if link is None or not link.writable(now, size):
                refused.append(eio_sid)
                continue
            if lazy:
                if not link.pending:
                    waiting.append(link)  # (a link flushed since may be listed twice)
            elif not link.urgent:
                link.urgent = True
                dirty.append(link)
            link.add(wire)
            direct += 1
        self.stats.direct += direct
        self.stats.queued += len(refused)
        if was_idle and dirty:
            asyncio.get_running_loop().call_soon(self.flush)
        if waiting and not had_lazy:
            asyncio.get_running_loop().call_later(self.lazy_seconds, self.flush_lazy)
        return refused

    def flush(self) -> None:
        """Write the pending bytes of every connection with an urgent frame."""
        dirty, self._dirty = self._dirty, []
        for link in dirty:
            link.flush()

    def flush_lazy(self) -> None:
        """Write what the lazy frames' connections still hold."""
        waiting, self._lazy = self._lazy, []
        for link in waiting:
            link.flush()

    def open_link(self, socket: Any, response: web_ws.WebSocketResponse,
                  transport: asyncio.Transport | None) -> Link | None:
        """A link for a websocket just prepared, or None where the fast path must not go."""
        if transport is None or getattr(socket, "sid", None) is None:
            return None
        if response.compress:
            self.stats.compressed += 1
            return None
        try:
            high_water = transport.get_write_buffer_limits()[1]
        except (AttributeError, NotImplementedError):
            return None
        link = Link(socket, response, transport, high_water, self.stats)
        self.links[socket.sid] = link
        self.stats.links += 1
        return link

    def close_link(self, link: Link) -> None:
        """The websocket is done: what is pending goes (if it still can), the link goes."""
        link.flush()
        if self.links.get(link.socket.sid) is link:
            del self.links[link.socket.sid]


class LinkedWebSocket(AiohttpWebSocket):  # type: ignore[misc]
    """engine.io's aiohttp websocket driver, with a link for the fast path while it runs.

    Everything engine.io's writer task sends goes through `send` (and ends
    with `close`); the link's pending bytes are written first, so frames that
    took the fast path before a queued packet leave before it.
    """

    handler: Any
    _sock: web_ws.WebSocketResponse

    def __init__(self, handler: Any, server: Any, frame_writer: FrameWriter) -> None:
        super().__init__(handler, server)
        self._frame_writer = frame_writer
        self._link: Link | None = None

    async def __call__(self, environ: dict[str, Any]) -> Any:
        handler = self.handler
        socket = getattr(handler, "__self__", None)
        transport = environ["aiohttp.request"].transport

        async def linked(ws: Any) -> None:
            self._link = self._frame_writer.open_link(socket, self._sock, transport)
            try:
                if runs_here(handler):  # opened as a websocket: the cheaper loops
                    await run_websocket(socket, ws)
                else:
                    await handler(ws)
            finally:
                if self._link is not None:
                    self._frame_writer.close_link(self._link)

        self.handler = linked
        return await super().__call__(environ)

    async def send(self, message: Any) -> None:
        if self._link is not None and self._link.pending:
            self._link.flush()
        await super().send(message)

    async def close(self) -> None:
        if self._link is not None and self._link.pending:
            self._link.flush()
        await super().close()


def missing_internals(eio: Any) -> str | None:
    """What the fast path needs but this engine.io/aiohttp lacks, or None if all is there."""
    if getattr(eio, "async_mode", None) != "aiohttp":
        return "engine.io does not run on aiohttp"
    drivers = getattr(eio, "_async", None)
    if not isinstance(drivers, dict) or drivers.get("websocket") is not AiohttpWebSocket:
        return "engine.io's websocket driver is not the aiohttp one"
    driver: Any = AiohttpWebSocket
    probe = driver(None, eio)
    if not all(hasattr(probe, name) for name in ("handler", "_sock", "send", "close")):
        return "engine.io's aiohttp driver has no handler/_sock/send/close"
    if not callable(getattr(AsyncSocket, "_websocket_handler", None)):
        return "engine.io's socket has no _websocket_handler"
    socket = AsyncSocket(eio, "probe")
    needed = ("upgraded", "upgrading", "closing", "closed", "last_ping", "queue")
    if not all(hasattr(socket, name) for name in needed):
        return "engine.io's socket lacks one of " + ", ".join(needed)
    queue = socket.queue
    if not (isinstance(queue, asyncio.Queue)
            and isinstance(getattr(queue, "_getters", None), collections.deque)
            and isinstance(getattr(queue, "_queue", None), collections.deque)):
        return "engine.io's queue is not an asyncio.Queue with _queue and _getters"
    response_class = web_ws.WebSocketResponse
    if not all(isinstance(getattr(response_class, name, None), property)
               for name in ("compress", "closed")):
        return "aiohttp's WebSocketResponse has no compress/closed"
    return None


def install(eio: Any) -> FrameWriter | None:
    """Give `eio` (an engine.io AsyncServer) the fast path, or None (logged) if it cannot."""
    missing = missing_internals(eio)
    if missing is not None:
        logger.warning("broadcast frames take engine.io's queues: %s", missing)
        return None
    frame_writer = FrameWriter()
    # A copy: the driver table is the driver module's own dict, shared by every server.
    eio._async = {**eio._async,
                  "websocket": partial(LinkedWebSocket, frame_writer=frame_writer)}
    return frame_writer
