"""A websocket connection's read and write loops, without a task and a timer per packet.

engine.io's `AsyncSocket._websocket_handler` reads each incoming packet in a
new task wrapped in `asyncio.wait_for` (a second task and a timer handle),
and its writer waits for each outgoing batch the same way. At thousands of
connections that is most of what a heartbeat costs the server: every ping
and its pong went through four tasks. `run_websocket` is the same two loops
with one `SilenceTimer` each, which needs neither task nor wrapper nor a
timer per packet (an `asyncio.timeout` around each wait was 3% of the
server's CPU per message at one listener, profiled), and is used for
connections that open as websockets (the chat's own clients do). A polling
connection upgrading to a websocket keeps engine.io's handler, whose probe
exchange it needs, and so does every connection on Python 3.10, which has no
`Task.uncancel`.

Everything else is engine.io's: the socket's packets, `receive` (pongs
schedule the next ping, messages reach python-socketio), `close`, and the
queue the writer drains, which `frame_writer` reads to tell a parked writer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

from engineio import exceptions
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket

logger = logging.getLogger(__name__)

T = TypeVar("T")

_HAS_UNCANCEL = hasattr(asyncio.Task, "uncancel")  # Python 3.11 and later


def runs_here(handler: Any) -> bool:
    """Whether `handler` is engine.io's own websocket handler of a connection opening as one."""
    socket = getattr(handler, "__self__", None)
    return (_HAS_UNCANCEL
            and getattr(handler, "__func__", None) is AsyncSocket._websocket_handler
            and isinstance(socket, AsyncSocket) and not socket.connected)


class SilenceTimer:
    """`asyncio.timeout(limit)` around each of a task's waits, from one timer that re-arms.

    Each wait goes through `within`; the timer fires at most about twice per
    `limit` and cancels the task only if its current wait has lasted `limit`
    seconds by then, as a timeout around that wait would have. `within` then
    takes the cancellation back (`Task.uncancel`, as `asyncio.timeout` does) and
    raises TimeoutError; a cancellation from outside passes through as it came.
    """

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._waiting_since = self._loop.time()
        self._waiting = False
        self._fired = False
        self._handle = self._loop.call_at(self._waiting_since + limit, self._check)

    async def within(self, awaitable: Awaitable[T]) -> T:
        """`awaitable`'s result; TimeoutError if it kept the task waiting `limit` seconds."""
        self._waiting_since, self._waiting = self._loop.time(), True
        try:
            return await awaitable
        except asyncio.CancelledError:
            if not self._fired or self._task is None:
                raise
            self._fired = False
            self._task.uncancel()  # type: ignore[attr-defined]  # 3.11 on, as `runs_here` asks
            raise TimeoutError from None
        finally:
            self._waiting = False

    def _check(self) -> None:
        now = self._loop.time()
        due = self._waiting_since + self.limit
        if self._waiting and now >= due and self._task is not None:
            self._fired = True
            self._task.cancel()
            return
        self._handle = self._loop.call_at(due if self._waiting else now + self.limit,
                                          self._check)

    def close(self) -> None:
        self._handle.cancel()


async def run_websocket(socket: AsyncSocket, ws: Any) -> None:
    """engine.io's websocket handler for a connection that opened as a websocket."""
    server = socket.server
    silence_limit = server.ping_interval + server.ping_timeout  # engine.io's own bound
    socket.connected = True
    socket.upgraded = True
    writer = asyncio.ensure_future(_write(socket, ws, silence_limit))
    silence = SilenceTimer(silence_limit)
    while True:
        try:
            data = await silence.within(ws.wait())
        except (asyncio.CancelledError, Exception):  # engine.io's handler ends on either
            break
        if data is None:  # the client closed it
            break
        if len(data) > server.max_http_buffer_size:  # engine.io: "packet is too large"
            break
        try:
            await socket.receive(eio_packet.Packet(encoded_packet=data))
        except exceptions.UnknownPacketError:
            pass
        except exceptions.SocketIsClosedError:
            break
        except Exception:
            logger.exception("a websocket packet could not be handled")
    silence.close()
    await socket.queue.put(None)  # the writer's end
    await writer
    await socket.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)


async def _write(socket: AsyncSocket, ws: Any, silence_limit: float) -> None:
    """Send what the socket's queue holds, a batch at a time, until its end or a failure."""
    silence = SilenceTimer(silence_limit)
    try:
        while True:
            packets = await _next_batch(socket.queue, silence)
            if not packets:
                break
            try:
                for packet in packets:
                    await ws.send(packet.encode())
            except Exception:
                break
    finally:
        silence.close()
    await ws.close()


async def _next_batch(queue: asyncio.Queue[Any], silence: SilenceTimer) -> list[Any]:
    """`AsyncSocket.poll` without its task: the packets waiting, [] at the end or on silence."""
    try:
        first = await silence.within(queue.get())
    except (asyncio.CancelledError, TimeoutError):
        return []
    queue.task_done()
    if first is None:
        return []
    packets = [first]
    while True:
        try:
            packet = queue.get_nowait()
        except asyncio.QueueEmpty:
            return packets
        queue.task_done()
        if packet is None:
            queue.put_nowait(None)  # the end stays for the next wait, as in engine.io's poll
            return packets
        packets.append(packet)
