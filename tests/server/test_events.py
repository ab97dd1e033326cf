"""Every Socket.IO event of the protocol, its acks and error codes, on the real server."""

from __future__ import annotations

import time
import uuid

import pytest
import socketio

from tests.helpers import RawClient, fetch_auth


@pytest.fixture
def alice(server):
    client = RawClient(server, server.tokens["alice"])
    yield client
    client.close()


@pytest.fixture
def bob(server):
    client = RawClient(server, server.tokens["bob"])
    yield client
    client.close()


def unique_chat_text() -> str:
    return f"hello {uuid.uuid4().hex[:8]}"


def test_connect_without_or_with_unknown_token_is_refused(server):
    for auth in (None, {}, {"token": "wrong"}, {"token": 12}):
        client = socketio.Client(reconnection=False)
        errors = []
        client.on("connect_error", errors.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(server.url, auth=auth, transports=["websocket"], wait_timeout=5)
        assert errors[0]["data"]["code"] == "unauthorized", auth
        assert errors[0]["data"]["message"] == errors[0]["message"]


def test_join_returns_chat_and_recent_messages(alice):
    ack = alice.join("general")
    assert ack["chat"]["id"] == "general" and ack["chat"]["responder"] is None
    assert isinstance(ack["messages"], list) and isinstance(ack["has_more"], bool)


def test_join_refusals_carry_their_codes(alice, server):
    assert alice.call("join", {"chat_id": "staff-room"})["error"]["code"] == "forbidden"
    assert alice.call("join", {"chat_id": "missing"})["error"]["code"] == "not_found"
    assert alice.call("join", {})["error"]["code"] == "bad_request"
    assert alice.call("join", "general")["error"]["code"] == "bad_request"
    assert alice.call("join", {"chat_id": "general", "after_seq": -3})["error"]["code"] \
        == "bad_request"


def test_message_reaches_every_joined_client_including_sender(alice, bob):
    alice.join("general")
    bob.join("general")
    text = unique_chat_text()
    ack = alice.send("general", text)
    assert ack["ok"]
    message = ack["message"]
    assert message["text"] == text and message["sender"] == {
        "id": "alice", "name": "alice", "kind": "user"}
    assert message["reply_to"] is None and message["parts"] == []
    assert message["created_at"].endswith("Z")
    assert bob.next_event("message")["id"] == message["id"]
    assert alice.next_event("message")["id"] == message["id"]


def test_send_without_join_is_not_joined(alice):
    ack = alice.send("general", "not joined yet")
    assert ack["error"]["code"] == "not_joined"


def test_leave_stops_the_broadcast(alice, bob):
    alice.join("general")
    bob.join("general")
    assert bob.call("leave", {"chat_id": "general"}) == {"ok": True}
    assert alice.send("general", unique_chat_text())["ok"]
    assert bob.no_event_within(0.5, "message")
    assert bob.call("leave", {"chat_id": "general"})["error"]["code"] == "not_joined"


def test_history_pages_like_the_http_route(alice):
    alice.join("general")
    sent = [alice.send("general", f"h{i}")["message"]["seq"] for i in range(3)]
    ack = alice.call("history", {"chat_id": "general", "after_seq": sent[0]})
    assert [m["seq"] for m in ack["messages"]] == sent[1:]
    ack = alice.call("history", {"chat_id": "general", "before_seq": sent[2], "limit": 1})
    assert [m["seq"] for m in ack["messages"]] == [sent[1]] and ack["has_more"]
    for bad in ({"chat_id": "general", "limit": 0}, {"chat_id": "general", "limit": True},
                {"chat_id": "general", "before_seq": "3"}, {"chat_id": 3}):
        assert alice.call("history", bad)["error"]["code"] == "bad_request"


def test_join_with_after_seq_catches_up(alice, bob):
    alice.join("general")
    first = alice.send("general", "before")["message"]["seq"]
    later = [alice.send("general", f"after {i}")["message"]["seq"] for i in range(3)]
    ack = bob.join("general", after_seq=first)
    assert [m["seq"] for m in ack["messages"]] == later
    assert ack["has_more"] is False


def test_authorization_strings_are_single_use(alice, server):
    alice.join("general")
    auth = fetch_auth(server, server.tokens["alice"], "general")
    first = alice.call("send_message", {"chat_id": "general", "text": "one", "auth": auth,
                                        "client_id": uuid.uuid4().hex})
    again = alice.call("send_message", {"chat_id": "general", "text": "two", "auth": auth,
                                        "client_id": uuid.uuid4().hex})
    assert first["ok"] and again["error"]["code"] == "auth_reused"


def test_forged_and_foreign_authorization_strings_are_invalid(alice, server):
    alice.join("general")
    alice.join("echo")
    good = fetch_auth(server, server.tokens["alice"], "general")
    other_chat = fetch_auth(server, server.tokens["alice"], "echo")
    other_user = fetch_auth(server, server.tokens["bob"], "general")
    for auth in (good[:-2] + ("AA" if not good.endswith("AA") else "BB"), good[: len(good) // 2],
                 "x", 42, None, other_chat, other_user):
        ack = alice.call("send_message", {"chat_id": "general", "text": "t", "auth": auth,
                                          "client_id": uuid.uuid4().hex})
        assert ack["error"]["code"] == "invalid_auth", auth


def test_expired_authorization_string_is_refused(server_factory):
    short = server_factory(extra_args=["--auth-ttl", "0.3"])
    alice = RawClient(short, short.tokens["alice"])
    alice.join("general")
    auth = fetch_auth(short, short.tokens["alice"], "general")
    time.sleep(0.5)
    ack = alice.call("send_message", {"chat_id": "general", "text": "late", "auth": auth,
                                      "client_id": uuid.uuid4().hex})
    alice.close()
    assert ack["error"]["code"] == "auth_expired"


def test_repeated_client_id_is_stored_once_and_not_rebroadcast(alice, bob):
    alice.join("general")
    bob.join("general")
    client_id = uuid.uuid4().hex
    first = alice.send("general", "once", client_id=client_id)["message"]
    assert bob.next_event("message")["id"] == first["id"]
    again = alice.send("general", "once", client_id=client_id)
    assert again["ok"] and again["message"] == first
    assert bob.no_event_within(0.5, "message")


def test_size_limits_are_too_large(alice):
    alice.join("general")
    assert alice.send("general", "x" * (64 * 1024 + 1))["error"]["code"] == "too_large"
    assert alice.send("general", "é" * (32 * 1024 + 1))["error"]["code"] == "too_large"
    big_part = {"type": "markdown", "text": "y" * 60_000}
    ack = alice.send("general", "", parts=[big_part] * 18)
    assert ack["error"]["code"] == "too_large"
    assert alice.send("general", "x" * (64 * 1024))["ok"]


def test_bad_send_payloads_are_bad_requests(alice, server):
    alice.join("general")
    bad_payloads = [
        {"text": "no chat"},
        {"chat_id": "general"},
        {"chat_id": "general", "text": 5},
        {"chat_id": "general", "text": "nul \x00 inside"},
        {"chat_id": "general", "text": "lone \ud800 surrogate"},
        {"chat_id": "general", "text": "t", "parts": "not a list"},
        {"chat_id": "general", "text": "t", "parts": [{"no": "type"}]},
        {"chat_id": "general", "text": "t", "parts": [{"type": "table", "columns": ["a"],
                                                        "rows": [[1, 2]]}]},
        {"chat_id": "general", "text": "t", "parts": [{"type": "image", "mime": "text/html",
                                                        "data": ""}]},
        {"chat_id": "general", "text": "t", "client_id": 7},
        {"chat_id": ["general"], "text": "t"},
    ]
    for payload in bad_payloads:
        payload.setdefault("auth", fetch_auth(server, server.tokens["alice"], "general"))
        ack = alice.call("send_message", payload)
        assert ack["ok"] is False and ack["error"]["code"] == "bad_request", payload
    assert alice.call("send_message", "just a string")["error"]["code"] == "bad_request"
    assert alice.call("what_is_this", {})["error"]["code"] == "bad_request"
    assert alice.join("general")["ok"]


def test_rich_parts_and_unknown_part_types_are_kept(alice):
    alice.join("general")
    parts = [{"type": "markdown", "text": "**bold**"},
             {"type": "code", "language": "python", "text": "print(1)"},
             {"type": "table", "columns": ["a", "b"], "rows": [[1, None], [2.5, "x"]]},
             {"type": "image", "mime": "image/png", "data": "iVBORw0KGgo="},
             {"type": "sparkline", "values": [1, 2, 3]}]
    ack = alice.send("general", "", parts=parts)
    assert ack["ok"] and ack["message"]["parts"] == parts


def test_echo_responder_answers_each_message(alice, bob):
    alice.join("echo")
    bob.join("echo")
    ack = alice.send("echo", "ping")
    question = ack["message"]
    answer = None
    while answer is None or answer["id"] == question["id"]:
        answer = bob.next_event("message")
    assert answer["reply_to"] == question["id"] and answer["text"] == "ping"
    assert answer["sender"]["kind"] == "bot" and answer["seq"] == question["seq"] + 1


def test_bot_answers_are_not_answered_again(alice):
    alice.join("echo")
    question = alice.send("echo", "only once")["message"]
    seen = []
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        try:
            seen.append(alice.next_event("message", timeout=deadline - time.monotonic()))
        except (TimeoutError, Exception):
            break
    bot_answers = [m for m in seen if m["sender"]["kind"] == "bot"]
    assert [m["reply_to"] for m in bot_answers] == [question["id"]]
