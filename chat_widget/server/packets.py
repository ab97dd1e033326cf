"""Socket.IO packets as the chat server sends them: JSON text, never binary attachments.

python-socketio's `Packet` walks the whole payload of every packet it makes,
looking for bytes to send as binary attachments (`data_is_binary`, in
Python), before encoding it with the json module. Every payload of the
protocol is a JSON object: the walk never finds anything, yet for a message's
ack and its broadcast it cost more than the encoding itself (measured: about
three quarters of making the ack packet of a short message). This class skips
the walk; the encoding (the same json module, same options) and the reading
of what clients send are python-socketio's own, so every byte on the wire is
as before.
"""

from __future__ import annotations

from typing import Any

from socketio.packet import Packet


class JsonPacket(Packet):  # type: ignore[misc]
    """A Socket.IO packet whose payload is known to hold no bytes."""

    uses_binary_events = False

    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        return False
