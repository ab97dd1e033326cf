"""The same server on PostgreSQL: persistence, gap-free seq, idempotency, shared database."""

from __future__ import annotations

import threading
import uuid

from tests.helpers import RawClient


def test_postgres_keeps_history_and_seq_across_restarts(server_factory, postgres_url):
    first = server_factory(db_url=postgres_url)
    alice = RawClient(first, first.tokens["alice"])
    alice.join("general")
    sent = [alice.send("general", f"pg {i}")["message"] for i in range(3)]
    first.kill()
    alice.sio.disconnect()
    second = server_factory(db_url=postgres_url)
    assert second.tokens == first.tokens
    bob = RawClient(second, second.tokens["bob"])
    assert [m["id"] for m in bob.join("general")["messages"]] == [m["id"] for m in sent]
    assert bob.send("general", "next")["message"]["seq"] == 4
    bob.close()


def test_two_processes_on_one_postgres_share_seq_and_single_use_auth(server_factory,
                                                                     postgres_url):
    servers = [server_factory(db_url=postgres_url) for _ in range(2)]
    names = ("alice", "bob")
    clients = [RawClient(s, s.tokens[n]) for s, n in zip(servers, names, strict=True)]
    for client in clients:
        client.join("general")
    seqs: list[int] = []
    lock = threading.Lock()

    def send_many(client: RawClient) -> None:
        for i in range(50):
            ack = client.send("general", f"{i}")
            assert ack["ok"], ack
            with lock:
                seqs.append(ack["message"]["seq"])

    threads = [threading.Thread(target=send_many, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(seqs) == list(range(1, 101))

    # An authorization string spent on one process is spent on the other too.
    from tests.helpers import fetch_auth

    auth = fetch_auth(servers[0], servers[0].tokens["alice"], "general")
    alice_second = RawClient(servers[1], servers[1].tokens["alice"])
    alice_second.join("general")
    first = clients[0].call("send_message", {"chat_id": "general", "text": "a", "auth": auth,
                                             "client_id": uuid.uuid4().hex})
    again = alice_second.call("send_message", {"chat_id": "general", "text": "b", "auth": auth,
                                               "client_id": uuid.uuid4().hex})
    assert first["ok"] and again["error"]["code"] == "auth_reused"
    for client in (*clients, alice_second):
        client.close()


def test_postgres_repeated_client_id_stores_once(server_factory, postgres_url):
    server = server_factory(db_url=postgres_url)
    alice = RawClient(server, server.tokens["alice"])
    alice.join("general")
    first = alice.send("general", "same", client_id="fixed-id")["message"]
    again = alice.send("general", "same", client_id="fixed-id")["message"]
    assert again == first
    assert len(alice.call("history", {"chat_id": "general"})["messages"]) == 1
    alice.close()
