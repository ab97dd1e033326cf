"""History at scale: the latest 50 of a chat holding a million messages, and catch-up.

Rows are bulk-loaded straight into the database (the server's own schema),
then read through the server's HTTP route, the way clients page.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import requests
import socketio

from .processes import chat_server
from .stats import summary_ms


async def bulk_load(db_url: str, chat_id: str, count: int,
                    text_of: Callable[[int], str] = "message {}".format) -> None:
    """Insert `count` messages into `chat_id` in large transactions, seq 1..count
    (`text_of(seq)` is each one's text)."""
    await bulk_load_chats(db_url, {chat_id: count}, text_of)


async def bulk_load_chats(db_url: str, counts: dict[str, int],
                          text_of: Callable[[int], str] = "message {}".format,
                          sender_id: str = "alice", workspace_id: str = "demo",
                          read_by_sender: bool = False) -> None:
    """Seed the demo, add the chats of `counts` that are missing (to `workspace_id`),
    and give each chat its count of messages by `sender_id`, seq 1..count
    (`read_by_sender`: with the sender's read marker at the last).

    Rows go in 50,000 to a statement: a million messages load in seconds,
    against minutes through the send path. PostgreSQL is then vacuumed and
    analysed, as its autovacuum would soon do: the planner's statistics and
    visibility map are those of a settled database, not of the minute after a
    bulk load (before, it chose a scan over every message for an index-only count).
    """
    from sqlalchemy import bindparam, select

    from chat_widget.server.schema import chats, messages, read_markers
    from chat_widget.server.seed import seed_demo
    from chat_widget.server.store import Store

    store = Store(db_url)
    await store.open()
    await seed_demo(store)

    def add_chats(conn: Any) -> None:
        known = set(conn.scalars(select(chats.c.id)))
        new = [{"id": chat_id, "workspace_id": workspace_id, "title": chat_id, "last_seq": 0,
                "last_version": 0} for chat_id in counts if chat_id not in known]
        if new:
            conn.execute(chats.insert(), new)

    def load(conn: Any, rows: list[dict[str, Any]]) -> None:
        conn.execute(messages.insert(), rows)

    def set_last_seqs(conn: Any) -> None:
        conn.execute(chats.update().where(chats.c.id == bindparam("chat"))
                     .values(last_seq=bindparam("count")),
                     [{"chat": chat_id, "count": count} for chat_id, count in counts.items()])
        if read_by_sender:
            conn.execute(read_markers.insert(), [
                {"chat_id": chat_id, "user_id": sender_id, "last_read_seq": count}
                for chat_id, count in counts.items() if count])

    await store.db.run(add_chats)
    batch: list[dict[str, Any]] = []
    for chat_id, count in counts.items():
        for seq in range(1, count + 1):
            batch.append({"id": uuid.uuid4().hex, "chat_id": chat_id, "seq": seq,
                          "sender_id": sender_id, "text": text_of(seq), "parts": [],
                          "client_id": None, "reply_to": None,
                          "created_at": "2026-11-26T00:00:00.000Z"})
            if len(batch) == 50_000:
                await store.db.run(load, batch)
                batch = []
    if batch:
        await store.db.run(load, batch)
    await store.db.run(set_last_seqs)
    await store.catch_up_search()  # SQLite: indexed for search, as a server's sends would be
    await store.close()
    if store.db.dialect == "postgresql":
        await _vacuum_analyze(db_url)


async def _vacuum_analyze(db_url: str) -> None:
    """VACUUM ANALYZE the database (it cannot run inside a transaction: its own connection)."""
    import asyncpg

    connection = await asyncpg.connect(db_url)
    try:
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


def _latest_page_samples(url: str, token: str, chat_id: str, count: int) -> list[float]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    route = f"{url}/api/chats/{chat_id}/messages"
    for _ in range(20):
        session.get(route, params={"limit": 50})
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        page = session.get(route, params={"limit": 50}).json()
        samples.append(time.perf_counter() - started)
    assert len(page["messages"]) == 50
    return samples


def _catch_up_seconds(url: str, token: str, chat_id: str, missed: int, total: int) -> float:
    """Join with after_seq `missed` messages back and page with history to the end."""
    client = socketio.Client(reconnection=False)
    client.connect(url, auth={"token": token}, transports=["websocket"])
    started = time.perf_counter()
    ack = client.call("join", {"chat_id": chat_id, "after_seq": total - missed}, timeout=60)
    got = len(ack["messages"])
    after = ack["messages"][-1]["seq"] if ack["messages"] else total - missed
    more = ack["has_more"]
    while more:
        page = client.call("history", {"chat_id": chat_id, "after_seq": after, "limit": 500},
                           timeout=60)
        got += len(page["messages"])
        after = page["messages"][-1]["seq"]
        more = page["has_more"]
    elapsed = time.perf_counter() - started
    client.disconnect()
    assert got == missed, (got, missed)
    return elapsed


def run(db_url: str, stored: int, samples: int) -> dict[str, Any]:
    asyncio.run(bulk_load(db_url, "general", stored))
    with chat_server(db_url) as info:
        token = info["tokens"]["alice"]
        latest = summary_ms(_latest_page_samples(info["url"], token, "general", samples))
        catch_up = _catch_up_seconds(info["url"], token, "general", min(10_000, stored), stored)
    return {"stored_messages": stored, "latest_50_http": latest,
            "catch_up_10000_s": round(catch_up, 3)}
