"""A removed member's joined connections stop receiving the workspace's chats within seconds.

The removal is made outside the server, as the admin command makes it (its
own Store on the database); the server takes the member's connections out
of the chats' rooms (`server/membership_watch.py`), and their next request
there answers `forbidden`. On SQLite, on PostgreSQL, and with two server
processes on PostgreSQL and Redis.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chat_widget.server.membership_watch import MembershipWatch
from chat_widget.server.store import Store
from tests.conftest import RunningServer, start_server
from tests.helpers import RawClient, admin_change

REDIS_URL = "redis://127.0.0.1:6379/0"
LIMIT = 30.0  # seconds: generous on a loaded machine; the watch acts every 2.5 s


@pytest.fixture()
def server(db_url: str, tmp_path: Any) -> Iterator[RunningServer]:
    running = start_server(tmp_path, db_url)
    yield running
    running.stop()


def wait_for_presence(client: RawClient, condition: Callable[[list[str]], bool]) -> None:
    """Until a `presence` event of general whose user ids meet `condition`."""
    deadline = time.monotonic() + LIMIT
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            name, event = client.events.get(timeout=remaining)
        except queue.Empty:
            break
        if name == "presence" and event["chat_id"] == "general" \
                and condition([user["id"] for user in event["users"]]):
            return
    raise AssertionError(f"no such presence in general within {LIMIT} s")


def messages_received(client: RawClient) -> list[str]:
    """The texts of the `message` events recorded so far (taken off the queue)."""
    texts = []
    while not client.events.empty():
        name, payload = client.events.get_nowait()
        if name == "message":
            texts.append(payload["text"])
    return texts


def assert_taken_out(alices: list[RawClient], bob: RawClient) -> None:
    """bob sees alice leave general; what he sends next reaches none of her connections,
    and each of them is refused there."""
    wait_for_presence(bob, lambda ids: "alice" not in ids)
    assert bob.send("general", "after the removal")["ok"]
    for alice in alices:
        # Her refusal comes after the broadcast would have: anything for her is in by now.
        refused = alice.call("send_message", {"chat_id": "general", "text": "still here?",
                                              "auth": "x", "client_id": "c-1"})
        assert refused["error"]["code"] == "forbidden", refused
        assert "after the removal" not in messages_received(alice)


def test_a_removed_member_stops_receiving_and_a_member_again_receives(
        server: RunningServer) -> None:
    alice = RawClient(server, server.tokens["alice"])
    bob = RawClient(server, server.tokens["bob"])
    try:
        alice.join("general")
        bob.join("general")
        assert bob.send("general", "before")["ok"]
        assert alice.next_event("message")["text"] == "before"
        assert admin_change(server.db_url, "remove_member", "demo", "alice")
        assert_taken_out([alice], bob)
        assert bob.send("general", "still for bob")["ok"]  # bob, a member, goes on
        assert "still for bob" in [bob.next_event("message")["text"] for _ in range(2)]
        assert admin_change(server.db_url, "add_member", "demo", "alice")
        alice.join("general")  # a member again: joins and receives at once
        assert bob.send("general", "welcome back")["ok"]
        assert alice.next_event("message")["text"] == "welcome back"
    finally:
        alice.close()
        bob.close()


def test_each_process_takes_out_its_own_connections(server_factory: Any,
                                                    postgres_url: str) -> None:
    channel = f"chat-widget-test-{threading.get_ident()}-{id(postgres_url)}"
    args = ["--redis", REDIS_URL, "--redis-channel", channel]
    first, second = (server_factory(db_url=postgres_url, extra_args=args) for _ in range(2))
    alices = [RawClient(first, first.tokens["alice"]), RawClient(second, second.tokens["alice"])]
    bob = RawClient(second, second.tokens["bob"])
    try:
        for client in [*alices, bob]:
            client.join("general")
        assert admin_change(postgres_url, "remove_member", "demo", "alice")
        assert_taken_out(alices, bob)
    finally:
        for client in [*alices, bob]:
            client.close()


class CountingStore(Store):
    """The real Store, counting the membership reads a round makes."""

    def __init__(self, db_url: str) -> None:
        super().__init__(db_url)
        self.members_reads: list[tuple[str, list[str]]] = []

    async def members_among(self, workspace_id: str, user_ids: list[str]) -> set[str]:
        self.members_reads.append((workspace_id, user_ids))
        return await super().members_among(workspace_id, user_ids)


def test_a_round_reads_members_only_of_new_joiners_and_moved_workspaces(tmp_path: Any) -> None:
    async def scenario() -> None:
        store = CountingStore(f"sqlite:///{tmp_path / 'chat.db'}")
        await store.open()
        for workspace_id in ("team", "other"):
            await store.add_workspace(workspace_id)
        for name in ("dana", "erin"):
            user_id, _token = await store.add_user(name)
            await store.add_member("team", user_id)
            await store.add_member("other", user_id)
        taken_out: list[tuple[str, str]] = []
        watch = MembershipWatch(store)

        async def leave(sid: str, chat_id: str) -> None:
            taken_out.append((sid, chat_id))

        watch.leave = leave
        watch.joined("s1", "dana", "team", "t-chat")
        watch.joined("s2", "erin", "team", "t-chat")
        watch.joined("s3", "erin", "other", "o-chat")
        await store.remove_member("team", "erin")  # before any round: a join let in stale
        await watch.check()  # new joiners are checked once
        assert taken_out == [("s2", "t-chat")]
        assert sorted(store.members_reads) == [("other", ["erin"]), ("team", ["dana", "erin"])]
        store.members_reads.clear()
        await watch.check()
        assert store.members_reads == []  # nothing moved: the versions alone were read
        await store.remove_member("other", "dana")  # no connection of dana's there
        await watch.check()
        assert store.members_reads == [("other", ["erin"])] and len(taken_out) == 1
        watch.disconnected("s3")
        watch.left("s1", "t-chat")
        assert watch._joined == {} and watch._of_sid == {}
        await store.close()

    asyncio.run(scenario())
