"""Load: many idle connections held open while messages flow.

Opens `connections` Socket.IO clients (websocket) spread over `rooms` chats,
reads the server's resident memory before and after to get the memory per
idle connection, then measures the send round trip (authorization fetch, emit,
ack) of a few active senders while every connection receives the broadcasts.

    python -m bench.load --connections 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from typing import Any

import aiohttp
import socketio

from .processes import chat_server, prepare_rooms
from .stats import summary_ms


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


async def _connect_many(url: str, token: str, rooms: list[str], count: int,
                        received: list[int]) -> list[socketio.AsyncClient]:
    clients = []

    async def one(index: int) -> socketio.AsyncClient:
        client = socketio.AsyncClient(reconnection=False)

        @client.on("message")
        async def _count(_message: Any) -> None:
            received[0] += 1

        await client.connect(url, auth={"token": token}, transports=["websocket"],
                             wait_timeout=30)
        ack = await client.call("join", {"chat_id": rooms[index % len(rooms)]}, timeout=30)
        assert ack["ok"], ack
        return client

    for start in range(0, count, 50):  # connect in batches, as a class joining would
        clients += await asyncio.gather(*(one(i) for i in range(start, min(count, start + 50))))
    return clients


async def _timed_sends(url: str, token: str, room: str, count: int) -> list[float]:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, auth={"token": token}, transports=["websocket"])
    await client.call("join", {"chat_id": room})
    samples = []
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        for _ in range(count):
            start = time.perf_counter()
            async with http.post(url + "/api/message-auth", json={"chat_id": room}) as response:
                auth = (await response.json())["auth"]
            ack = await client.call("send_message", {"chat_id": room, "text": "load",
                                                     "auth": auth,
                                                     "client_id": uuid.uuid4().hex}, timeout=60)
            assert ack["ok"], ack
            samples.append(time.perf_counter() - start)
    await client.disconnect()
    return samples


async def _run(url: str, pid: int, tokens: dict[str, str], rooms: list[str], connections: int,
               senders: int, sends: int) -> dict[str, Any]:
    idle_samples = await asyncio.gather(*(_timed_sends(url, tokens["bob"], rooms[0], 50)
                                          for _ in range(1)))
    before = rss_bytes(pid)
    received = [0]
    clients = await _connect_many(url, tokens["alice"], rooms, connections, received)
    await asyncio.sleep(1.0)
    after = rss_bytes(pid)
    started = time.perf_counter()
    loaded = await asyncio.gather(*(_timed_sends(url, tokens["bob"], rooms[i % len(rooms)],
                                                 sends) for i in range(senders)))
    # Every send reaches each listener of its room; wait until all have landed.
    expected = sum(sends * sum(1 for c in range(connections) if c % len(rooms) == i % len(rooms))
                   for i in range(senders))
    deadline = time.monotonic() + 60
    while received[0] < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(client.disconnect() for client in clients))
    flat = [s for batch in loaded for s in batch]
    return {
        "connections": connections, "rooms": len(rooms), "senders": senders,
        "memory_per_idle_connection_kib": round((after - before) / connections / 1024, 1),
        "server_rss_mib": {"before": round(before / 2**20, 1), "after": round(after / 2**20, 1)},
        "send_unloaded": summary_ms([s for batch in idle_samples for s in batch]),
        "send_loaded": summary_ms(flat),
        "deliveries_per_s": round(received[0] / elapsed, 1),
        "deliveries": received[0], "deliveries_expected": expected,
    }


def run(connections: int = 500, rooms: int = 5, senders: int = 5, sends: int = 100,
        ) -> dict[str, Any]:
    with chat_server(None, prepare=lambda db: prepare_rooms(db, rooms)) as info:
        return asyncio.run(_run(info["url"], info["pid"], info["tokens"],
                                [f"room-{i}" for i in range(rooms)], connections, senders, sends))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--sends", type=int, default=100)
    print(json.dumps(run(parser.parse_args().connections, sends=parser.parse_args().sends),
                     indent=2))


if __name__ == "__main__":
    main()
