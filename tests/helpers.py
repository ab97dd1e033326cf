"""Small protocol-level helpers for tests: a raw python-socketio client and HTTP calls.

These speak the wire protocol directly (no ChatClient), so server tests check
the server against PROTOCOL.md and nothing else.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

import requests
import socketio

if TYPE_CHECKING:
    from chat_widget.server.store import Store


def http(server: Any, method: str, path: str, token: str | None = None,
         **kwargs: Any) -> requests.Response:
    headers = kwargs.pop("headers", {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, server.url + path, headers=headers, timeout=10, **kwargs)


def fetch_auth(server: Any, token: str, chat_id: str) -> str:
    response = http(server, "POST", "/api/message-auth", token, json={"chat_id": chat_id})
    assert response.status_code == 200, response.text
    return response.json()["auth"]


def admin_change(db_url: str, action: str, *args: str | None) -> Any:
    """Run one Store change as an admin command would: its own Store, outside the server."""
    from chat_widget.server.store import Store

    async def run() -> Any:
        store = Store(db_url)
        await store.open()
        try:
            return await getattr(store, action)(*args)
        finally:
            await store.close()

    return asyncio.run(run())


async def alice_in_general(db_url: str) -> Store:
    """An open Store on `db_url` holding workspace demo, its member alice and chat general."""
    from chat_widget.server.store import Store

    store = Store(db_url)
    await store.open()
    await store.add_workspace("demo")
    await store.ensure_user("alice", "Alice", "alice-token", "user")
    await store.add_member("demo", "alice")
    await store.add_chat("general", "demo")
    return store


class RawClient:
    """A python-socketio client that records every server event in a queue."""

    def __init__(self, server: Any, token: str) -> None:
        self.server = server
        self.token = token
        self.events: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        for name in ("message", "message_delta", "reply_failed", "message_updated",
                     "presence", "typing", "read", "chat_activity"):
            self.sio.on(name, self._recorder(name))
        self.sio.connect(server.url, auth={"token": token}, transports=["websocket"],
                         wait_timeout=10)

    def _recorder(self, name: str) -> Any:
        return lambda payload: self.events.put((name, payload))

    def call(self, event: str, payload: Any) -> dict[str, Any]:
        return self.sio.call(event, payload, timeout=15)

    def join(self, chat_id: str, **extra: Any) -> dict[str, Any]:
        ack = self.call("join", {"chat_id": chat_id, **extra})
        assert ack["ok"], ack
        return ack

    def send(self, chat_id: str, text: str, client_id: str | None = None,
             **extra: Any) -> dict[str, Any]:
        """Fetch a fresh authorization string and send; returns the ack."""
        payload = {"chat_id": chat_id, "text": text, "auth": fetch_auth(self.server, self.token,
                                                                       chat_id),
                   "client_id": client_id or uuid.uuid4().hex, **extra}
        return self.call("send_message", payload)

    def edit(self, chat_id: str, message_id: str, text: str, **extra: Any) -> dict[str, Any]:
        """Fetch a fresh authorization string and edit; returns the ack."""
        return self.call("edit_message", {
            "chat_id": chat_id, "id": message_id, "text": text,
            "auth": fetch_auth(self.server, self.token, chat_id), **extra})

    def delete(self, chat_id: str, message_id: str) -> dict[str, Any]:
        return self.call("delete_message", {"chat_id": chat_id, "id": message_id})

    def react(self, chat_id: str, message_id: str, emoji: str, on: bool = True,
              ) -> dict[str, Any]:
        return self.call("react", {"chat_id": chat_id, "id": message_id, "emoji": emoji,
                                   "on": on})

    def all_changes(self, chat_id: str, after_version: int = 0,
                    limit: int = 500) -> list[dict[str, Any]]:
        """Page through `changes` until `has_more` is false."""
        found: list[dict[str, Any]] = []
        while True:
            ack = self.call("changes", {"chat_id": chat_id, "after_version": after_version,
                                        "limit": limit})
            assert ack["ok"], ack
            found += ack["messages"]
            if not ack["has_more"]:
                return found
            after_version = found[-1]["version"]

    def next_event(self, name: str | None = None, timeout: float = 10.0) -> dict[str, Any]:
        """The next recorded event (of `name`, skipping others)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {name or 'event'} within {timeout} s")
            event, payload = self.events.get(timeout=remaining)
            if name is None or event == name:
                return payload

    def no_event_within(self, seconds: float, name: str | None = None) -> bool:
        """True when no event (of `name`, if given) arrives within `seconds`."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                event, _payload = self.events.get(timeout=remaining)
            except queue.Empty:
                return True
            if name is None or event == name:
                return False
        return True

    def close(self) -> None:
        self.sio.disconnect()


class SentLog:
    """What senders on several threads were answered: accepted seqs and refusals."""

    def __init__(self) -> None:
        self.seqs: list[int] = []
        self.refused: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def send(self, client: RawClient, chat_id: str, text: str) -> None:
        ack = client.send(chat_id, text)
        with self._lock:
            if ack["ok"]:
                self.seqs.append(ack["message"]["seq"])
            else:
                self.refused.append(ack)

    def count(self) -> int:
        with self._lock:
            return len(self.seqs)
