"""Memory: per idle connection on the server, and per message held by a ChatClient."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

from . import load
from .processes import chat_server


def client_bytes_per_message(messages: int) -> float:
    """Bytes a ChatClient holds per message after catching up on `messages` of history."""
    import socketio

    from chat_widget.client import ChatClient

    with chat_server() as info:
        token = info["tokens"]["alice"]
        writer = socketio.Client(reconnection=False)
        writer.connect(info["url"], auth={"token": token}, transports=["websocket"])
        writer.call("join", {"chat_id": "general"})
        import requests

        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        for index in range(messages):
            auth = session.post(info["url"] + "/api/message-auth",
                                json={"chat_id": "general"}).json()["auth"]
            writer.call("send_message", {"chat_id": "general", "text": f"message {index:06d}",
                                         "auth": auth, "client_id": f"m{index}"})
        writer.disconnect()
        with ChatClient(info["url"], token) as client:
            client.join("general")
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.take_snapshot()
            loaded = client.load_older_until(messages) if hasattr(client, "load_older_until") \
                else _page_back(client, messages)
            gc.collect()
            after = tracemalloc.take_snapshot()
            tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    return round(grown / max(loaded, 1), 1)


def _page_back(client: Any, messages: int) -> int:
    """Load older pages into the client until it holds `messages` messages."""
    while len(client.messages) < messages:
        before = len(client.messages)
        client.history(before_seq=client.messages[0]["seq"], limit=500)
        if len(client.messages) == before:
            break
    return len(client.messages)


def run(connections: int, client_messages: int) -> dict[str, Any]:
    loaded = load.run(connections=connections, rooms=5, senders=2, sends=10)
    return {"connections": connections,
            "server_kib_per_idle_connection": loaded["memory_per_idle_connection_kib"],
            "client_messages": client_messages,
            "client_bytes_per_message": client_bytes_per_message(client_messages)}
