"""Changes under concurrency, absence and SIGKILL, on SQLite and PostgreSQL.

`version` must run 1..N per chat with no gap or repeat however the changes
interleave (two users, two server processes), a client that was away must
catch up exactly the changes it missed, and an acknowledged change must
survive a `kill -9` of the server.
"""

from __future__ import annotations

import threading

import pytest

from tests.helpers import RawClient


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    """The database a test's servers share: a SQLite file or a fresh PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'changes.db'}"
    return request.getfixturevalue("postgres_url")


def change_many(client: RawClient, own: list[dict], shared: list[dict], count: int,
                acks: list[dict], lock: threading.Lock) -> None:
    """`count` real changes: edits of the client's own messages, reactions toggled on
    the shared ones (each toggle flips this user's reaction, so each one changes)."""
    reacted: set[str] = set()
    for number in range(count):
        if number % 2:
            target = own[number % len(own)]
            ack = client.edit("general", target["id"], f"{client.token[:6]} edit {number}")
        else:
            target = shared[number % len(shared)]
            on = target["id"] not in reacted
            ack = client.react("general", target["id"], "👍", on)
            reacted ^= {target["id"]}
        with lock:
            acks.append(ack)


def run_concurrently(clients: list[RawClient], count: int) -> list[dict]:
    """Both users change the chat at once; returns every ack."""
    own = {id(c): [c.send("general", "mine")["message"] for _ in range(3)] for c in clients}
    shared = [m for messages in own.values() for m in messages]
    acks: list[dict] = []
    lock = threading.Lock()
    threads = [threading.Thread(target=change_many, args=(c, own[id(c)], shared, count, acks,
                                                          lock)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return acks


def check_gap_free(acks: list[dict], reader: RawClient, total: int) -> None:
    assert [a for a in acks if not a["ok"]] == []
    assert sorted(a["message"]["version"] for a in acks) == list(range(1, total + 1))
    assert reader.join("general")["chat"]["last_version"] == total
    latest: dict[str, dict] = {}
    for ack in sorted(acks, key=lambda a: a["message"]["version"]):
        latest[ack["message"]["id"]] = ack["message"]
    changed = reader.all_changes("general", 0, limit=7)
    assert sorted(changed, key=lambda m: m["id"]) == sorted(latest.values(),
                                                            key=lambda m: m["id"])
    assert [m["version"] for m in changed] == sorted(m["version"] for m in changed)


def two_users_change_at_once(servers: list) -> None:
    """alice on the first server and bob on the last make 100 changes each, at once."""
    clients = [RawClient(servers[0], servers[0].tokens["alice"]),
               RawClient(servers[-1], servers[-1].tokens["bob"])]
    for client in clients:
        client.join("general")
    acks = run_concurrently(clients, 100)
    check_gap_free(acks, clients[-1], 200)
    for client in clients:
        client.close()


def test_two_users_changing_one_chat_get_versions_1_to_n(server_factory, db_url):
    two_users_change_at_once([server_factory(db_url=db_url)])


def test_two_processes_on_one_postgres_share_one_version_sequence(server_factory,
                                                                   postgres_url):
    two_users_change_at_once([server_factory(db_url=postgres_url) for _ in range(2)])


def test_a_client_away_during_50_changes_catches_up_exactly_those(server_factory, tmp_path):
    server = server_factory(db_url=f"sqlite:///{tmp_path / 'away.db'}")
    alice = RawClient(server, server.tokens["alice"])
    alice.join("general")
    messages = [alice.send("general", f"m{i}")["message"] for i in range(40)]
    early = alice.edit("general", messages[0]["id"], "changed before bob left")["message"]
    bob = RawClient(server, server.tokens["bob"])
    seen = bob.join("general", after_version=0)
    assert seen["updated"] == [early]
    bob.close()

    latest: dict[str, dict] = {}
    for number in range(50):
        target = messages[1 + number % 30]  # 30 messages, 20 of them changed twice
        if number < 30:
            ack = alice.edit("general", target["id"], f"edit {number}")
        elif number < 45:
            ack = alice.react("general", target["id"], f"e{number}")
        else:
            ack = alice.delete("general", target["id"])
        assert ack["ok"], ack
        latest[target["id"]] = ack["message"]

    bob = RawClient(server, server.tokens["bob"])
    back = bob.join("general", after_version=early["version"])
    expected = sorted(latest.values(), key=lambda m: m["version"])
    assert back["updated"] == expected and back["has_more_updates"] is False
    assert len(expected) == 30 and expected[-1]["version"] == early["version"] + 50
    assert bob.all_changes("general", early["version"], limit=4) == expected
    bob.close()
    alice.close()


def test_an_acknowledged_change_survives_sigkill(server_factory, db_url):
    first = server_factory(db_url=db_url)
    alice = RawClient(first, first.tokens["alice"])
    alice.join("general")
    messages = [alice.send("general", f"m{i}")["message"] for i in range(10)]
    latest: dict[str, dict] = {}
    for number in range(30):
        target = messages[number % 10]
        if number < 20:
            ack = alice.edit("general", target["id"], f"durable edit {number}")
        elif number < 29:
            ack = alice.react("general", target["id"], "✅")
        else:
            ack = alice.delete("general", target["id"])
        assert ack["ok"], ack
        latest[target["id"]] = ack["message"]
    first.kill()  # right after the last ack, no clean shutdown
    alice.sio.disconnect()

    second = server_factory(db_url=db_url)
    bob = RawClient(second, second.tokens["bob"])
    joined = bob.join("general", after_version=0)
    assert joined["chat"]["last_version"] == 30
    assert joined["updated"] == sorted(latest.values(), key=lambda m: m["version"])
    assert {m["id"]: m for m in joined["messages"]} == {
        m["id"]: latest.get(m["id"], m) for m in messages}
    bob.close()
