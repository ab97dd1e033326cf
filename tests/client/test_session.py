"""ChatClient (client/session.py) against the real server: connect, join, send, receive,
history, errors.

Every test talks to a `chat-widget serve --demo` process over the wire.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import pytest

from chat_widget.client import ChatClient
from chat_widget.errors import (
    AuthorizationError,
    ChatError,
    NotConnectedError,
    ResponsePendingError,
)
from tests.client.common import Recorder, client_for, wait_until

# -- connecting ---------------------------------------------------------------


def test_connect_join_send_round_trip(server) -> None:
    with client_for(server.url, server.tokens["alice"]) as alice:
        assert alice.connected and alice.status == "connected" and alice.last_error is None
        alice.join("general")
        assert alice.chat_id == "general" and alice.chat["responder"] is None
        sent = alice.send("hello from the round trip")
        assert sent["text"] == "hello from the round trip"
        assert sent["chat_id"] == "general" and len(sent["client_id"]) == 32
        assert sent["sender"]["kind"] == "user" and isinstance(sent["seq"], int)
        assert not alice.awaiting_response
        wait_until(lambda: sent in alice.messages, what="the sent message in messages")
        seqs = [message["seq"] for message in alice.messages]
        assert seqs == sorted(set(seqs))


def test_bad_token_is_refused_at_once_without_hanging(server) -> None:
    client = ChatClient(server.url, "not-a-token", connect=False)
    statuses = Recorder()
    client.on_status(statuses)
    started = time.monotonic()
    try:
        with pytest.raises(AuthorizationError) as caught:
            client.connect()
        assert time.monotonic() - started < 5
        assert caught.value.code == "unauthorized"
        assert client.status == "disconnected" and not client.connected
        assert client.last_error is not None and client.last_error.code == "unauthorized"
        statuses.wait_for(lambda items: items and items[-1][0] == "disconnected")
        with pytest.raises(NotConnectedError):
            client.send("never")
    finally:
        client.close()


def test_unreachable_server_raises_not_connected() -> None:
    client = ChatClient("http://127.0.0.1:9", "token", request_timeout=2, connect=False)
    try:
        with pytest.raises(NotConnectedError):
            client.connect()
        assert client.status == "disconnected" and client.last_error.code == "not_connected"
    finally:
        client.close()


def test_status_callbacks_follow_connect_and_close(server) -> None:
    client = ChatClient(server.url, server.tokens["alice"], connect=False)
    statuses = Recorder()
    client.on_status(statuses)
    client.connect()
    client.close()
    statuses.wait_for(lambda items: len(items) >= 3)
    assert [status for status, _ in statuses.items] == ["connecting", "connected", "disconnected"]
    assert client.status == "disconnected"
    client.close()  # a second close is harmless


def test_context_manager_connects_and_closes(server) -> None:
    with ChatClient(server.url, server.tokens["bob"]) as bob:
        assert bob.connected
    assert bob.status == "disconnected" and not bob.connected


def test_creating_a_client_installs_no_signal_handler(server) -> None:
    before = signal.getsignal(signal.SIGINT)
    with client_for(server.url, server.tokens["alice"]):
        assert signal.getsignal(signal.SIGINT) is before


# -- joining ------------------------------------------------------------------


def test_joining_a_chat_of_another_workspace_is_forbidden(server) -> None:
    with client_for(server.url, server.tokens["carol"]) as carol:
        with pytest.raises(ChatError) as caught:
            carol.join("general")
        assert caught.value.code == "forbidden"
        assert carol.chat_id is None and carol.messages == []


def test_joining_an_unknown_chat_is_not_found(server) -> None:
    with client_for(server.url, server.tokens["alice"]) as alice:
        with pytest.raises(ChatError) as caught:
            alice.join("no-such-chat")
        assert caught.value.code == "not_found"


def test_join_returns_recent_messages_and_leave_forgets_the_chat(server) -> None:
    with client_for(server.url, server.tokens["alice"]) as alice:
        alice.join("general")
        sent = alice.send("remember me")
        with client_for(server.url, server.tokens["bob"]) as bob:
            recent = bob.join("general")
            assert recent[-1]["id"] == sent["id"]
            assert bob.messages == recent
            bob.leave()
            assert bob.chat_id is None and bob.messages == []


# -- sending and receiving ----------------------------------------------------


def test_send_before_connect_raises_not_connected(server) -> None:
    client = ChatClient(server.url, server.tokens["alice"], connect=False)
    try:
        with pytest.raises(NotConnectedError) as caught:
            client.send("too early")
        assert caught.value.code == "not_connected"
        with pytest.raises(NotConnectedError):
            client.join("general")
    finally:
        client.close()


def test_send_without_a_chat_is_a_bad_request(server) -> None:
    with client_for(server.url, server.tokens["alice"]) as alice:
        with pytest.raises(ChatError) as caught:
            alice.send("where to?")
        assert caught.value.code == "bad_request" and "join" in str(caught.value)
        with pytest.raises(ChatError) as caught:
            alice.send("there", chat_id="echo")
        assert caught.value.code == "not_joined"
        assert not alice.awaiting_response


def test_message_from_alice_reaches_bob_once_and_in_order(server) -> None:
    with (
        client_for(server.url, server.tokens["alice"]) as alice,
        client_for(server.url, server.tokens["bob"]) as bob,
    ):
        alice.join("general")
        bob.join("general")
        received = Recorder()
        bob.on_message(received)
        sent = [alice.send(f"ordered {n}") for n in range(5)]
        ids = [message["id"] for message in sent]
        received.wait_for(lambda items: {m["id"] for m in items} >= set(ids))
        ours = [message for message in received.items if message["id"] in ids]
        assert [message["id"] for message in ours] == ids
        seqs = [message["seq"] for message in received.items]
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
        assert [message["id"] for message in bob.messages if message["id"] in ids] == ids


def test_own_message_reaches_on_message_once(server) -> None:
    with client_for(server.url, server.tokens["alice"]) as alice:
        alice.join("general")
        received = Recorder()
        alice.on_message(received)
        sent = alice.send("just once")
        received.wait_for(lambda items: any(m["id"] == sent["id"] for m in items))
        second = alice.send("and the next")
        received.wait_for(lambda items: any(m["id"] == second["id"] for m in items))
        assert [m["id"] for m in received.items].count(sent["id"]) == 1


def test_echo_reply_clears_awaiting_response(server) -> None:
    with client_for(server.url, server.tokens["alice"]) as alice:
        alice.join("echo")
        assert alice.chat["responder"] == "echo"
        flags = Recorder()
        events = Recorder()
        alice.on_awaiting_response(flags)
        alice.on_event(events)
        sent = alice.send("echo this")
        reply = alice.wait_for_reply(timeout=10)
        assert reply["text"] == "echo this"
        assert reply["reply_to"] == sent["id"] and reply["sender"]["kind"] == "bot"
        assert not alice.awaiting_response
        flags.wait_for(lambda items: items == [True, False])
        kinds = ["auth_fetch_start", "auth_fetched", "emit", "ack", "broadcast", "reply"]
        events.wait_for(lambda items: {event["kind"] for event in items} >= set(kinds))
        assert {event["client_id"] for event in events.items} == {sent["client_id"]}
        by_kind = {event["kind"]: event for event in events.items}
        assert by_kind["auth_fetch_start"]["elapsed_ms"] <= by_kind["emit"]["elapsed_ms"]
        assert by_kind["emit"]["elapsed_ms"] <= by_kind["ack"]["elapsed_ms"]
        wait_until(lambda: reply in alice.messages, what="the reply in messages")
        assert alice.send("again")["text"] == "again"  # the flag is free again
        assert alice.wait_for_reply(timeout=10)["text"] == "again"


def test_wait_for_reply_in_a_chat_without_responder_says_none_will_come(server) -> None:
    with client_for(server.url, server.tokens["alice"]) as alice:
        alice.join("general")
        alice.send("no bot here")
        with pytest.raises(ChatError) as caught:
            alice.wait_for_reply(timeout=1)
        assert caught.value.code == "bad_request"


def test_sends_from_many_threads_go_one_at_a_time(server) -> None:
    with client_for(server.url, server.tokens["alice"]) as alice:
        alice.join("general")
        stored: list[dict[str, Any]] = []
        refused: list[Exception] = []

        def keep_sending(thread: int) -> None:
            for n in range(10):
                try:
                    stored.append(alice.send(f"thread {thread} message {n}"))
                except ResponsePendingError as error:
                    refused.append(error)

        threads = [threading.Thread(target=keep_sending, args=(t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(stored) + len(refused) == 40 and stored
        wait_until(lambda: all(m in alice.messages for m in stored), what="every stored message")
        seqs = [message["seq"] for message in alice.messages]
        assert seqs == sorted(set(seqs))
        assert not alice.awaiting_response


def test_dict_content_passes_parts_through(server) -> None:
    parts = [
        {"type": "markdown", "text": "**bold**"},
        {"type": "code", "language": "py", "text": "1"},
    ]
    with client_for(server.url, server.tokens["alice"]) as alice:
        alice.join("general")
        sent = alice.send({"text": "", "parts": parts})
        assert sent["text"] == "" and sent["parts"] == parts


def test_empty_content_is_refused_and_leaves_the_flag_free(server) -> None:
    with client_for(server.url, server.tokens["alice"]) as alice:
        alice.join("general")
        with pytest.raises(ChatError) as caught:
            alice.send(None)
        assert caught.value.code == "bad_request"
        assert not alice.awaiting_response


# -- history ------------------------------------------------------------------


def test_history_pages_back_and_merges_without_duplicates(fresh_server) -> None:
    with client_for(fresh_server.url, fresh_server.tokens["alice"]) as alice:
        alice.join("general")
        for n in range(53):
            alice.send(f"history {n}")
        page = alice.history(before_seq=10, limit=2)
        assert [m["seq"] for m in page["messages"]] == [8, 9] and page["has_more"] is True
    with client_for(fresh_server.url, fresh_server.tokens["bob"]) as bob:
        recent = bob.join("general")
        assert [m["seq"] for m in recent] == list(range(4, 54))
        received = Recorder()
        bob.on_message(received)
        older = bob.history(limit=2)  # continues before the oldest message held
        assert [m["seq"] for m in older["messages"]] == [2, 3] and older["has_more"] is True
        oldest = bob.history()
        assert [m["seq"] for m in oldest["messages"]] == [1] and oldest["has_more"] is False
        assert [m["seq"] for m in bob.messages] == list(range(1, 54))
        latest = bob.send("after the history")
        received.wait_for(lambda items: items)
        assert [m["id"] for m in received.items] == [latest["id"]]  # old pages are not "new"
