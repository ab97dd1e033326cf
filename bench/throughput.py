"""Messages per second through one server: concurrent senders, one listener.

Each sender fetches an authorization string and emits `send_message`, keeping
one send in flight per client, as real clients do. The floor is the same
layout against a bare python-socketio server (`broadcast` event with ack plus
one keep-alive GET per message), run in the same process, on the same stack.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .processes import bare_server, chat_server
from .senders import send_lanes


async def _load(url: str, tokens: list[str | None], seconds: float) -> float:
    stop_at = time.perf_counter() + seconds
    start = time.perf_counter()
    acked = await asyncio.gather(*(
        send_lanes(url, token, "general", 1, lambda: time.perf_counter() < stop_at)
        for token in tokens))
    return sum(acked) / (time.perf_counter() - start)


def run(seconds: float, senders: int = 8) -> dict[str, Any]:
    with bare_server("aiohttp") as info:
        floor = asyncio.run(_load(info["url"], [None] * senders, seconds))
    with chat_server() as info:
        tokens = [info["tokens"]["alice" if i % 2 else "bob"] for i in range(senders)]
        chat = asyncio.run(_load(info["url"], tokens, seconds))
    return {"senders": senders, "seconds": seconds,
            "bare_messages_per_s": round(floor, 1), "chat_messages_per_s": round(chat, 1),
            "throughput_ratio": round(chat / floor, 3)}


def compare_stacks(count: int) -> dict[str, Any]:
    """The bare emit-with-ack round trip on aiohttp and on uvicorn (ASGI)."""
    from .latency import bare_floors

    results: dict[str, Any] = {stack: bare_floors(count, stack)
                               for stack in ("aiohttp", "uvicorn")}
    for result in results.values():
        result.pop("samples")
    # The event loop, by the fan-out it gives a bare server (100 clients).
    from .fanout import measure

    results["loops"] = {loop: measure("bare", 100, 5.0, loop)
                        for loop in ("asyncio", "uvloop")}
    return results
