"""`chat_activity` counts carried forward from the last event equal a fresh count, always.

The server carries each member's counts forward from its last `chat_activity`
while nothing else moved, and counts again when something did: a message
deleted (the chat's `last_version`), a read marker moved, a message stored by
another process sharing the database. Each step below is one of those, and
after each the event bob hears must hold what `GET /api/chats` counts afresh.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from chat_widget.server.member_counts import StoredMessage, carried_each
from chat_widget.server.unread import MemberCounts, MemberMarkers
from tests.conftest import RunningServer, start_server
from tests.helpers import RawClient, http


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RunningServer]]:
    """Two processes on one SQLite file, no Redis: each tells only its own clients."""
    first = start_server(tmp_path_factory.mktemp("counts-first"))
    second = start_server(tmp_path_factory.mktemp("counts-second"), first.db_url)
    yield [first, second]
    second.stop()
    first.stop()


def activity_at(client: RawClient, seq: int) -> dict[str, Any]:
    """The client's `chat_activity` of `general` that reached `seq` (earlier ones skipped)."""
    while True:
        event = client.next_event("chat_activity")
        if event["chat_id"] == "general" and event["last_seq"] >= seq:
            return event


def fresh_counts(server: RunningServer, name: str) -> tuple[int, int, int]:
    chats = http(server, "GET", "/api/chats", server.tokens[name]).json()["chats"]
    general = next(chat for chat in chats if chat["id"] == "general")
    return general["last_read_seq"], general["unread"], general["unread_mentions"]


def counts_of(event: dict[str, Any]) -> tuple[int, int, int]:
    return event["last_read_seq"], event["unread"], event["unread_mentions"]


def test_every_event_holds_a_fresh_count_whatever_moved_between(two_servers) -> None:
    first, second = two_servers
    alice = RawClient(first, first.tokens["alice"])
    bob = RawClient(first, first.tokens["bob"])  # joins nothing: hears chat_activity only
    bob_writing = RawClient(first, first.tokens["bob"])
    alice_elsewhere = RawClient(second, second.tokens["alice"])
    try:
        for client in (alice, bob_writing, alice_elsewhere):
            client.join("general")

        def sent(client: RawClient, text: str) -> dict[str, Any]:
            ack = client.send("general", text)
            assert ack["ok"], ack
            return ack["message"]

        steps = [
            lambda: sent(alice, "plain"),
            lambda: sent(alice, "@bob look"),  # a mention
            lambda: sent(bob_writing, "bob's own"),  # not unread for bob
            lambda: sent(alice, "@bob again"),
        ]
        mentioned = None
        for step in steps:
            message = step()
            mentioned = message if "@bob again" in message["text"] else mentioned
            assert counts_of(activity_at(bob, message["seq"])) == fresh_counts(first, "bob")

        # A deleted message is no longer unread: the next event counts again.
        assert mentioned is not None
        assert alice.delete("general", mentioned["id"])["ok"]
        message = sent(alice, "after the delete")
        assert counts_of(activity_at(bob, message["seq"])) == fresh_counts(first, "bob")

        # bob's marker moves (its own event), then the next message counts from there.
        ack = bob_writing.call("mark_read", {"chat_id": "general", "seq": message["seq"] - 1})
        assert ack["ok"], ack
        message = sent(alice, "after the read")
        assert counts_of(activity_at(bob, message["seq"])) == fresh_counts(first, "bob")

        # Messages stored by the other process: this one never heard of them.
        for text in ("@bob from the other process", "and one more"):
            sent(alice_elsewhere, text)
        message = sent(alice, "back here")
        event = activity_at(bob, message["seq"])
        assert counts_of(event) == fresh_counts(first, "bob")
        assert event["last_seq"] == message["seq"]

        # And carried forward again from there.
        for text in ("@bob one", "two", "@bob three"):
            message = sent(alice, text)
            assert counts_of(activity_at(bob, message["seq"])) == fresh_counts(first, "bob")
    finally:
        for client in (alice, bob, bob_writing, alice_elsewhere):
            client.close()


TOLD = MemberCounts(5, 2, {"alice": {"last_read_seq": 5, "unread": 0, "unread_mentions": 0},
                           "bob": {"last_read_seq": 1, "unread": 3, "unread_mentions": 1}})


def carried(told: MemberCounts, now: MemberMarkers,
            stored: dict[int, StoredMessage]) -> MemberCounts | None:
    """`told` carried forward to the chat's `last_seq` as read `now` (or None)."""
    steps = carried_each(told, now, stored, [now.last_seq])
    return steps[0] if steps else None


def alone(sender: str, *mentions: str) -> StoredMessage:
    return StoredMessage(sender, frozenset(mentions))


def test_carried_adds_what_others_sent_and_whom_it_mentions() -> None:
    stored = {6: alone("alice", "bob"), 7: alone("bob", "alice"), 8: alone("bot:echo")}
    now = MemberMarkers(8, 2, {"alice": 5, "bob": 1})
    assert carried(TOLD, now, stored) == MemberCounts(8, 2, {
        "alice": {"last_read_seq": 5, "unread": 2, "unread_mentions": 1},
        "bob": {"last_read_seq": 1, "unread": 5, "unread_mentions": 2}})


@pytest.mark.parametrize("now, stored", [
    (MemberMarkers(6, 3, {"alice": 5, "bob": 1}), {6: alone("alice")}),  # a message changed
    (MemberMarkers(6, 2, {"alice": 5, "bob": 4}), {6: alone("alice")}),  # a marker moved
    (MemberMarkers(6, 2, {"alice": 5, "bob": 1, "carol": 0}), {6: alone("alice")}),  # joined
    (MemberMarkers(7, 2, {"alice": 5, "bob": 1}), {7: alone("alice")}),  # stored elsewhere
])
def test_carried_gives_up_when_anything_else_moved(now: MemberMarkers,
                                                   stored: dict[int, StoredMessage]) -> None:
    assert carried(TOLD, now, stored) is None


def test_carried_each_counts_up_to_each_message_in_turn() -> None:
    stored = {6: alone("alice", "bob"), 7: alone("bob"), 8: alone("alice")}
    now = MemberMarkers(8, 2, {"alice": 5, "bob": 1})
    steps = carried_each(TOLD, now, stored, [5, 6, 8])
    assert steps is not None
    assert [(step.last_seq, step.members["bob"]["unread"], step.members["bob"]["unread_mentions"],
             step.members["alice"]["unread"]) for step in steps] == [
        (5, 3, 1, 0),  # already counted: the counts as they stand
        (6, 4, 2, 0),
        (8, 5, 2, 1)]  # 7 and 8 together: bob's own 7 is not unread for bob
    assert carried_each(TOLD, now, {6: alone("alice"), 8: alone("alice")}, [8]) is None  # 7?
    assert carried_each(TOLD, now, stored, [9]) is None  # beyond what the read saw


def test_a_burst_of_sends_gets_one_event_per_message_each_naming_its_own(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """Messages stored together share one read of the counts; each event still carries
    the counts up to its own message, in seq order, one per message."""
    server = start_server(tmp_path_factory.mktemp("counts-burst"))
    bob = RawClient(server, server.tokens["bob"])  # joins nothing: hears chat_activity only
    senders = [RawClient(server, server.tokens["alice"]) for _ in range(6)]
    try:
        for sender in senders:
            sender.join("general")
        assert senders[0].send("general", "first")["ok"]
        assert activity_at(bob, 1)["unread"] == 1
        start = threading.Barrier(len(senders))
        acks: list[dict[str, Any]] = []

        def burst(sender: RawClient) -> None:
            for number in range(5):
                if number == 0:
                    start.wait()
                acks.append(sender.send("general", f"burst {number}"))

        threads = [threading.Thread(target=burst, args=(sender,)) for sender in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(ack["ok"] for ack in acks)
        last = 1 + len(acks)
        events = [bob.next_event("chat_activity") for _ in range(len(acks))]
        assert [event["last_seq"] for event in events] == list(range(2, last + 1))
        assert [event["unread"] for event in events] == list(range(2, last + 1))
        assert counts_of(events[-1]) == fresh_counts(server, "bob")
    finally:
        for client in (bob, *senders):
            client.close()
        server.stop()
