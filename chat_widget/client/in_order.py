"""python-socketio's threaded client, handling what the server sends in the order it was sent.

engine.io's threaded client starts a new thread for every packet it receives,
so two events sent back to back can be handled in either order: the last
`message_delta` of a reply after the reply itself (a widget would show a
partial answer under the whole one), or a message's broadcast after a later
one's. Here every socket.io packet of a connection is handled on one thread,
in arrival order. Handlers must therefore never wait for the server: the
client's handlers only take its lock, update state and queue work elsewhere,
and an ack waited for under that lock is waited for with `Condition.wait`,
which lets the handler thread in.
"""

from __future__ import annotations

from typing import Any

import engineio
import socketio
from engineio import packet

from .threads import SerialExecutor


class _InOrderEngineIOClient(engineio.Client):
    """engine.io's client with its message packets queued to one thread instead of one each."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inbox = SerialExecutor("chat-client-inbox")

    def _receive_packet(self, pkt: packet.Packet) -> None:
        handler = self.handlers.get("message")
        if pkt.packet_type == packet.MESSAGE and handler is not None:
            self.inbox.submit(handler, pkt.data)
        else:
            super()._receive_packet(pkt)


class InOrderClient(socketio.Client):
    """A python-socketio `Client` whose event handlers run one at a time, in arrival order."""

    def _engineio_client_class(self) -> type[engineio.Client]:
        return _InOrderEngineIOClient

    def shutdown(self) -> None:
        """Disconnect for good, and end the handler thread once what arrived is handled."""
        super().shutdown()
        self.eio.inbox.stop(timeout=0)
