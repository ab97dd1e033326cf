"""The cheapest possible Socket.IO listener: a hand-driven websocket that counts events.

The fan-out benchmark must measure the server, not the Python clients on
the same two cores. This listener performs the websocket handshake and the
Engine.IO/Socket.IO connect and join by hand, then only counts the bytes
`42["message"` that begin each message frame (and, given a second slot,
`42["chat_activity"` too), and answers pings. No frame parsing, no JSON
decoding.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
from urllib.parse import urlsplit

EVENT_MARK = b'42["message"'
ACTIVITY_MARK = b'42["chat_activity"'
TAIL = max(len(EVENT_MARK), len(ACTIVITY_MARK)) - 1  # a mark split across two reads
PING_FRAME = b"\x81\x012"


def masked_text_frame(text: str) -> bytes:
    """A client-to-server text frame (clients must mask, RFC 6455 5.3)."""
    payload = text.encode()
    mask = os.urandom(4)
    header = bytearray([0x81])
    if len(payload) < 126:
        header.append(0x80 | len(payload))
    elif len(payload) < 65536:
        header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
    else:
        header += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
    return bytes(header) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class CountingListener(asyncio.Protocol):
    """Counts message frames (`counts[0]`) and, where `counts` has a second slot,
    `chat_activity` frames (`counts[1]`) in the raw byte stream after the handshake."""

    def __init__(self, counts: list[int]) -> None:
        self.counts = counts
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.counting = False
        self.handshake_done = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if not self.counting:
            self.buffer += data
            if not self.handshake_done.done() and b"\r\n\r\n" in self.buffer:
                head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
                self.handshake_done.set_result(head)
            return
        chunk = self.buffer + data
        self.counts[0] += chunk.count(EVENT_MARK)
        if len(self.counts) > 1:
            self.counts[1] += chunk.count(ACTIVITY_MARK)
        if PING_FRAME in chunk and self.transport is not None:
            self.transport.write(masked_text_frame("3"))
        self.buffer = chunk[-TAIL:]

    async def read_until(self, marker: bytes, timeout: float = 30.0) -> bytes:
        deadline = asyncio.get_running_loop().time() + timeout
        while marker not in self.buffer:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"no {marker!r}")
            await asyncio.sleep(0.005)
        before, _, self.buffer = self.buffer.partition(marker)
        return before


async def open_listener(url: str, token: str | None, chat_id: str,
                        counts: list[int]) -> asyncio.Transport:
    """Connect, join `chat_id`, and start counting; returns the transport to close later."""
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    transport, listener = await loop.create_connection(
        lambda: CountingListener(counts), parts.hostname, parts.port)
    key = base64.b64encode(os.urandom(16)).decode()
    transport.write((
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = await asyncio.wait_for(listener.handshake_done, 30)
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        raise ConnectionError(head.decode(errors="replace"))
    await listener.read_until(b'"pingInterval"')  # Engine.IO open packet
    transport.write(masked_text_frame("40" + (json.dumps({"token": token}) if token else "")))
    await listener.read_until(b'"sid"')  # Socket.IO connect acknowledged
    transport.write(masked_text_frame("421" + json.dumps(["join", {"chat_id": chat_id}])))
    await listener.read_until(b"431[")
    listener.buffer = b""
    listener.counting = True
    return transport
