"""Socket.IO packets as the chat server sends them: JSON text, never binary attachments.

python-socketio's `Packet` walks the whole payload of every packet it makes,
looking for bytes to send as binary attachments (`data_is_binary`, in
Python), before encoding it with the json module. Every payload of the
protocol is a JSON object: the walk never finds anything, yet for a message's
ack and its broadcast it cost more than the encoding itself (measured: about
three quarters of making the ack packet of a short message). This class skips
the walk. It also writes its JSON with orjson (`json_text`: the same
meaning, a tenth of the time); reading what clients send stays with the json
module, as python-socketio has it.
"""

from __future__ import annotations

from typing import Any

from socketio.packet import Packet

from .. import json_text


class JsonPacket(Packet):  # type: ignore[misc]
    """A Socket.IO packet whose payload is known to hold no bytes."""

    uses_binary_events = False
    json = json_text

    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        return False
