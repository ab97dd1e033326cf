"""Messages per second through one server: concurrent senders, one listener.

Each sender fetches an authorization string and emits `send_message`, keeping
one send in flight per client, as real clients do. The floor is the same
layout against a bare python-socketio server (`broadcast` event with ack plus
one keep-alive GET per message), run in the same process, on the same stack.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import aiohttp
import socketio

from .processes import bare_server, chat_server


async def _sender(url: str, token: str | None, bare: bool, stop_at: float,
                  counts: list[int]) -> None:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, auth={"token": token} if token else None,
                         transports=["websocket"])
    await client.call("join", {"chat_id": "general"})
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession(headers=headers) as http:
        while time.perf_counter() < stop_at:
            if bare:
                async with http.get(url + "/api/health") as response:
                    auth = (await response.json())["auth"]
                ack = await client.call("broadcast", {"text": "hi", "auth": auth}, timeout=30)
            else:
                async with http.post(url + "/api/message-auth",
                                     json={"chat_id": "general"}) as response:
                    auth = (await response.json())["auth"]
                ack = await client.call("send_message", {
                    "chat_id": "general", "text": "hi", "auth": auth,
                    "client_id": uuid.uuid4().hex}, timeout=30)
            if ack.get("ok"):
                counts[0] += 1
    await client.disconnect()


async def _load(url: str, tokens: list[str | None], bare: bool, seconds: float) -> float:
    counts = [0]
    stop_at = time.perf_counter() + seconds
    start = time.perf_counter()
    await asyncio.gather(*(_sender(url, t, bare, stop_at, counts) for t in tokens))
    return counts[0] / (time.perf_counter() - start)


def run(seconds: float, senders: int = 8) -> dict[str, Any]:
    with bare_server("aiohttp") as info:
        floor = asyncio.run(_load(info["url"], [None] * senders, True, seconds))
    with chat_server() as info:
        tokens = [info["tokens"]["alice" if i % 2 else "bob"] for i in range(senders)]
        chat = asyncio.run(_load(info["url"], tokens, False, seconds))
    return {"senders": senders, "seconds": seconds,
            "bare_messages_per_s": round(floor, 1), "chat_messages_per_s": round(chat, 1),
            "throughput_ratio": round(chat / floor, 3)}


def compare_stacks(count: int) -> dict[str, Any]:
    """The bare emit-with-ack round trip on aiohttp and on uvicorn (ASGI)."""
    from .latency import bare_floors

    results = {stack: bare_floors(count, stack) for stack in ("aiohttp", "uvicorn")}
    for result in results.values():
        result.pop("samples")
    return results
