"""A websocket connection's read and write loops, without a task and a timer per packet.

engine.io's `AsyncSocket._websocket_handler` reads each incoming packet in a
new task wrapped in `asyncio.wait_for` (a second task and a timer handle),
and its writer waits for each outgoing batch the same way. At thousands of
connections that is most of what a heartbeat costs the server: every ping
and its pong went through four tasks. `run_websocket` is the same two loops
with `asyncio.timeout`, which needs neither task nor wrapper, and is used for
connections that open as websockets (the chat's own clients do). A polling
connection upgrading to a websocket keeps engine.io's handler, whose probe
exchange it needs, and so does every connection on Python 3.10, which has no
`asyncio.timeout`.

Everything else is engine.io's: the socket's packets, `receive` (pongs
schedule the next ping, messages reach python-socketio), `close`, and the
queue the writer drains, which `frame_writer` reads to tell a parked writer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from engineio import exceptions
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket

logger = logging.getLogger(__name__)

_timeout: Any = getattr(asyncio, "timeout", None)  # Python 3.11 and later


def runs_here(handler: Any) -> bool:
    """Whether `handler` is engine.io's own websocket handler of a connection opening as one."""
    socket = getattr(handler, "__self__", None)
    return (_timeout is not None
            and getattr(handler, "__func__", None) is AsyncSocket._websocket_handler
            and isinstance(socket, AsyncSocket) and not socket.connected)


async def run_websocket(socket: AsyncSocket, ws: Any) -> None:
    """engine.io's websocket handler for a connection that opened as a websocket."""
    server = socket.server
    silence_limit = server.ping_interval + server.ping_timeout  # engine.io's own bound
    socket.connected = True
    socket.upgraded = True
    writer = asyncio.ensure_future(_write(socket, ws, silence_limit))
    while True:
        try:
            async with _timeout(silence_limit):
                data = await ws.wait()
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
    await socket.queue.put(None)  # the writer's end
    await writer
    await socket.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)


async def _write(socket: AsyncSocket, ws: Any, silence_limit: float) -> None:
    """Send what the socket's queue holds, a batch at a time, until its end or a failure."""
    while True:
        packets = await _next_batch(socket.queue, silence_limit)
        if not packets:
            break
        try:
            for packet in packets:
                await ws.send(packet.encode())
        except Exception:
            break
    await ws.close()


async def _next_batch(queue: asyncio.Queue[Any], silence_limit: float) -> list[Any]:
    """`AsyncSocket.poll` without its task: the packets waiting, [] at the end or on silence."""
    try:
        async with _timeout(silence_limit):
            first = await queue.get()
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
