"""What each request means (server/service.py), over a real SQLite store and no transport.

The service is handed the function it broadcasts with; here that function
records what would go to the chat's room, so each check reads the outcome
directly instead of through a socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from chat_widget import protocol
from chat_widget.errors import ChatError
from chat_widget.server.auth import MessageAuthSigner
from chat_widget.server.limits import RateLimiter
from chat_widget.server.seed import seed_demo
from chat_widget.server.service import ChatService, answer_content
from chat_widget.server.store import Store, User


class Room:
    """What the service broadcast, in order: (event, payload, chat_id)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Mapping[str, Any], str]] = []
        self.changed = asyncio.Event()

    async def broadcast(self, event: str, payload: Mapping[str, Any], chat_id: str) -> None:
        self.sent.append((event, payload, chat_id))
        self.changed.set()


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[tuple[ChatService, Room]]:
    store = Store(f"sqlite:///{tmp_path / 'service.db'}")
    await store.open()
    await seed_demo(store)
    room = Room()
    chat_service = ChatService(store, MessageAuthSigner(await store.secret()), room.broadcast,
                               RateLimiter(rate=0))
    yield chat_service, room
    await chat_service.responders.close()
    await store.close()


ALICE = User("alice", "alice", "user")
CAROL = User("carol", "carol", "user")


async def send(service: ChatService, chat_id: str, text: str, user: User = ALICE,
               **extra: Any) -> protocol.Message:
    auth = (await service.issue_auth(user, chat_id))["auth"]
    payload = {"chat_id": chat_id, "text": text, "auth": auth, "client_id": f"c-{text}", **extra}
    return await service.send(user, payload, joined={chat_id})


async def test_a_send_is_stored_with_the_next_seq_and_broadcast_once(service) -> None:
    chat_service, room = service
    first = await send(chat_service, "general", "one")
    second = await send(chat_service, "general", "two")
    assert (first["seq"], second["seq"]) == (1, 2)
    assert [(event, payload["id"]) for event, payload, _ in room.sent] == [
        ("message", first["id"]), ("message", second["id"])]


async def test_the_same_client_id_stores_once_and_broadcasts_once(service) -> None:
    chat_service, room = service
    first = await send(chat_service, "general", "again")
    retried = await send(chat_service, "general", "again")
    assert retried == first
    assert len(room.sent) == 1


async def test_an_authorization_string_is_spent_by_its_message(service) -> None:
    chat_service, _room = service
    auth = (await chat_service.issue_auth(ALICE, "general"))["auth"]
    payload = {"chat_id": "general", "text": "x", "auth": auth, "client_id": "first"}
    await chat_service.send(ALICE, payload, joined={"general"})
    with pytest.raises(ChatError) as caught:
        await chat_service.send(ALICE, {**payload, "client_id": "second"}, joined={"general"})
    assert caught.value.code == "auth_reused"


async def test_refusals_carry_the_protocol_codes(service) -> None:
    chat_service, _room = service
    auth = (await chat_service.issue_auth(ALICE, "general"))["auth"]
    cases = [
        (ALICE, {"chat_id": "general", "text": "x", "auth": auth}, set(), "not_joined"),
        (ALICE, {"chat_id": "nowhere", "text": "x", "auth": auth}, {"nowhere"}, "not_found"),
        (CAROL, {"chat_id": "general", "text": "x", "auth": auth}, {"general"}, "forbidden"),
        (ALICE, {"chat_id": "general", "text": 5, "auth": auth}, {"general"}, "bad_request"),
        (ALICE, {"chat_id": "general", "text": "x", "auth": "forged"}, {"general"},
         "invalid_auth"),
    ]
    for user, payload, joined, code in cases:
        with pytest.raises(ChatError) as caught:
            await chat_service.send(user, payload, joined)
        assert caught.value.code == code, payload


async def test_join_answers_the_chat_and_its_latest_messages(service) -> None:
    chat_service, _room = service
    sent = [await send(chat_service, "general", f"m{number}") for number in range(3)]
    joined = await chat_service.join(ALICE, "general")
    assert joined["chat"]["id"] == "general" and joined["chat"]["last_seq"] == 3
    assert [m["id"] for m in joined["messages"]] == [m["id"] for m in sent]
    caught_up = await chat_service.join(ALICE, "general", after_seq=2)
    assert [m["seq"] for m in caught_up["messages"]] == [3] and not caught_up["has_more"]


async def test_the_echo_chat_answers_each_message_as_a_bot_reply(service) -> None:
    chat_service, room = service
    question = await send(chat_service, "echo", "hello bot")
    while len(room.sent) < 2:
        room.changed.clear()
        await asyncio.wait_for(room.changed.wait(), 10)
    event, reply, _chat_id = room.sent[1]
    assert event == "message"
    assert reply["reply_to"] == question["id"] and reply["sender"]["kind"] == "bot"
    assert reply["text"] == "hello bot" and reply["seq"] == question["seq"] + 1


def test_what_a_responder_returns_becomes_checked_text_and_parts() -> None:
    assert answer_content("plain") == ("plain", [])
    assert answer_content(None) == ("", [])
    assert answer_content(42) == ("42", [])
    parts = [{"type": "markdown", "text": "*x*"}]
    assert answer_content({"text": "t", "parts": parts}) == ("t", parts)
    with pytest.raises(ChatError):
        answer_content({"parts": [{"no": "type"}]})
