"""Two server processes on one PostgreSQL and one Redis lose no message, even when Redis does.

Redis pub/sub delivers at most once; the server makes up for it from the
database. The outage test runs its own redis-server on a free port and
SIGKILLs it; the shared one on 6379 is never touched.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid

import redis

from bench.ports import free_port
from tests.helpers import RawClient, SentLog, fetch_auth, http

SHARED_REDIS = "redis://127.0.0.1:6379/0"


def two_processes(server_factory, postgres_url: str, redis_url: str) -> list:
    args = ["--redis", redis_url, "--redis-channel", f"chat-widget-test-{uuid.uuid4().hex}"]
    return [server_factory(db_url=postgres_url, extra_args=args) for _ in range(2)]


def wait_for(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not hold in time")
        time.sleep(0.05)


def health(server) -> dict:
    return http(server, "GET", "/api/health").json()


def received(client: RawClient, last_seq: int, last_version: int,
             timeout: float = 15.0) -> tuple[list[int], list[dict]]:
    """Every `message` seq and `message_updated` the client got, in arrival order, until
    both `last_seq` and a change at `last_version` have come."""
    seqs: list[int] = []
    updates: list[dict] = []
    deadline = time.monotonic() + timeout
    while last_seq not in seqs or not updates or updates[-1]["version"] < last_version:
        name, payload = client.events.get(timeout=max(0.0, deadline - time.monotonic()))
        if name == "message":
            seqs.append(payload["seq"])
        elif name == "message_updated":
            updates.append(payload)
    return seqs, updates


def test_the_first_message_after_start_reaches_the_other_process(
        server_factory, postgres_url):
    first, second = two_processes(server_factory, postgres_url, SHARED_REDIS)
    channel = first.extra_args[-1]
    # Ready means subscribed: both processes listen before any client connects.
    assert redis.Redis.from_url(SHARED_REDIS).pubsub_numsub(channel) == [(channel.encode(), 2)]
    alice = RawClient(first, first.tokens["alice"])
    alice.join("general")
    auth = fetch_auth(first, first.tokens["alice"], "general")
    bob = RawClient(second, second.tokens["bob"])  # the first connection process two sees
    bob.join("general")
    sent = alice.call("send_message", {"chat_id": "general", "text": "right away",
                                       "auth": auth, "client_id": uuid.uuid4().hex})
    assert sent["ok"], sent
    assert bob.next_event("message")["id"] == sent["message"]["id"]
    alice.close()
    bob.close()


def test_a_redis_crash_loses_no_message_nor_change_and_shows_in_health(
        server_factory, postgres_url, private_redis):
    first, second = two_processes(server_factory, postgres_url, private_redis.url)
    alice = RawClient(first, first.tokens["alice"])  # sends on process one
    bob = RawClient(second, second.tokens["bob"])  # sends on process two
    listeners = [RawClient(first, first.tokens["alice"]), RawClient(second, second.tokens["bob"])]
    # React on both processes, until some reactions were made while Redis was down.
    changers = [RawClient(first, first.tokens["alice"]), RawClient(second, second.tokens["bob"])]
    clients = [alice, bob, *listeners]
    for client in [*clients, *changers]:
        client.join("general")
    target = alice.send("general", "reacted to throughout")["message"]
    sent = SentLog()
    stop = threading.Event()
    redis_down = threading.Event()
    acked_versions: list[int] = []

    def keep_reacting(client: RawClient) -> None:
        on, made_while_down = True, 0
        while made_while_down < 2:  # the last changes are made while Redis is down
            ack = client.react("general", target["id"], "👍", on)
            assert ack["ok"], ack
            acked_versions.append(ack["message"]["version"])
            on = not on
            made_while_down += redis_down.is_set()
            time.sleep(0.1)

    def keep_sending(client: RawClient, every: float) -> None:
        while not stop.is_set():
            sent.send(client, "general", f"message {time.monotonic()}")
            time.sleep(every)

    senders = [threading.Thread(target=keep_sending, args=(alice, 0.15)),
               threading.Thread(target=keep_sending, args=(bob, 0.4))]
    reactors = [threading.Thread(target=keep_reacting, args=(client,)) for client in changers]
    for thread in [*senders, *reactors]:
        thread.start()
    try:
        wait_for(lambda: sent.count() >= 10)
        private_redis.kill()
        for server in (first, second):
            wait_for(lambda server=server: health(server)["redis"] == "down")
        redis_down.set()
        for reactor in reactors:
            reactor.join(timeout=30)
        private_redis.start()
        for server in (first, second):
            wait_for(lambda server=server: health(server)["redis"] == "ok")
        after_restart = sent.count()
        wait_for(lambda: sent.count() >= after_restart + 10)
    finally:
        stop.set()
        for thread in [*senders, *reactors]:
            thread.join(timeout=30)
    assert sent.refused == []
    assert sorted(sent.seqs) == list(range(2, len(sent.seqs) + 2))
    assert sorted(acked_versions) == list(range(1, len(acked_versions) + 1))
    final = next(m for m in alice.all_changes("general") if m["id"] == target["id"])
    assert final["version"] == max(acked_versions)
    for client in clients:
        seqs, updates = received(client, max(sent.seqs), final["version"])
        assert [seq for seq in seqs if seq != target["seq"]] == sorted(sent.seqs)
        versions = [update["version"] for update in updates]
        # In order and each once; a version superseded while Redis was down may be skipped.
        assert versions == sorted(set(versions)) and updates[-1] == final
    for client in [*clients, *changers]:
        client.close()
    assert "Redis subscription down" in second.log()
    assert "Redis subscription restored" in second.log()


def test_messages_and_changes_redis_never_carried_reach_clients_from_the_database(
        server_factory, postgres_url):
    first, second = two_processes(server_factory, postgres_url, SHARED_REDIS)
    # A process on the same database without Redis: nothing it stores is published.
    loner = server_factory(db_url=postgres_url)
    alice = RawClient(first, first.tokens["alice"])
    bob = RawClient(second, second.tokens["bob"])
    hidden = RawClient(loner, loner.tokens["alice"])
    for client in (alice, bob, hidden):
        client.join("general")
    # A hole, then a message through Redis: the hole is filled first, in order.
    unseen = hidden.send("general", "stored, never published")["message"]
    after = alice.send("general", "published")["message"]
    for client in (alice, bob):
        assert [client.next_event("message")["id"] for _ in range(2)] == [unseen["id"],
                                                                         after["id"]]
    # The same for changes (by `version`): one never published, then one through Redis.
    unseen_change = hidden.edit("general", unseen["id"], "edited where Redis never heard")
    after_change = bob.react("general", after["id"], "👍")
    assert (unseen_change["message"]["version"], after_change["message"]["version"]) == (1, 2)
    for client in (alice, bob):
        updates = [client.next_event("message_updated") for _ in range(2)]
        assert updates == [unseen_change["message"], after_change["message"]]
    # The last message and the last change, with nothing after them to show a hole:
    # the periodic check finds them.
    last = hidden.send("general", "the last word")["message"]
    last_change = hidden.react("general", unseen["id"], "🙈")["message"]
    for client in (alice, bob):
        assert client.next_event("message", timeout=30)["id"] == last["id"]
    for client in (alice, bob):
        assert client.next_event("message_updated", timeout=30) == last_change
    for client in (alice, bob, hidden):
        client.close()


def test_serve_refuses_to_start_without_a_reachable_redis(tmp_path):
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    result = subprocess.run(
        [sys.executable, "-m", "chat_widget", "serve", "--port", "0",
         "--db", f"sqlite:///{tmp_path / 'chat.db'}", "--redis", nowhere],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "did not confirm a subscription" in result.stderr
