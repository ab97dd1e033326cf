"""The connection (client/connection.py): reconnection and catch-up, and moving between servers.

Servers are killed and restarted on the same port and database, or a client
is given several URLs of one deployment.

Two server processes on one database without a shared manager do not relay
each other's broadcasts, which gives these tests messages a client misses
for certain: while it is away, or as a gap in `seq`.
"""

from __future__ import annotations

import os
import signal
import threading
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from chat_widget.client import ChatClient
from chat_widget.client.connection import RetryPlan, ServerList, checked, refusal_error
from chat_widget.errors import AuthorizationError, ChatError, NotConnectedError
from tests.client.common import FAST_RECONNECT, Recorder, client_for, texts, wait_until

# -- the parts without a socket -----------------------------------------------------


def test_the_server_list_moves_round_the_urls_given() -> None:
    servers = ServerList(["http://a:1/", "", "http://b:2"])
    assert servers.urls == ["http://a:1", "http://b:2"] and servers.current == "http://a:1"
    assert servers.advance() == "http://b:2" and servers.advance() == "http://a:1"
    assert ServerList("http://only:3").urls == ["http://only:3"]
    with pytest.raises(ValueError):
        ServerList([])


def test_each_client_fails_over_in_an_order_of_its_own_visiting_each_url_once_a_round() -> None:
    urls = [f"http://p{n}:1" for n in range(3)]
    seconds = set()
    for _ in range(200):
        servers = ServerList(urls)
        assert servers.current == urls[0]  # the first URL given is where it starts
        round_trip = [servers.advance() for _ in range(3)]
        assert sorted(round_trip) == urls and round_trip[-1] == urls[0]
        seconds.add(round_trip[0])
    # Clients of a dead process spread over the others instead of all taking the next one.
    assert seconds == {urls[1], urls[2]}


def test_the_retry_plan_tries_every_url_at_once_and_then_backs_off_a_round_at_a_time() -> None:
    three = RetryPlan(3, delay=0.5, delay_max=3.0)
    assert three.wait == 0.5  # before the first try
    assert [three.failed() for _ in range(9)] == [0, 0, 1.0, 0, 0, 2.0, 0, 0, 3.0]
    one = RetryPlan(1, delay=0.5, delay_max=3.0)
    assert [one.failed() for _ in range(4)] == [1.0, 2.0, 3.0, 3.0]  # the plain backoff


def test_a_refused_connect_carries_the_protocol_error_in_its_data() -> None:
    error = {"code": "unauthorized", "message": "unknown token"}
    assert refusal_error({"message": "unknown token", "data": error}) == error
    assert refusal_error(error) == error
    assert refusal_error("Connection refused by the server") is None
    assert refusal_error(None) is None


def test_an_ack_is_its_payload_if_ok_else_the_error_it_carries() -> None:
    assert checked({"ok": True, "messages": []}) == {"ok": True, "messages": []}
    with pytest.raises(ChatError) as caught:
        checked({"ok": False, "error": {"code": "not_joined", "message": "join first"}})
    assert caught.value.code == "not_joined" and caught.value.message == "join first"
    with pytest.raises(ChatError) as caught:
        checked(None)
    assert caught.value.code == "internal"


# -- reconnecting ----------------------------------------------------------------------


def port_of(server: Any) -> int:
    return urlparse(server.url).port


def seqs(messages: list[dict[str, Any]]) -> list[int]:
    return [message["seq"] for message in messages]


def test_reconnect_catches_up_missed_messages_once_and_in_order(server_factory) -> None:
    first = server_factory()
    with client_for(first.url, first.tokens["alice"], **FAST_RECONNECT) as alice:
        alice.join("general")
        alice.send("before the crash")
        received = Recorder()
        alice.on_message(received)

        first.kill()
        wait_until(lambda: alice.status == "reconnecting", what="reconnecting")
        assert not alice.connected and alice.last_error.code == "disconnected"
        with pytest.raises(NotConnectedError):
            alice.send("while away")
        with pytest.raises(NotConnectedError):
            alice.join("echo")

        elsewhere = server_factory(db_url=first.db_url)
        with client_for(elsewhere.url, elsewhere.tokens["bob"]) as bob:
            bob.join("general")
            missed = [bob.send(f"missed {n}")["id"] for n in range(3)]
        elsewhere.stop()

        server_factory(db_url=first.db_url, port=port_of(first))
        wait_until(lambda: alice.connected, timeout=15, what="the reconnect")
        assert alice.last_error is None
        received.wait_for(lambda items: len(items) >= 3)
        assert [message["id"] for message in received.items] == missed
        assert seqs(alice.messages) == list(range(1, 5))
        after = alice.send("after the restart")
        assert after["seq"] == 5
        received.wait_for(lambda items: len(items) == 4)
        assert seqs(received.items) == [2, 3, 4, 5]


def test_gap_in_seq_is_filled_from_history(server_factory) -> None:
    near = server_factory()
    far = server_factory(db_url=near.db_url)
    with (
        client_for(near.url, near.tokens["alice"]) as alice,
        client_for(far.url, far.tokens["bob"]) as bob_far,
        client_for(near.url, near.tokens["bob"]) as bob_near,
    ):
        alice.join("general")
        received = Recorder()
        alice.on_message(received)
        bob_far.join("general")
        bob_near.join("general")
        unseen = bob_far.send("stored by the other process")
        seen = bob_near.send("broadcast here, one seq later")
        received.wait_for(lambda items: len(items) >= 2)
        assert [message["id"] for message in received.items] == [unseen["id"], seen["id"]]
        assert seqs(alice.messages) == [unseen["seq"], seen["seq"]]


def freeze(pid: int) -> None:
    """SIGSTOP `pid` and return once it is stopped: a busy machine can let a process
    run on for a moment after the signal, long enough to answer one more packet."""
    os.kill(pid, signal.SIGSTOP)
    stat = Path(f"/proc/{pid}/stat")
    wait_until(lambda: stat.read_text().rsplit(")", 1)[1].split()[0] == "T",
               what="the server stopped")


def test_send_whose_ack_is_lost_is_retried_with_the_same_client_id(
    server_factory, monkeypatch
) -> None:
    first = server_factory()
    with client_for(first.url, first.tokens["alice"], **FAST_RECONNECT) as alice:
        alice.join("general")
        events = Recorder()
        alice.on_event(events)
        fetch = alice._http.message_auth

        def fetch_then_freeze_server(chat_id: str, **options: Any) -> str:
            # The server stops after handing out the authorization string, so the
            # emit that follows is never answered: its ack is lost for certain.
            auth = fetch(chat_id, **options)
            monkeypatch.setattr(alice._http, "message_auth", fetch)
            freeze(first.process.pid)
            return auth

        monkeypatch.setattr(alice._http, "message_auth", fetch_then_freeze_server)
        outcome: dict[str, Any] = {}
        sending = threading.Thread(target=lambda: outcome.update(sent=alice.send("survives")))
        sending.start()
        events.wait_for(lambda items: any(event["kind"] == "emit" for event in items))
        assert alice.awaiting_response
        first.kill()
        server_factory(db_url=first.db_url, port=port_of(first))
        sending.join(timeout=20)
        sent = outcome["sent"]
        assert sent["text"] == "survives" and not alice.awaiting_response
        kinds = [event["kind"] for event in events.items]
        assert kinds.count("auth_fetch_start") == 2 and kinds.count("emit") == 2
        assert {event["client_id"] for event in events.items} == {sent["client_id"]}
        wait_until(lambda: sent in alice.messages, what="the message in messages")
        assert [m["client_id"] for m in alice.messages].count(sent["client_id"]) == 1


def test_a_token_refused_after_a_restart_stops_the_reconnecting(server_factory) -> None:
    first = server_factory()
    with client_for(first.url, first.tokens["alice"], **FAST_RECONNECT) as alice:
        alice.join("general")
        first.kill()
        wait_until(lambda: alice.status == "reconnecting", what="reconnecting")
        server_factory(port=port_of(first))  # a new database: alice's token is unknown there
        wait_until(lambda: alice.status == "disconnected", timeout=15, what="giving up")
        assert isinstance(alice.last_error, AuthorizationError)
        assert alice.last_error.code == "unauthorized"


# -- several server URLs -------------------------------------------------------


def test_client_moves_to_the_next_server_and_catches_up(server_factory, postgres_url):
    channel = f"failover-{uuid.uuid4().hex}"
    args = ["--redis", "redis://127.0.0.1:6379/0", "--redis-channel", channel]
    first, second = (server_factory(db_url=postgres_url, extra_args=args) for _ in range(2))
    tokens = first.tokens
    with ChatClient([first.url, second.url], tokens["alice"], reconnection_delay=0.05,
                    reconnection_delay_max=0.2) as alice, \
            ChatClient(second.url, tokens["bob"]) as bob:
        alice.join("general")
        bob.join("general")
        assert alice.url == first.url
        bob.send("before the failure")
        wait_until(lambda: texts(alice.messages) == ["before the failure"], what="first message")
        first.kill()
        sent_meanwhile = [bob.send(f"while alice moves {i}")["text"] for i in range(5)]
        wait_until(lambda: alice.connected and alice.url == second.url, what="failover")
        alice.send("from the second server")
        expected = ["before the failure", *sent_meanwhile, "from the second server"]
        wait_until(lambda: texts(alice.messages) == expected, what="catch-up")
        wait_until(lambda: texts(bob.messages) == expected, what="bob sees alice")
        assert [m["seq"] for m in alice.messages] == list(range(1, len(expected) + 1))


def test_connect_skips_a_dead_first_url(server):
    dead = "http://127.0.0.1:9"  # the discard port: nothing listens there
    with ChatClient([dead, server.url], server.tokens["alice"]) as alice:
        assert alice.url == server.url
        alice.join("general")
        assert alice.send("reached the live server")["text"] == "reached the live server"
