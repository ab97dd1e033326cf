"""Broadcasts that cost one queue put per receiver: python-socketio's manager minus a task each.

python-socketio's `AsyncManager.emit` already encodes a callback-less
broadcast once for all receivers, but then starts one asyncio task per
receiver just to put that packet on the receiver's Engine.IO queue, and
waits for them all. The put never waits (the queues are unbounded), so the
tasks buy nothing: with 100 receivers they were the largest Python cost of
a message after the websocket writes themselves. `DirectEmitManager` puts
the packet on each queue in turn instead, in the same order. Emits with a
callback (each receiver needs its own ack id) keep the library's path.

Given a `FrameWriter` (frame_writer.py), the packet's websocket frame is
also built once and written straight to every plain websocket receiver
that may take it; the others get the queue put as before.

`emit_each` sends one event with a payload of its own to each of many rooms
(`chat_activity`: each member's unread counts). Here that is a broadcast per
room; the Redis manager carries the whole batch to the other processes as
one pub/sub message instead of one per room.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from engineio import packet as eio_packet
from socketio import packet
from socketio.async_manager import AsyncManager

from .frame_writer import FrameWriter, wire_bytes

logger = logging.getLogger(__name__)


class DirectEmitManager(AsyncManager):  # type: ignore[misc]
    """The in-process client manager, with broadcasts handed to each socket directly.

    Also the base of the Redis manager (after `AsyncPubSubManager` in its
    bases), so an emit that arrives through Redis takes this path too.
    """

    frame_writer: FrameWriter | None = None
    """The server's websocket fast path (`use_frame_writer`), None for queues only."""

    def use_frame_writer(self, frame_writer: FrameWriter | None) -> None:
        self.frame_writer = frame_writer

    async def emit(self, event: str, data: Any, namespace: str, room: Any = None,
                   skip_sid: Any = None, callback: Any = None, to: Any = None,
                   **kwargs: Any) -> None:
        if callback is not None:
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                               callback=callback, to=to, **kwargs)
            return
        await self._broadcast(event, data, namespace, to or room, skip_sid, lazy=False)

    async def _broadcast(self, event: str, data: Any, namespace: str, room: Any,
                         skip_sid: Any, lazy: bool) -> None:
        """A callback-less emit: encoded once, then the fast path or each socket's queue."""
        if namespace not in self.rooms:
            return
        skipped = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
        receivers = [eio_sid for sid, eio_sid in self.get_participants(namespace, room)
                     if sid not in skipped]
        if not receivers:
            return  # nobody here (a user of the workspace connected to another process)
        # The library's rule: a tuple is several arguments, None is none.
        arguments = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        encoded = self.server.packet_class(packet.EVENT, namespace=namespace,
                                           data=[event, *arguments]).encode()
        frames = [eio_packet.Packet(eio_packet.MESSAGE, part)
                  for part in (encoded if isinstance(encoded, list) else [encoded])]
        if self.frame_writer is not None:
            receivers = self.frame_writer.write(receivers, wire_bytes(frames), lazy)
        send = self.server.eio.send_packet
        for eio_sid in receivers:
            try:
                for frame in frames:
                    await send(eio_sid, frame)
            except Exception as error:  # one closing socket must not stop the others
                logger.debug("could not queue %s for %s: %s", event, eio_sid, error)

    async def emit_each(self, event: str, items: Sequence[tuple[str, Any]],
                        namespace: str = "/") -> None:
        """Emit `event` to each `(room, data)` of `items`, in order (JSON data only)."""
        await self.emit_each_here(event, items, namespace)

    async def emit_each_here(self, event: str, items: Sequence[tuple[str, Any]],
                             namespace: str = "/") -> None:
        """`emit_each` to this process's connections only; the frames are lazy
        (frame_writer.py): they wait up to half a second for each connection's next
        write."""
        for room, data in items:
            await self._broadcast(event, data, namespace, room, None, lazy=True)
