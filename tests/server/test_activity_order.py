"""`chat_activity` goes out in seq order, whichever message's broadcast finishes first.

Over a real SQLite store, the real service and the real `Activity`. The
service's broadcast is handed in (as in test_service.py) and the first
message's waits a moment, as a broadcast does whose receiver's queue is full;
the socket.io manager records what it was asked to send, in order, where a
transport would take it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import socketio

from chat_widget import protocol
from chat_widget.server.activity import Activity
from chat_widget.server.auth import MessageAuthSigner
from chat_widget.server.emitting import DirectEmitManager
from chat_widget.server.limits import RateLimiter
from chat_widget.server.presence import LocalPresence
from chat_widget.server.seed import seed_demo
from chat_widget.server.service import ChatService
from chat_widget.server.store import Store, User

ALICE = User("alice", "alice", "user")


class RecordingManager(DirectEmitManager):
    """The in-process manager, noting each event it is asked to send before sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, Any]] = []

    async def emit_each_here(self, event: str, items: Sequence[tuple[str, Any]],
                             namespace: str = "/") -> None:
        self.sent.extend((event, data) for _room, data in items[:1])
        await super().emit_each_here(event, items, namespace)


async def test_events_follow_seq_order_when_an_earlier_broadcast_finishes_later(
        tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'order.db'}")
    await store.open()
    await seed_demo(store)
    broadcasts: list[int] = []

    async def broadcast(event: str, payload: Mapping[str, Any], chat_id: str) -> None:
        if payload["text"] == "first":
            await asyncio.sleep(0.05)  # its receivers' queue was full
        broadcasts.append(payload["seq"])

    manager = RecordingManager()
    sio = socketio.AsyncServer(client_manager=manager)
    service = ChatService(store, MessageAuthSigner(await store.secret()), broadcast,
                          RateLimiter(rate=0))
    activity = Activity(sio, service, LocalPresence())

    async def send(text: str) -> protocol.Message:
        auth = (await service.issue_auth(ALICE, "general"))["auth"]
        return await service.send(ALICE, {"chat_id": "general", "text": text, "auth": auth},
                                  joined={"general"})

    async def activity_seqs(count: int) -> list[int]:
        for _ in range(200):
            if len(manager.sent) >= count:
                break
            await asyncio.sleep(0.01)
        return [data["last_seq"] for event, data in manager.sent
                if event == protocol.CHAT_ACTIVITY]

    try:
        # One message told first: the pair's counts are then carried forward, each
        # event's up to its own message (counted afresh, both would say the last).
        opening = await send("opening")
        assert await activity_seqs(1) == [opening["seq"]]
        first, second = await asyncio.gather(send("first"), send("second"))
        assert second["seq"] == first["seq"] + 1
        assert broadcasts[1:] == [second["seq"], first["seq"]]  # the later one finished first
        assert await activity_seqs(3) == [opening["seq"], first["seq"], second["seq"]]
    finally:
        await activity.close()
        await service.responders.close()
        await store.close()
