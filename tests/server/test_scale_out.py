"""Several server processes on one PostgreSQL and one Redis act as one server."""

from __future__ import annotations

import threading

import pytest

from tests.helpers import RawClient

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def two_processes(server_factory, postgres_url):
    channel = f"chat-widget-test-{threading.get_ident()}-{id(postgres_url)}"
    args = ["--redis", REDIS_URL, "--redis-channel", channel]
    return [server_factory(db_url=postgres_url, extra_args=args) for _ in range(2)]


@pytest.fixture
def alice_and_bob(two_processes):
    """alice on the first process and bob on the second, both in general."""
    first, second = two_processes
    clients = (RawClient(first, first.tokens["alice"]), RawClient(second, second.tokens["bob"]))
    for client in clients:
        client.join("general")
    yield clients
    for client in clients:
        client.close()


def test_a_client_on_either_process_sees_every_message(alice_and_bob):
    alice, bob = alice_and_bob
    from_alice = alice.send("general", "sent on process one")["message"]
    from_bob = bob.send("general", "sent on process two")["message"]
    assert bob.next_event("message")["id"] == from_alice["id"]
    assert bob.next_event("message")["id"] == from_bob["id"]
    assert alice.next_event("message")["id"] == from_alice["id"]
    assert alice.next_event("message")["id"] == from_bob["id"]


def test_echo_answers_reach_clients_on_the_other_process(two_processes):
    first, second = two_processes
    alice = RawClient(first, first.tokens["alice"])
    bob = RawClient(second, second.tokens["bob"])
    alice.join("echo")
    bob.join("echo")
    question = alice.send("echo", "across processes")["message"]
    seen = [bob.next_event("message"), bob.next_event("message")]
    assert [m["id"] for m in seen][0] == question["id"]
    assert seen[1]["reply_to"] == question["id"] and seen[1]["sender"]["kind"] == "bot"
    alice.close()
    bob.close()


def test_demo_seed_is_safe_when_processes_start_together(server_factory, postgres_url):
    results: list = []
    errors: list = []

    def start() -> None:
        try:
            results.append(server_factory(db_url=postgres_url))
        except Exception as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len({tuple(sorted(r.tokens.items())) for r in results}) == 1


def test_changes_reach_clients_on_the_other_process(alice_and_bob):
    alice, bob = alice_and_bob
    message = alice.send("general", "to be changed")["message"]
    edited = alice.edit("general", message["id"], "changed on process one")["message"]
    reacted = bob.react("general", message["id"], "👍")["message"]
    assert [bob.next_event("message_updated") for _ in range(2)] == [edited, reacted]
    assert [alice.next_event("message_updated") for _ in range(2)] == [edited, reacted]
    assert (edited["version"], reacted["version"]) == (1, 2)
