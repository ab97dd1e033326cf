"""Messages per second through one server: 8 and 64 concurrent senders in one chat.

Each sender fetches an authorization string and emits `send_message`, keeping
one send in flight per client, as real clients do; every sender has joined
the chat, so it also receives every message. The floor is the same layout
against a bare python-socketio server (`broadcast` event with ack to the
room plus one keep-alive GET per message), on the same stack. The chat
server runs on SQLite and on a fresh PostgreSQL database. Beside the floor,
the bare server also sends a `chat_activity`-shaped event after each message
(`bare_same_events`), as protocol 1.1 has every stored message do: every
listener gets two events per message where the floor sends one, and on this
machine the senders, which listen too, share the cores with the server.

    python -m bench.throughput --seconds 10 --rounds 3
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .processes import bare_server, chat_server
from .senders import send_lanes


async def _load(url: str, tokens: list[str | None], seconds: float,
                bare_event: str = "broadcast") -> float:
    """Acked messages per second, timed from when every sender has connected and joined."""
    stop_at = [float("inf")]
    everyone = asyncio.Barrier(len(tokens) + 1)
    senders = asyncio.gather(*(
        send_lanes(url, token, "general", 1, lambda: time.perf_counter() < stop_at[0],
                   start_together=everyone, bare_event=bare_event)
        for token in tokens))
    await everyone.wait()
    start = time.perf_counter()
    stop_at[0] = start + seconds
    acked = await senders
    return sum(acked) / (time.perf_counter() - start)


SENDER_COUNTS = (8, 64)


def run(seconds: float, senders: tuple[int, ...] = SENDER_COUNTS,
        rounds: int = 1) -> dict[str, Any]:
    """Each sender count against the bare floor, on SQLite and on PostgreSQL.

    The goal's ratio for n senders (`throughput_<n>_ratio`) is the lower of
    the two stores': both must keep up.
    """
    from .postgres import temporary_database

    results: dict[str, Any] = {"seconds": seconds, "rounds": rounds}
    for count in senders:
        with temporary_database() as pg_url:
            result = measure(seconds, count, {"sqlite": None, "postgresql": pg_url}, rounds)
        results[str(count)] = result
        results[f"throughput_{count}_ratio"] = min(
            store["throughput_ratio"] for store in result["stores"].values())
    return results


def measure(seconds: float, senders: int, stores: dict[str, str | None],
            rounds: int = 1) -> dict[str, Any]:
    """`senders` clients (half alice, half bob) against the bare server, then each store.

    With several rounds the servers take turns and each keeps its best rate:
    other work on the machine only ever slows a run down, and taking turns
    spreads it over all of them rather than on whichever ran when it came.
    """
    best: dict[str, float] = {}
    for _round in range(rounds):
        for floor_name, event in (("bare", "broadcast"),
                                  ("bare_same_events", "broadcast_with_activity")):
            with bare_server("aiohttp") as info:
                rate = asyncio.run(_load(info["url"], [None] * senders, seconds, event))
            best[floor_name] = max(best.get(floor_name, 0.0), rate)
        for name, db_url in stores.items():
            with chat_server(db_url) as info:
                tokens = [info["tokens"]["alice" if i % 2 else "bob"] for i in range(senders)]
                rate = asyncio.run(_load(info["url"], tokens, seconds))
            best[name] = max(best.get(name, 0.0), rate)
    floor, same_events = best["bare"], best["bare_same_events"]
    return {"senders": senders, "bare_messages_per_s": round(floor, 1),
            "bare_same_events_messages_per_s": round(same_events, 1),
            "stores": {name: {"chat_messages_per_s": round(best[name], 1),
                              "throughput_ratio": round(best[name] / floor, 3),
                              "throughput_ratio_same_events": round(best[name] / same_events, 3)}
                       for name in stores}}


def main() -> None:
    """`python -m bench.throughput [--seconds S] [--senders 8,64] [--store sqlite,postgresql]
    [--rounds N]`: one JSON line per sender count, with the load average."""
    import argparse
    import json
    import os

    from .postgres import temporary_database

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--senders", default="8,64")
    parser.add_argument("--store", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    for count in (int(n) for n in args.senders.split(",")):
        with temporary_database() as pg_url:
            urls = {"sqlite": None, "postgresql": pg_url}
            stores = {name: urls[name] for name in args.store.split(",")}
            result = measure(args.seconds, count, stores, args.rounds)
        result["load_average"] = [round(x, 2) for x in os.getloadavg()]
        print(json.dumps(result), flush=True)


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


if __name__ == "__main__":
    main()
