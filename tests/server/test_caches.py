"""Remembered tokens and memberships (server/caches.py): a change is seen at once when made
through the same Store, within `FACTS_TTL` when made by another process, and a grant at once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio

from chat_widget.server import caches
from chat_widget.server.store import Store
from tests.conftest import RunningServer, start_server
from tests.helpers import RawClient, admin_change, fetch_auth, http


def test_a_fact_expires_after_its_lifetime_and_the_oldest_make_room(
        monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    facts: caches.ProvenFacts[str, int] = caches.ProvenFacts(ttl=5.0, timer=lambda: now[0])
    facts["a"] = 1
    now[0] += 4.9
    assert facts.get("a") == 1
    facts["b"] = 2
    now[0] += 0.1
    assert facts.get("a") is None and facts.get("b") == 2
    assert list(facts.items()) == [("b", 2)]
    facts.pop("b")
    assert facts.get("b") is None
    monkeypatch.setattr(caches, "MAX_FACTS", 10)
    for index in range(10):
        facts[str(index)] = index
    facts["new"] = 10  # full, none expired: the oldest tenth goes
    assert facts.get("0") is None and facts.get("1") == 1 and facts.get("new") == 10
    now[0] += 6
    facts["later"] = 11  # full again, all the rest expired: they go
    assert [key for key, _ in facts.items()] == ["later"]


async def _seeded(db_url: str) -> tuple[Store, str]:
    store = Store(db_url)
    await store.open()
    await store.add_workspace("team")
    user_id, token = await store.add_user("dana")
    await store.add_member("team", user_id)
    return store, token


def test_a_member_removed_through_the_store_is_refused_at_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        store, _token = await _seeded(f"sqlite:///{tmp_path / 'chat.db'}")
        assert await store.is_member("dana", "team")  # now remembered
        assert await store.remove_member("team", "dana")
        assert not await store.is_member("dana", "team")
        assert not await store.remove_member("team", "dana")
        await store.add_member("team", "dana")
        assert await store.is_member("dana", "team")
        await store.close()

    asyncio.run(scenario())


def test_a_replaced_token_is_refused_at_once_and_the_new_one_works(tmp_path: Path) -> None:
    async def scenario() -> None:
        store, token = await _seeded(f"sqlite:///{tmp_path / 'chat.db'}")
        user = await store.user_by_token(token)  # now remembered
        assert user is not None and user.id == "dana"
        await store.ensure_user("dana", "dana", "a-new-token", "user")
        assert await store.user_by_token(token) is None
        renewed = await store.user_by_token("a-new-token")
        assert renewed is not None and renewed.id == "dana"
        await store.ensure_user("dana", "dana", None, "user")  # revoked: no token at all
        assert await store.user_by_token("a-new-token") is None
        await store.close()

    asyncio.run(scenario())


def test_changes_by_another_process_are_seen_once_the_remembered_answer_expires(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(caches, "FACTS_TTL", 0.2)

    async def scenario() -> None:
        db_url = f"sqlite:///{tmp_path / 'chat.db'}"
        server_view, token = await _seeded(db_url)
        admin = Store(db_url)  # another process's view of the same database
        await admin.open()
        assert await server_view.is_member("dana", "team")
        assert await server_view.user_by_token(token) is not None
        await admin.remove_member("team", "dana")
        await admin.ensure_user("dana", "dana", "replaced", "user")
        await asyncio.sleep(0.3)
        assert not await server_view.is_member("dana", "team")
        assert await server_view.user_by_token(token) is None
        # Grants are never remembered as refusals: seen at once.
        await admin.add_member("team", "dana")
        assert await server_view.is_member("dana", "team")
        assert (await server_view.user_by_token("replaced")) is not None
        await admin.close()
        await server_view.close()

    asyncio.run(scenario())


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path)
    yield running
    running.stop()


def _until_refused(attempt: object, limit: float) -> float:
    """Call `attempt` until it answers a refusal (not None); seconds it took."""
    started = time.monotonic()
    while True:
        refusal = attempt()  # type: ignore[operator]
        if refusal is not None:
            return time.monotonic() - started
        assert time.monotonic() - started < limit, "still accepted after the facts' lifetime"
        time.sleep(0.1)


def test_a_running_server_refuses_a_removed_member_within_the_facts_lifetime(
        server: RunningServer) -> None:
    alice = RawClient(server, server.tokens["alice"])
    try:
        alice.join("general")
        assert alice.send("general", "before")["ok"]
        # A string fetched while a member is no way around the removal: the event checks too.
        auth = fetch_auth(server, server.tokens["alice"], "general")
        admin_change(server.db_url, "remove_member", "demo", "alice")

        def auth_refused() -> str | None:
            response = http(server, "POST", "/api/message-auth", server.tokens["alice"],
                            json={"chat_id": "general"})
            return None if response.status_code == 200 else response.json()["error"]["code"]

        _until_refused(auth_refused, caches.FACTS_TTL + 5.0)
        assert auth_refused() == "forbidden"
        ack = alice.call("send_message", {"chat_id": "general", "text": "after",
                                          "auth": auth, "client_id": uuid.uuid4().hex})
        assert ack["error"]["code"] == "forbidden", ack
        admin_change(server.db_url, "add_member", "demo", "alice")
        assert auth_refused() is None  # granted again: at once
    finally:
        alice.close()


def test_a_running_server_refuses_a_revoked_token_within_the_facts_lifetime(
        server: RunningServer) -> None:
    token = server.tokens["bob"]
    assert http(server, "GET", "/api/me", token).status_code == 200
    admin_change(server.db_url, "ensure_user", "bob", "bob", "bob-new-token", "user")
    assert http(server, "GET", "/api/me", "bob-new-token").json()["id"] == "bob"  # at once

    def refused() -> str | None:
        status = http(server, "GET", "/api/me", token).status_code
        return None if status == 200 else str(status)

    _until_refused(refused, caches.FACTS_TTL + 5.0)
    assert http(server, "GET", "/api/me", token).json()["error"]["code"] == "unauthorized"
    # A connection with the revoked token is refused too.
    client = socketio.Client(reconnection=False)
    errors: list[dict[str, Any]] = []
    client.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, auth={"token": token}, transports=["websocket"],
                       wait_timeout=5)
    assert errors[0]["data"]["code"] == "unauthorized"
