"""Presence and typing are one truth for every server process sharing Redis, and a killed
process's users leave within seconds.

Two `serve` processes on one PostgreSQL database and the machine's Redis,
on a Redis channel (and so key prefix) of the test's own.
"""

from __future__ import annotations

import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import redis

from bench.steady_fleet import add_members
from tests.helpers import RawClient
from tests.server.test_redis_fanout import SHARED_REDIS, health, two_processes, wait_for


def ids(users: list[dict]) -> list[str]:
    return [user["id"] for user in users]


def presence_of(client: RawClient, wanted: list[str], timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        event = client.next_event("presence", timeout=max(0.1, deadline - time.monotonic()))
        if ids(event["users"]) == wanted:
            return event


def test_presence_and_typing_span_the_processes_and_die_with_one(server_factory, postgres_url):
    """One truth across processes; a SIGKILLed process's users leave within ten seconds."""
    first, second = two_processes(server_factory, postgres_url, SHARED_REDIS)
    alice = RawClient(first, first.tokens["alice"])
    bob = RawClient(second, second.tokens["bob"])
    bob_on_first = RawClient(first, first.tokens["bob"])
    alice_too = RawClient(first, first.tokens["alice"])
    try:
        assert ids(alice.join("general")["present"]) == ["alice"]
        assert ids(bob.join("general")["present"]) == ["alice", "bob"]
        presence_of(alice, ["alice", "bob"])
        bob_on_first.join("general")
        assert alice.no_event_within(0.5, "presence")  # bob was here already, on the other one

        assert bob.call("typing", {"chat_id": "general", "typing": True})["ok"]
        assert alice.next_event("typing")["user"]["id"] == "bob"
        # The same user typing through the other process within the second: no new broadcast.
        assert bob_on_first.call("typing", {"chat_id": "general", "typing": True})["ok"]
        assert alice.no_event_within(0.5, "typing")
        assert bob_on_first.no_event_within(0.1, "typing")  # its own typing is not told back
        assert ids(alice_too.join("general")["typing"]) == ["bob"]

        assert bob.send("general", "sent through the second")["ok"]
        assert alice.next_event("typing")["typing"] is False  # its message ended it

        bob_on_first.close()
        assert alice.no_event_within(0.5, "presence")  # still here through the second
        bob.call("typing", {"chat_id": "general", "typing": True})
        assert alice.next_event("typing")["typing"] is True

        second.kill()
        killed = time.monotonic()
        ended, took = None, None
        while took is None or ended is None:  # both come, typing's end first
            event = alice.next_event(timeout=max(0.1, killed + 12 - time.monotonic()))
            if "typing" in event and event["user"]["id"] == "bob":
                ended = event
            elif ids(event.get("users", [])) == ["alice"]:
                took = time.monotonic() - killed
        assert ended["typing"] is False
        assert took < 10, took
        channel = first.extra_args[first.extra_args.index("--redis-channel") + 1]
        left = redis.Redis.from_url(SHARED_REDIS).hvals(f"{channel}:live:chat:general")
        assert sorted(json.loads(value)["id"] for value in left) == ["alice", "alice"]  # no bob
    finally:
        for client in (alice, alice_too, bob, bob_on_first):
            if client.sio.connected:
                client.sio.disconnect()


def test_after_redis_restarts_every_join_is_shown_everyone_present(server_factory, postgres_url,
                                                                     private_redis):
    """Redis comes back empty: each process writes its connections back, and no join meets
    a connection of the client pool that died with the old Redis (it answered from this
    process alone, leaving out the other process's users)."""
    dave = secrets.token_urlsafe(16)
    add_members(postgres_url, {"dave": dave})  # present on the second process only
    first, second = two_processes(server_factory, postgres_url, private_redis.url)
    clients: list[RawClient] = []

    def joined(server, user: str) -> list[str]:
        client = RawClient(server, dave if user == "dave" else server.tokens[user])
        clients.append(client)
        return ids(client.join("general")["present"])

    try:
        with ThreadPoolExecutor(4) as pool:  # joins at once: several pooled Redis connections
            list(pool.map(lambda _: joined(first, "alice"), range(4)))
            list(pool.map(lambda _: joined(second, "dave"), range(4)))
            private_redis.kill()
            private_redis.start()
            for server in (first, second):
                wait_for(lambda server=server: health(server)["redis"] == "ok")
                wait_for(lambda server=server: "connections back" in server.log())
            views = list(pool.map(lambda _: joined(first, "bob"), range(4)))
        assert views == [["alice", "bob", "dave"]] * 4
        assert "answering from this process" not in first.log().split("connections back")[-1]
    finally:
        for client in clients:
            client.close()


def test_chat_activity_reaches_every_process_as_one_pubsub_message_per_message(
        server_factory, postgres_url):
    """Each member's own counts reach its connections on every process; the workspace's
    `chat_activity` crosses Redis as one message, not one per member."""
    first, second = two_processes(server_factory, postgres_url, SHARED_REDIS)
    channel = first.extra_args[first.extra_args.index("--redis-channel") + 1]
    watcher = redis.Redis.from_url(SHARED_REDIS).pubsub(ignore_subscribe_messages=True)
    watcher.subscribe(channel)
    sender = RawClient(first, first.tokens["alice"])
    alice_there = RawClient(second, second.tokens["alice"])
    bob_here, bob_there = RawClient(first, first.tokens["bob"]), RawClient(second,
                                                                             second.tokens["bob"])
    clients = [sender, alice_there, bob_here, bob_there]
    try:
        sender.join("general")
        before = bob_here.call("join", {"chat_id": "general"})["chat"]
        bob_here.call("leave", {"chat_id": "general"})  # counts reach members joined or not
        stored = [sender.send("general", f"@bob number {n}")["message"] for n in range(3)]
        for n, message in enumerate(stored, start=1):
            expected = {"chat_id": "general", "last_seq": message["seq"],
                        "unread": before["unread"] + n,
                        "unread_mentions": before["unread_mentions"] + n,
                        "last_read_seq": before["last_read_seq"]}
            assert bob_here.next_event("chat_activity") == expected
            assert bob_there.next_event("chat_activity") == expected
            own = alice_there.next_event("chat_activity")
            assert (own["last_seq"], own["unread"]) == (message["seq"], 0)
        methods: list[tuple[str, str | None]] = []
        quiet_until = time.monotonic() + 1.0  # the subscription's own answer reads as None
        while time.monotonic() < quiet_until:
            if (published := watcher.get_message(timeout=0.2)) is not None:
                body = json.loads(published["data"])
                methods.append((body["method"], body.get("event")))
                quiet_until = time.monotonic() + 1.0
        assert methods.count(("chat-widget-emit-each", "chat_activity")) == 3
        assert ("emit", "chat_activity") not in methods
        assert methods.count(("emit", "message")) == 3
    finally:
        watcher.close()
        for client in clients:
            client.close()
