"""Send round trip: ChatClient.send and the raw protocol against bare python-socketio floors.

Floors, measured in the same run: a bare emit-with-ack round trip, and the
same plus one keep-alive HTTP GET (what a send needs at the least: fetch an
authorization string, then emit and wait for the ack). With the string fetched
ahead (`prefetch_auth=True`) the floor is the bare emit-with-ack plus the one
thing a durable send cannot skip: its commit, measured alone as raw sqlite3
running a send's statements on the server's schema, WAL, the server's pragmas.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
import socketio

from chat_widget.server.database import _sqlite_pragmas
from chat_widget.server.store import Store

from .processes import bare_server, chat_server
from .stats import summary_ms


def _timed(action: Any, count: int, warmup: int = 20, pause: float = 0.0) -> list[float]:
    """Seconds each call of `action` took; `pause` is untimed think time between calls."""
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(count):
        if pause:
            time.sleep(pause)
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


PREFETCH_PAUSE = 0.005
"""Seconds between prefetched sends (untimed), so the string fetched ahead arrives, as it
does between a person's messages."""


def bare_floors(count: int, stack: str = "aiohttp") -> dict[str, Any]:
    with bare_server(stack) as info:
        client = socketio.Client(reconnection=False)
        client.connect(info["url"], transports=["websocket"])
        session = requests.Session()
        payload = {"chat_id": "general", "text": "hello", "auth": "x" * 120, "client_id": "c"}
        emit = _timed(lambda: client.call("echo", payload, timeout=10), count)
        emit_get = _timed(lambda: (session.get(info["url"] + "/api/health").json(),
                                   client.call("echo", payload, timeout=10)), count)
        # The prefetched sends' think time, before each emit here too: a round trip that
        # starts from idle threads and a quiet loop costs more than one straight after
        # the last (measured: 1.0 ms against 0.58 on this machine).
        emit_paused = _timed(lambda: client.call("echo", payload, timeout=10), count,
                             pause=PREFETCH_PAUSE)
        client.disconnect()
    return {"emit_ack": summary_ms(emit), "emit_ack_plus_get": summary_ms(emit_get),
            "emit_ack_after_pause": summary_ms(emit_paused),
            "samples": {"emit": emit, "emit_get": emit_get}}


# One send's statements, as the store runs them (store.py `_store_message`): spend the
# nonce, look for the client_id, take the next seq, insert the message.
_SPEND = "INSERT INTO used_auth (nonce, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING"
_BY_CLIENT_ID = ("SELECT messages.*, users.name, users.kind FROM messages JOIN users ON "
                 "users.id = messages.sender_id WHERE messages.chat_id = ? AND "
                 "messages.sender_id = ? AND messages.client_id = ?")
_NEXT_SEQ = "UPDATE chats SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq"
_INSERT = ("INSERT INTO messages (id, chat_id, seq, sender_id, text, parts, client_id, "
           "reply_to, created_at, version, edited_at, deleted, reactions, mentions) "
           "VALUES (?, ?, ?, ?, ?, '[]', ?, NULL, ?, 0, NULL, 0, '[]', '[]')")


def sqlite_commit_floor(count: int) -> dict[str, Any]:
    """A send's rows committed by raw sqlite3 alone: the durable part no server can skip."""
    path = Path(tempfile.mkdtemp(prefix="chat-widget-commit-")) / "floor.db"

    async def schema() -> None:
        store = Store(f"sqlite:///{path}")
        await store.open()  # the server's own migrations, triggers and indexes
        await store.add_workspace("demo")
        await store.ensure_user("alice", "alice", None, "user")
        await store.add_chat("general", "demo")
        await store.close()

    asyncio.run(schema())
    conn = sqlite3.connect(path, isolation_level=None)
    _sqlite_pragmas(conn, None)

    def commit() -> None:
        client_id, created = uuid.uuid4().hex, "2026-12-01T00:00:00.000Z"
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(_SPEND, (uuid.uuid4().hex, time.time() + 60))
        conn.execute(_BY_CLIENT_ID, ("general", "alice", client_id)).fetchone()
        seq = conn.execute(_NEXT_SEQ, ("general",)).fetchone()[0]
        conn.execute(_INSERT, (uuid.uuid4().hex, "general", seq, "alice", "hello", client_id,
                               created))
        conn.execute("COMMIT")

    samples = _timed(commit, count)
    conn.close()
    return summary_ms(samples)


@contextmanager
def raw_sender(url: str, token: str, chat_id: str = "general") -> Iterator[Callable[[], Any]]:
    """A joined raw connection; yields one send: fetch auth over HTTP, emit, wait for the
    ack (which the send answers)."""
    client = socketio.Client(reconnection=False)
    client.connect(url, auth={"token": token}, transports=["websocket"])
    client.call("join", {"chat_id": chat_id}, timeout=60)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def send() -> Any:
        auth = session.post(url + "/api/message-auth", json={"chat_id": chat_id}).json()
        ack = client.call("send_message", {"chat_id": chat_id, "text": "hello",
                                           "auth": auth["auth"], "client_id": uuid.uuid4().hex},
                          timeout=10)
        assert ack["ok"], ack
        return ack

    try:
        yield send
    finally:
        client.disconnect()


def raw_protocol_send(url: str, token: str, count: int) -> list[float]:
    """The five steps without ChatClient: fetch auth over HTTP, emit, wait for the ack."""
    with raw_sender(url, token) as send:
        return _timed(send, count)


def chat_client_send(url: str, token: str, count: int, prefetch: bool = False) -> list[float]:
    from chat_widget.client import ChatClient

    with ChatClient(url, token, prefetch_auth=prefetch) as client:
        client.join("general")
        return _timed(lambda: client.send("hello"), count,
                      pause=PREFETCH_PAUSE if prefetch else 0.0)


def run(count: int) -> dict[str, Any]:
    floors = bare_floors(count)
    samples = floors.pop("samples")
    floors["sqlite_commit"] = sqlite_commit_floor(count)
    with chat_server() as info:
        raw_samples = raw_protocol_send(info["url"], info["tokens"]["alice"], count)
        client_samples = chat_client_send(info["url"], info["tokens"]["bob"], count)
        prefetch_samples = chat_client_send(info["url"], info["tokens"]["alice"], count,
                                            prefetch=True)
    raw, client = summary_ms(raw_samples), summary_ms(client_samples)
    prefetched = summary_ms(prefetch_samples)
    floor = floors["emit_ack_plus_get"]["p50_ms"]
    durable_floor = floors["emit_ack"]["p50_ms"] + floors["sqlite_commit"]["p50_ms"]

    def in_ms(values: list[float]) -> list[float]:
        return [round(v * 1000, 4) for v in values]

    return {
        "floors": floors,
        "raw_protocol_send": raw,
        "chat_client_send": client,
        "send_p50_ratio": round(client["p50_ms"] / floor, 3),
        "raw_send_p50_ratio": round(raw["p50_ms"] / floor, 3),
        "send_p50_over_emit_ack": round(client["p50_ms"] / floors["emit_ack"]["p50_ms"], 3),
        "chat_client_send_prefetch": prefetched,
        # The stretch goal: with the string fetched ahead, against emit-with-ack alone.
        "prefetch_send_p50_over_emit_ack": round(
            prefetched["p50_ms"] / floors["emit_ack"]["p50_ms"], 3),
        # The goal: with the string fetched ahead, against emit-with-ack plus the commit.
        "prefetch_send_ratio": round(prefetched["p50_ms"] / durable_floor, 3),
        # The same, with the floor's emits after the same think time as the sends.
        "prefetch_send_ratio_same_pause": round(prefetched["p50_ms"] / (
            floors["emit_ack_after_pause"]["p50_ms"] + floors["sqlite_commit"]["p50_ms"]), 3),
        "chat_client_send_samples_ms": in_ms(client_samples),
        "raw_protocol_send_samples_ms": in_ms(raw_samples),
        "floor_emit_get_samples_ms": in_ms(samples["emit_get"]),
        "floor_emit_samples_ms": in_ms(samples["emit"]),
    }
