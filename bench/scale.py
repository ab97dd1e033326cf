"""Scale with work: a send's round trip and server CPU as chats and stored messages grow.

Each point is its own database, bulk-loaded into the server's schema
(`history.bulk_load_chats`), and its own server: the sender's workspace holds
1, 100 or 10,000 chats of 10 messages each, or one chat of 10 or a million
(`--quick`: 10,000). The stored messages are bob's, read up to the last by
him; alice, who sends, has read none, so her unread count covers all of
them: the case of every workspace member who never opened the chat.

alice sends to `general` over the raw protocol (`latency.raw_sender`: the
authorization fetch, emit, ack); bob reads along, marking each message read
(untimed) as a reader's widget does, so the server cannot carry its members'
counts forward and counts them again after every move of his marker. The
points are measured in turns, a round of sends each, so the machine's load
drifts over all of them alike. Server CPU per message (`fanout.cpu_seconds`,
of the server process and, on PostgreSQL, of its database backends) counts
everything the sends and reads caused: each round ends only once the server
is idle again, so work done after the ack (`chat_activity` to the workspace)
is in it. Each point is reported as a ratio to the smallest.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio

from . import postgres
from .fanout import cpu_seconds
from .history import bulk_load_chats
from .latency import raw_sender
from .processes import chat_server
from .stats import summary_ms

ROUND = 50
IDLE_INTERVAL = 0.3
DRAIN_LIMIT = 120.0
Pids = Callable[[], list[int]]  # the processes whose CPU is the server's, asked each time


@dataclass
class Point:
    """One amount of work: `chats` chats in the workspace, `stored` messages in each."""

    chats: int
    stored: int
    samples: list[float] = field(default_factory=list)
    cpu: float = 0.0
    drained: bool = True

    @property
    def name(self) -> str:
        return f"{self.chats} chats x {self.stored} messages"


def points(quick: bool) -> list[Point]:
    """The smallest first: every other point is a ratio to it."""
    stored = 10_000 if quick else 1_000_000
    return [Point(1, 10), Point(100, 10), Point(10_000, 10), Point(1, stored)]


def seed(db_url: str, point: Point) -> None:
    """`general` and chats `room-1`.. up to `point.chats`, each with `point.stored` of
    bob's messages, which he has read; alice has read none."""
    counts = {"general": point.stored,
              **{f"room-{index}": point.stored for index in range(1, point.chats)}}
    asyncio.run(bulk_load_chats(db_url, counts, sender_id="bob", read_by_sender=True))


def wait_idle(pids: Pids, limit: float = DRAIN_LIMIT) -> tuple[bool, float]:
    """Wait until the processes spend under one clock tick in an interval; (idle by
    `limit`, their CPU seconds when that interval began, so the wait itself is left out)."""
    deadline = time.monotonic() + limit
    last = cpu_seconds(pids())
    while time.monotonic() < deadline:
        time.sleep(IDLE_INTERVAL)
        now = cpu_seconds(pids())
        if now - last <= 0.011:
            return True, last
        last = now
    return False, last


def postgres_backends(db_url: str) -> list[int]:
    """The server's connections' backend pids on a PostgreSQL database (their CPU is its)."""
    import asyncpg

    async def query() -> list[int]:
        connection = await asyncpg.connect(postgres.ADMIN_URL)
        try:
            rows = await connection.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                db_url.rsplit("/", 1)[1])
        finally:
            await connection.close()
        return [row["pid"] for row in rows]

    return asyncio.run(query())


@contextmanager
def reader(url: str, token: str) -> Iterator[socketio.Client]:
    """A joined connection that marks messages read, as a reader's widget does."""
    client = socketio.Client(reconnection=False)
    client.connect(url, auth={"token": token}, transports=["websocket"])
    client.call("join", {"chat_id": "general"}, timeout=60)
    try:
        yield client
    finally:
        client.disconnect()


@contextmanager
def running(point: Point, db_url: str) -> Iterator[tuple[Callable[[], float], Pids]]:
    """The point's server on its seeded database; yields (one step: alice's send, timed,
    then bob marking it read, untimed; the pids doing its work)."""
    seed(db_url, point)
    with chat_server(db_url) as info, raw_sender(info["url"], info["tokens"]["alice"]) as send, \
            reader(info["url"], info["tokens"]["bob"]) as bob:

        def step() -> float:
            started = time.perf_counter()
            ack = send()
            elapsed = time.perf_counter() - started
            seq = ack.get("message", ack)["seq"]
            assert bob.call("mark_read", {"chat_id": "general", "seq": seq}, timeout=10)["ok"]
            return elapsed

        for _ in range(20):
            step()  # warm up, and let the pool open its connections
        backends = postgres_backends(db_url) if db_url.startswith("postgresql") else []
        yield step, lambda: [info["pid"], *backends]


def measure(db_urls: list[str], plan: list[Point], count: int) -> list[Point]:
    """`count` sends per point, in rounds of ROUND taken in turn."""
    with ExitStack() as stack:
        live = [stack.enter_context(running(point, url)) for point, url in zip(plan, db_urls,
                                                                              strict=True)]
        for _, pids in live:
            wait_idle(pids)
        for _round in range(0, count, ROUND):
            for point, (step, pids) in zip(plan, live, strict=True):
                before = cpu_seconds(pids())
                point.samples += [step() for _ in range(min(ROUND, count - len(point.samples)))]
                drained, after = wait_idle(pids)
                point.drained &= drained
                point.cpu += after - before
    return plan


def table(plan: list[Point]) -> dict[str, Any]:
    base = plan[0]
    base_p50 = summary_ms(base.samples)["p50_ms"]
    base_cpu = base.cpu / len(base.samples)
    rows = []
    for point in plan:
        send = summary_ms(point.samples)
        cpu = point.cpu / len(point.samples)
        rows.append({"chats": point.chats, "stored_per_chat": point.stored, "send": send,
                     "cpu_us_per_message": round(cpu * 1e6, 1),
                     "send_p50_ratio": round(send["p50_ms"] / base_p50, 3),
                     "cpu_ratio": round(cpu / max(base_cpu, 1e-9), 3),
                     "drained": point.drained})
    return {"points": rows,
            "worst_send_p50_ratio": max(row["send_p50_ratio"] for row in rows),
            "worst_cpu_ratio": max(row["cpu_ratio"] for row in rows)}


def run_on(engine: str, quick: bool, count: int) -> dict[str, Any]:
    plan = points(quick)
    with ExitStack() as stack:
        if engine == "sqlite":  # a million messages take 350 MB: removed after
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(
                prefix="chat-widget-scale-")))
            urls = [f"sqlite:///{folder / f'scale-{index}.db'}" for index in range(len(plan))]
        else:
            urls = [stack.enter_context(postgres.temporary_database()) for _ in plan]
        result = table(measure(urls, plan, count))
        result["load_average_at_end"] = round(os.getloadavg()[0], 2)
        return result


def run(quick: bool, count: int, engines: tuple[str, ...] = ("sqlite", "postgresql"),
        ) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for engine in engines:
        try:
            results[engine] = run_on(engine, quick, count)
        except OSError as error:  # no PostgreSQL here: say so in the figures
            results[engine] = {"error": str(error)}
    sqlite = results.get("sqlite", {})
    results["scale_send_p50_ratio"] = sqlite.get("worst_send_p50_ratio")
    results["scale_cpu_ratio"] = sqlite.get("worst_cpu_ratio")
    return results
