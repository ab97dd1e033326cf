"""Broadcast frames written straight to websockets keep every connection's order and limits.

The server runs in this process (a real aiohttp server on a loopback port)
so the tests can emit from it and read its fast path's counters; every
client is real: python-socketio on a websocket, on long-polling and
upgrading from it, a raw websocket that negotiated permessage-deflate, the
official JavaScript socket.io-client, and a raw websocket that stops reading.
Each runs with the fast path on ("direct") and off whole ("queues").
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import os
import socket
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import socketio
from aiohttp import web_ws

from bench.raw_listener import masked_text_frame
from chat_widget.server import ChatServer, ServerConfig
from chat_widget.server.frame_writer import missing_internals

PEER = Path(__file__).resolve().parents[1] / "js_client"
ROOM = "probe-room"
WAIT = 60.0  # generous: a loaded two-core machine


@pytest.fixture(params=["direct", "queues"])
async def server(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ChatServer]:
    """A demo server in this process; pings every second (answers may take 30 s)."""
    running = ChatServer(ServerConfig(
        port=0, demo=True, db_url=f"sqlite:///{tmp_path / 'chat.db'}",
        ping_interval=1.0, ping_timeout=30.0, direct_frames=request.param == "direct"))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


def eio_sid_of(server: ChatServer, sid: str) -> str:
    return str(server.sio.manager.eio_sid_from_sid(sid, "/"))


async def wait_for(condition: Any, what: str) -> None:
    """Wait (woken every 20 ms) until `condition()` holds, within `WAIT` seconds."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@dataclass
class Received:
    """The probe numbers a client got, in order, and whether `done` came."""

    probes: list[int] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def take(self, data: Any) -> None:
        if data == "done":
            self.done.set()
        else:
            self.probes.append(data["n"])


async def python_client(url: str, token: str, transports: list[str] | None,
                        ) -> tuple[socketio.AsyncClient, Received]:
    client, received = socketio.AsyncClient(reconnection=False), Received()

    async def probe(data: Any) -> bool:
        received.take(data)
        return True  # the answer to an emit that asked for one

    client.on("probe", probe)
    await client.connect(url, auth={"token": token}, transports=transports,
                         wait_timeout=WAIT)
    return client, received


class DeflateClient:
    """A raw Engine.IO/Socket.IO websocket through aiohttp with permessage-deflate."""

    def __init__(self) -> None:
        self.received = Received()
        self.sid = ""
        self._task: asyncio.Task[None] | None = None

    async def open(self, session: aiohttp.ClientSession, url: str, token: str) -> None:
        self.ws = await session.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket",
                                           compress=15)
        assert self.ws.compress == 15, "the server did not take permessage-deflate"
        assert (await self.ws.receive_str()).startswith("0{")
        await self.ws.send_str("40" + json.dumps({"token": token}))
        while not self.sid:
            text = await self.ws.receive_str()
            if text.startswith("40{"):
                self.sid = json.loads(text[2:])["sid"]
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            text = message.data
            if text == "2":
                await self.ws.send_str("3")
            elif text.startswith("42"):  # an event; with an ack id, digits follow "42"
                event, data = json.loads(text[2:].lstrip("0123456789"))
                if event == "probe":
                    self.received.take(data)

    async def close(self) -> None:
        await self.ws.close()
        if self._task is not None:
            await self._task


class RawReader:
    """A hand-driven websocket on a small receive buffer that can stop reading.

    While stopped it still answers pings blindly (a pong a second), as a
    client whose page is busy but alive would; `read_probes` then reads.
    """

    def __init__(self) -> None:
        self.sid = ""
        self.received = Received()
        self.buffer = b""

    async def open(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.setblocking(False)
        await asyncio.get_running_loop().sock_connect(raw, (parts.hostname, parts.port))
        self.reader, self.writer = await asyncio.open_connection(sock=raw)
        key = base64.b64encode(os.urandom(16)).decode()
        self.writer.write((
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        assert b" 101 " in head.split(b"\r\n", 1)[0]
        assert (await self.frame()).startswith("0{")
        self.writer.write(masked_text_frame("40" + json.dumps({"token": token})))
        while not self.sid:
            text = await self.frame()
            if text.startswith("40{"):
                self.sid = json.loads(text[2:])["sid"]
        self._pongs = asyncio.create_task(self._blind_pongs())

    async def _blind_pongs(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.writer.write(masked_text_frame("3"))

    async def frame(self) -> str:
        """The next text frame's payload (server frames are unmasked, unfragmented)."""
        first, second = await self.reader.readexactly(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
        payload = await self.reader.readexactly(length)
        assert first == 0x81, f"not a final text frame: {first:#x}"
        return payload.decode()

    async def read_probes(self) -> None:
        while not self.received.done.is_set():
            text = await self.frame()
            if text.startswith("42"):
                event, data = json.loads(text[2:].lstrip("0123456789"))
                if event == "probe":
                    self.received.take(data)

    def close(self) -> None:
        self._pongs.cancel()
        self.writer.close()


async def js_client(url: str, token: str) -> tuple[asyncio.subprocess.Process, str]:
    assert (PEER / "node_modules" / "socket.io-client").exists(), \
        "run scripts/test.sh (it installs the peer with npm ci)"
    process = await asyncio.create_subprocess_exec(
        "node", "probes.mjs", url, token, cwd=PEER,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), WAIT)
    assert line, (await process.stderr.read()).decode() if process.stderr else "no output"
    return process, json.loads(line)["sid"]


def payload(n: int) -> dict[str, Any]:
    """Probe `n`, padded now and then past the 126 and 65,536 byte frame-length forms."""
    pad = {0: 0, 1: 200, 2: 3000}.get(n % 11, 0) if n % 97 else 70_000
    return {"n": n, "pad": "x" * pad}


async def emit_probes(server: ChatServer, sids: list[str], count: int) -> dict[str, list[int]]:
    """Broadcasts (some lazy, as chat_activity goes), per-connection emits, and emits
    that ask for an answer (which go through engine.io's queue, as acks do),
    interleaved, some in the same loop pass; returns what each connection should get,
    in order."""
    sio, expected = server.sio, {sid: [] for sid in sids}
    for n in range(count):
        target = sids[n % len(sids)]
        kind = n % 5
        if kind < 2:
            if kind:
                await sio.manager.emit_each("probe", [(ROOM, payload(n))])
            else:
                await sio.emit("probe", payload(n), room=ROOM)
            for sid in sids:
                expected[sid].append(n)
        elif kind == 2:
            await sio.emit("probe", payload(n), to=target)
            expected[target].append(n)
        else:
            await sio.emit("probe", payload(n), to=target, callback=lambda *_: None)
            expected[target].append(n)
        if n % 7 == 0:
            await asyncio.sleep(0)  # let writers and the flush run between some emits
        if n % 60 == 0:
            await asyncio.sleep(0.01)
    await sio.emit("probe", "done", room=ROOM)
    return expected


async def test_frames_keep_each_connections_emit_order_on_every_client(
        server: ChatServer) -> None:
    url, tokens = server.url, server.demo_tokens
    ws_client, ws_got = await python_client(url, tokens["alice"], ["websocket"])
    upgrading, upgrading_got = await python_client(url, tokens["bob"], None)
    polling, polling_got = await python_client(url, tokens["carol"], ["polling"])
    session = aiohttp.ClientSession()
    deflate = DeflateClient()
    await deflate.open(session, url, tokens["alice"])
    node, node_sid = await js_client(url, tokens["bob"])
    try:
        sids = [ws_client.get_sid(), upgrading.get_sid(), polling.get_sid(), deflate.sid,
                node_sid]
        await wait_for(lambda: upgrading.transport() == "websocket", "the upgrade")
        for sid in sids:
            await server.sio.enter_room(sid, ROOM)
        # A real request with an answer and broadcasts of its own, meanwhile.
        joining = asyncio.create_task(ws_client.call("join", {"chat_id": "general"}))
        expected = await emit_probes(server, sids, 400)
        assert (await joining)["ok"]
        node_out, node_err = await asyncio.wait_for(node.communicate(), WAIT)
        assert node.returncode == 0, node_err.decode()
        for got in (ws_got, upgrading_got, polling_got, deflate.received):
            await asyncio.wait_for(got.done.wait(), WAIT)
        assert ws_got.probes == expected[sids[0]]
        assert upgrading_got.probes == expected[sids[1]]
        assert polling_got.probes == expected[sids[2]]
        assert deflate.received.probes == expected[sids[3]]
        assert json.loads(node_out.decode().splitlines()[-1])["probes"] == expected[sids[4]]
        frames = server.frames
        if server.config.direct_frames:
            assert frames is not None, missing_internals(server.sio.eio)
            assert frames.stats.direct > 0  # the plain websockets took the fast path
            assert frames.stats.compressed >= 1  # the deflate ones never did
            for sid in (sids[2], sids[3]):  # long-polling, deflate: no link, the queue
                assert eio_sid_of(server, sid) not in frames.links
            assert eio_sid_of(server, sids[0]) in frames.links
        else:
            assert frames is None
    finally:
        if node.returncode is None:
            node.kill()
        await deflate.close()
        await session.close()
        # Closed from the server's end first: a long-poll a client leaves waits for
        # its ping timeout before the server lets it go.
        await server.sio.disconnect(polling.get_sid())
        for client in (ws_client, upgrading, polling):
            await client.disconnect()


@pytest.fixture
async def counted_link(server: ChatServer) -> AsyncIterator[tuple[Received, list[int]]]:
    """A websocket client in ROOM on the fast path, and the count of its link's writes."""
    client, got = await python_client(server.url, server.demo_tokens["alice"], ["websocket"])
    sid = client.get_sid()
    await server.sio.enter_room(sid, ROOM)
    assert server.frames is not None
    link = server.frames.links[eio_sid_of(server, sid)]
    await wait_for(lambda: link.writable(0.0, 0), "the writer to wait on its queue")
    transport, writes = link.transport, [0]
    real_write = transport.write

    def counted(data: Any) -> None:
        writes[0] += 1
        real_write(data)

    transport.write = counted  # type: ignore[method-assign]
    try:
        yield got, writes
    finally:
        del transport.write
        await client.disconnect()


@pytest.mark.parametrize("server", ["direct"], indirect=True)  # queues write frame by frame
async def test_a_burst_in_one_loop_pass_leaves_in_one_write(
        server: ChatServer, counted_link: tuple[Received, list[int]]) -> None:
    got, writes = counted_link
    for n in range(30):  # no await in between that waits: one loop pass
        await server.sio.emit("probe", {"n": n, "pad": "z" * 100}, room=ROOM)
    await server.sio.emit("probe", "done", room=ROOM)
    await asyncio.wait_for(got.done.wait(), WAIT)
    assert got.probes == list(range(30))
    assert writes[0] == 1


@pytest.mark.parametrize("server", ["direct"], indirect=True)
async def test_lazy_frames_wait_for_the_connections_next_write(
        server: ChatServer, counted_link: tuple[Received, list[int]]) -> None:
    got, writes = counted_link
    assert server.frames is not None
    server.frames.lazy_seconds = 600.0  # only the urgent frame can take them out
    for n in range(5):  # each in a loop pass of its own
        await server.sio.manager.emit_each("probe", [(ROOM, {"n": n})])
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)
    assert writes[0] == 0 and got.probes == []
    await server.sio.emit("probe", "done", room=ROOM)
    await asyncio.wait_for(got.done.wait(), WAIT)
    assert got.probes == list(range(5))
    assert writes[0] == 1


@pytest.mark.parametrize("server", ["direct"], indirect=True)
async def test_lazy_frames_alone_leave_when_their_timer_fires(
        server: ChatServer, counted_link: tuple[Received, list[int]]) -> None:
    got, writes = counted_link
    assert server.frames is not None
    server.frames.lazy_seconds = 0.05
    await server.sio.manager.emit_each("probe", [(ROOM, {"n": 7})])
    await server.sio.manager.emit_each("probe", [(ROOM, "done")])
    await asyncio.wait_for(got.done.wait(), WAIT)
    assert got.probes == [7]
    assert writes[0] == 1  # both were pending when the timer fired


def server_transport_of(server: ChatServer, client_port: int) -> asyncio.Transport:
    """The server's end of the connection from local port `client_port`."""
    assert server._runner is not None and server._runner.server is not None
    for handler in server._runner.server.connections:
        transport = handler.transport
        if transport is not None and transport.get_extra_info("peername")[1] == client_port:
            return transport
    raise AssertionError("no such connection")


async def test_a_reader_that_stops_gets_everything_later_and_costs_bounded_memory(
        server: ChatServer) -> None:
    url, tokens = server.url, server.demo_tokens
    client, got = await python_client(url, tokens["alice"], ["websocket"])
    stalled = RawReader()
    await stalled.open(url, tokens["bob"])
    try:
        transport = server_transport_of(server, stalled.writer.get_extra_info("sockname")[1])
        # The kernel's buffers would absorb megabytes on loopback; keep them small so
        # the backlog shows in the server's own buffers.
        transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF,
                                                      8192)
        for sid in (client.get_sid(), stalled.sid):
            await server.sio.enter_room(sid, ROOM)
        queued_before = server.frames.stats.queued if server.frames else 0
        count, pad = 200, "y" * 16_000
        for n in range(count):
            await server.sio.emit("probe", {"n": n, "pad": pad}, room=ROOM)
            if n % 10 == 0:
                await asyncio.sleep(0)
        await server.sio.emit("probe", "done", room=ROOM)
        await asyncio.wait_for(got.done.wait(), WAIT)
        assert got.probes == list(range(count))  # the other receiver was not held up
        # What the server holds for the stalled one beyond engine.io's queue: its
        # transport's buffer, up to the high-water mark plus what aiohttp's writer
        # writes before it looks at the buffer (its writer limit) plus a frame or two.
        _, high_water = transport.get_write_buffer_limits()
        writer_limit = inspect.signature(web_ws.WebSocketResponse).parameters["writer_limit"]
        assert transport.get_write_buffer_size() <= \
            high_water + writer_limit.default + 2 * 16_100
        assert transport.get_write_buffer_size() > 0  # it did back up: the check means something
        if server.frames is not None:
            assert server.frames.stats.queued > queued_before  # back-pressure: the queue
            link = server.frames.links[eio_sid_of(server, stalled.sid)]
            assert link.pending_size == 0
        await asyncio.wait_for(stalled.read_probes(), WAIT)
        assert stalled.received.probes == list(range(count))
    finally:
        stalled.close()
        await client.disconnect()


async def test_without_the_internals_it_needs_the_server_keeps_engineios_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert missing_internals(socketio.AsyncServer(async_mode="aiohttp").eio) is None
    monkeypatch.setattr(web_ws.WebSocketResponse, "compress", None)  # as if aiohttp changed
    running = ChatServer(ServerConfig(port=0, demo=True,
                                      db_url=f"sqlite:///{tmp_path / 'chat.db'}"))
    await running.start()
    try:
        assert running.frames is None
        client, got = await python_client(running.url, running.demo_tokens["alice"],
                                          ["websocket"])
        try:
            sid = client.get_sid()
            await running.sio.enter_room(sid, ROOM)
            expected = await emit_probes(running, [sid], 60)
            await asyncio.wait_for(got.done.wait(), WAIT)
            assert got.probes == expected[sid]
        finally:
            await client.disconnect()
    finally:
        await running.stop()
