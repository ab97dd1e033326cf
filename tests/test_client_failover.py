"""A client given several server URLs moves on when one dies, and misses nothing."""

from __future__ import annotations

import uuid

from chat_widget.client import ChatClient
from tests.test_client import texts, wait_until


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
