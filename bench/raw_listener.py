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
        self.arrived = asyncio.Event()  # more bytes came during the handshake
        self.lost = False  # the server closed the link (say, a missed heartbeat)
        self.pongs = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.arrived.set()

    def data_received(self, data: bytes) -> None:
        if not self.counting:
            self.buffer += data
            self.arrived.set()
            # The server pings from its open packet on, however long the join takes.
            if PING_FRAME in data and self.transport is not None:
                self.transport.write(masked_text_frame("3"))
                self.pongs += 1
            if not self.handshake_done.done() and b"\r\n\r\n" in self.buffer:
                head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
                self.handshake_done.set_result(head)
            return
        chunk = self.buffer + data
        self.counts[0] += chunk.count(EVENT_MARK)
        if len(self.counts) > 1:
            self.counts[1] += chunk.count(ACTIVITY_MARK)
        # A ping wholly inside the carried-over tail was answered with the last chunk.
        if chunk.find(PING_FRAME, max(0, len(self.buffer) - len(PING_FRAME) + 1)) >= 0 \
                and self.transport is not None:
            self.transport.write(masked_text_frame("3"))
            self.pongs += 1
        self.buffer = chunk[-TAIL:]

    async def read_until(self, marker: bytes, timeout: float = 30.0) -> bytes:
        """Wait for `marker` (woken by each arrival, not polling: thousands open at once)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while marker not in self.buffer:
            if self.lost:
                raise ConnectionError(f"closed before {marker!r}")
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(),
                                       deadline - asyncio.get_running_loop().time())
            except asyncio.TimeoutError:
                raise TimeoutError(f"no {marker!r}") from None
        before, _, self.buffer = self.buffer.partition(marker)
        return before


async def open_listener(url: str, token: str | None, chat_id: str,
                        counts: list[int], stages: dict[str, float] | None = None,
                        ) -> asyncio.Transport:
    """Connect, join `chat_id`, and start counting; returns the transport to close later.

    `stages`, when given, receives the seconds each request took, as it
    succeeds: `upgrade` (the HTTP request that opens the websocket), `connect`
    (Socket.IO's), `join`; a failure leaves its stage out.
    """
    stages = {} if stages is None else stages
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    started = loop.time()
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
    stages["upgrade"], started = loop.time() - started, loop.time()
    transport.write(masked_text_frame("40" + (json.dumps({"token": token}) if token else "")))
    await listener.read_until(b'"sid"')  # Socket.IO connect acknowledged
    stages["connect"], started = loop.time() - started, loop.time()
    transport.write(masked_text_frame("421" + json.dumps(["join", {"chat_id": chat_id}])))
    await listener.read_until(b"431[")
    if not listener.buffer.startswith(b'{"ok":true'):
        transport.close()
        raise ConnectionError(f"join refused: {listener.buffer[:200]!r}")
    stages["join"] = loop.time() - started
    leftover, listener.buffer = listener.buffer, b""
    listener.counting = True
    listener.data_received(leftover)  # events that came with the join's answer count
    return transport
