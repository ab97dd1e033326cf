"""Durability and ordering: restarts, SIGKILL after an ack, concurrent senders."""

from __future__ import annotations

import threading

from tests.helpers import RawClient, SentLog


def test_history_and_seq_continue_after_a_restart(server_factory, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'restart.db'}"
    first = server_factory(db_url=db_url)
    alice = RawClient(first, first.tokens["alice"])
    alice.join("general")
    sent = [alice.send("general", f"before restart {i}")["message"] for i in range(3)]
    alice.close()
    first.stop()

    second = server_factory(db_url=db_url)
    assert second.tokens == first.tokens  # demo tokens are stable on one database
    bob = RawClient(second, second.tokens["bob"])
    joined = bob.join("general")
    assert [m["id"] for m in joined["messages"]] == [m["id"] for m in sent]
    after = bob.send("general", "after restart")["message"]
    bob.close()
    assert after["seq"] == sent[-1]["seq"] + 1


def test_acknowledged_message_survives_sigkill(server_factory, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'kill.db'}"
    first = server_factory(db_url=db_url)
    alice = RawClient(first, first.tokens["alice"])
    alice.join("general")
    acked = [alice.send("general", f"durable {i}")["message"] for i in range(20)]
    first.kill()  # right after the last ack, no clean shutdown
    alice.sio.disconnect()

    second = server_factory(db_url=db_url)
    bob = RawClient(second, second.tokens["bob"])
    stored = bob.join("general")["messages"]
    bob.close()
    assert [m["id"] for m in stored] == [m["id"] for m in acked]


def test_concurrent_senders_get_gap_free_seq(fresh_server):
    senders = [RawClient(fresh_server, fresh_server.tokens[name])
               for name in ("alice", "bob", "alice", "bob")]
    for client in senders:
        client.join("general")
    sent = SentLog()

    def send_many(client: RawClient, number: int) -> None:
        for i in range(100):
            sent.send(client, "general", f"sender {number} message {i}")

    threads = [threading.Thread(target=send_many, args=(c, n)) for n, c in enumerate(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for client in senders:
        client.close()
    assert sent.refused == []
    assert sorted(sent.seqs) == list(range(1, 401))
    reader = RawClient(fresh_server, fresh_server.tokens["alice"])
    stored = []
    after = 0
    while True:
        page = reader.call("history", {"chat_id": "general", "after_seq": after, "limit": 500})
        stored += page["messages"]
        if not page["has_more"]:
            break
        after = stored[-1]["seq"]
    reader.close()
    assert [m["seq"] for m in stored] == list(range(1, 401))
