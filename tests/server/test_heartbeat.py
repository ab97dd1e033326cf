"""The heartbeat: every connection pinged on time from one task, a silent one dropped."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from bench.raw_listener import open_listener
from chat_widget import demo
from chat_widget.server.app import ThreadedServer
from chat_widget.server.heartbeat import PING_SLACK

INTERVAL = 1.0  # seconds between a pong and the next ping
TIMEOUT = 4.0  # seconds a ping may go unanswered: generous, the machine may be loaded
LISTENERS = 100


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    running = demo.start_server(rate_limit=0, max_connections_per_user=0,
                                ping_interval=INTERVAL, ping_timeout=TIMEOUT)
    yield running
    running.stop()


PER_CONNECTION_TASKS = ("AsyncSocket._send_ping",  # engine.io: a sleeping task per ping
                        "AsyncSocket._websocket_handler.<locals>.websocket_wait",  # per read
                        "AsyncSocket.poll")  # per write batch (inside wait_for's own task)


def per_connection_tasks(server: ThreadedServer) -> int:
    """How many of the server's asyncio tasks are engine.io's per-connection, per-packet ones."""
    async def count() -> int:
        return sum(1 for task in asyncio.all_tasks()
                   if getattr(task.get_coro(), "__qualname__", "") in PER_CONNECTION_TASKS)
    return asyncio.run_coroutine_threadsafe(count(), server._loop).result(10)


def test_every_connection_is_pinged_on_time_without_tasks_per_packet(
        server: ThreadedServer) -> None:
    async def run() -> tuple[list[int], int]:
        listeners = [await open_listener(server.url, server.tokens["alice"], "general", [0])
                     for _ in range(LISTENERS)]
        protocols: list[Any] = [transport.get_protocol() for transport in listeners]
        try:
            started = [p.pongs for p in protocols]
            most_tasks = 0
            deadline = time.monotonic() + 60
            # Each must answer at least 3 more pings: it was pinged every cycle.
            while (any(p.pongs - s < 3 for p, s in zip(protocols, started, strict=True))
                   and not any(p.lost for p in protocols) and time.monotonic() < deadline):
                most_tasks = max(most_tasks,
                                 await asyncio.to_thread(per_connection_tasks, server))
                await asyncio.sleep(0.1)
            assert not any(p.lost for p in protocols)  # none dropped while it answered
            return [p.pongs - s for p, s in zip(protocols, started, strict=True)], most_tasks
        finally:
            for transport in listeners:
                transport.close()

    pongs, most_tasks = asyncio.run(run())
    assert min(pongs) >= 3, pongs
    # The pings wait in one queue, not a sleeping task each; reads and writes wait
    # in each connection's own two loops, not in a task per packet.
    assert most_tasks == 0


def test_a_connection_that_stops_answering_pings_is_dropped(server: ThreadedServer) -> None:
    async def run() -> tuple[int, float]:
        started = time.monotonic()  # before the server's open packet: its ping clock starts later
        pings = 0
        async with aiohttp.ClientSession() as http, http.ws_connect(
                f"{server.url}/socket.io/?EIO=4&transport=websocket", autoping=False) as ws:
            opened = await ws.receive_str()
            assert opened.startswith("0") and "sid" in json.loads(opened[1:])
            await ws.send_str("40" + json.dumps({"token": server.tokens["alice"]}))
            async for frame in ws:  # never a pong
                pings += frame.type == aiohttp.WSMsgType.TEXT and frame.data == "2"
                if time.monotonic() - started > 60:
                    break
            assert ws.closed, "never dropped"
            return pings, time.monotonic() - started

    pings, until_dropped = asyncio.run(run())
    assert pings == 1  # pinged once, and not again before the answer was due
    # The drop came no sooner than the first ping (an interval in) plus the whole timeout.
    assert until_dropped >= INTERVAL + TIMEOUT - PING_SLACK
