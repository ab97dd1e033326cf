"""Protocol 1.1 "Who is here, who is typing, what was read", event by event, on the real server.

Raw Socket.IO clients speak the wire protocol directly. The server is this
module's own, so presence holds only what these tests did.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.conftest import RunningServer, start_server
from tests.helpers import RawClient, http


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("presence"))
    yield running
    running.stop()


@pytest.fixture
def connect(own_server) -> Iterator:
    opened: list[RawClient] = []

    def open_as(name: str) -> RawClient:
        client = RawClient(own_server, own_server.tokens[name])
        opened.append(client)
        return client

    yield open_as
    for client in opened:
        if client.sio.connected:
            client.close()


def ids(users: list[dict]) -> list[str]:
    return [user["id"] for user in users]


def presence_of(client: RawClient, wanted: list[str]) -> dict:
    """The next `presence` whose users are `wanted` (earlier ones are skipped)."""
    while True:
        event = client.next_event("presence")
        if ids(event["users"]) == wanted:
            return event


def test_the_join_ack_has_the_joiner_and_its_presence_reaches_it(connect):
    alice, bob = connect("alice"), connect("bob")
    ack = alice.join("general")
    assert ids(ack["present"]) == ["alice"]
    assert ack["present"][0] == {"id": "alice", "name": "alice", "kind": "user"}
    assert ids(alice.next_event("presence")["users"]) == ["alice"]
    assert ids(bob.join("general")["present"]) == ["alice", "bob"]
    assert presence_of(bob, ["alice", "bob"])["chat_id"] == "general"
    presence_of(alice, ["alice", "bob"])


def test_presence_changes_only_when_a_users_last_connection_goes(connect):
    alice, phone, laptop = connect("alice"), connect("bob"), connect("bob")
    alice.join("general")
    phone.join("general")
    laptop.join("general")
    presence_of(alice, ["alice", "bob"])
    assert phone.call("leave", {"chat_id": "general"}) == {"ok": True}
    assert alice.no_event_within(0.5, "presence")  # bob is still here on the laptop
    laptop.close()  # a drop counts as leaving
    assert ids(alice.next_event("presence")["users"]) == ["alice"]


def test_typing_and_mark_read_need_a_join_and_a_good_payload(connect):
    alice = connect("alice")
    assert alice.call("typing", {"chat_id": "general", "typing": True})["error"]["code"] \
        == "not_joined"
    assert alice.call("mark_read", {"chat_id": "general", "seq": 0})["error"]["code"] \
        == "not_joined"
    assert alice.call("typing", {"chat_id": "staff-room", "typing": True})["error"]["code"] \
        == "forbidden"
    alice.join("general")
    for bad in ({"chat_id": "general"}, {"chat_id": "general", "typing": 1},
                {"chat_id": "general", "typing": "yes"}, {"typing": True}):
        assert alice.call("typing", bad)["error"]["code"] == "bad_request", bad
    for bad in ({"chat_id": "general"}, {"chat_id": "general", "seq": -1},
                {"chat_id": "general", "seq": True}, {"chat_id": "general", "seq": 1.5},
                {"seq": 0}):
        assert alice.call("mark_read", bad)["error"]["code"] == "bad_request", bad
    last_seq = alice.join("general")["chat"]["last_seq"]
    beyond = alice.call("mark_read", {"chat_id": "general", "seq": last_seq + 1})
    assert beyond["error"]["code"] == "bad_request"


def test_typing_reaches_the_room_but_the_typers_own_connections(connect):
    alice, alice_too, bob = connect("alice"), connect("alice"), connect("bob")
    for client in (alice, alice_too, bob):
        client.join("general")
    assert alice.call("typing", {"chat_id": "general", "typing": True}) == {"ok": True}
    event = bob.next_event("typing")
    assert event == {"chat_id": "general", "typing": True,
                     "user": {"id": "alice", "name": "alice", "kind": "user"}}
    assert ids(connect("bob").join("general")["typing"]) == ["alice"]  # the ack's extension
    for _ in range(3):  # repeats within a second: no new broadcast
        assert alice.call("typing", {"chat_id": "general", "typing": True})["ok"]
    assert bob.no_event_within(0.5, "typing")
    assert alice_too.no_event_within(0.1, "typing") and alice.no_event_within(0.1, "typing")
    assert alice.call("typing", {"chat_id": "general", "typing": False}) == {"ok": True}
    assert bob.next_event("typing")["typing"] is False
    assert alice.call("typing", {"chat_id": "general", "typing": False}) == {"ok": True}
    assert bob.no_event_within(0.3, "typing")  # was not typing: nothing to say


def test_typing_lapses_after_six_seconds_unless_repeated(connect):
    alice, bob = connect("alice"), connect("bob")
    alice.join("general")
    bob.join("general")
    alice.call("typing", {"chat_id": "general", "typing": True})
    assert bob.next_event("typing")["typing"] is True
    started = time.monotonic()
    time.sleep(1.2)
    alice.call("typing", {"chat_id": "general", "typing": True})  # repeated: lapse moves on
    assert bob.next_event("typing")["typing"] is True
    repeated = time.monotonic()
    ended = bob.next_event("typing", timeout=10)
    lapsed_after = time.monotonic() - repeated
    assert ended["typing"] is False and ended["user"]["id"] == "alice"
    assert 5.5 < lapsed_after < 7.5 and time.monotonic() - started > 6.5


def test_typing_ends_with_a_stored_message_or_the_last_connection_leaving(connect):
    alice, bob = connect("alice"), connect("bob")
    alice.join("general")
    bob.join("general")
    alice.call("typing", {"chat_id": "general", "typing": True})
    assert bob.next_event("typing")["typing"] is True
    assert alice.send("general", "there it is")["ok"]
    assert bob.next_event("typing")["typing"] is False
    alice.call("typing", {"chat_id": "general", "typing": True})
    assert bob.next_event("typing")["typing"] is True
    alice.close()
    assert bob.next_event("typing") == {
        "chat_id": "general", "typing": False,
        "user": {"id": "alice", "name": "alice", "kind": "user"}}
    presence_of(bob, ["bob"])


def test_mark_read_moves_forward_only_and_tells_the_room_and_the_readers_devices(connect):
    alice, bob, bob_elsewhere = connect("alice"), connect("bob"), connect("bob")
    alice.join("general")
    bob.join("general")  # bob_elsewhere joins nothing
    seqs = [alice.send("general", f"read me {n}")["message"]["seq"] for n in range(3)]
    ack = bob.call("mark_read", {"chat_id": "general", "seq": seqs[1]})
    assert ack == {"ok": True, "last_read_seq": seqs[1]}
    assert alice.next_event("read") == {"chat_id": "general", "user_id": "bob",
                                        "last_read_seq": seqs[1]}
    activity = bob_elsewhere.next_event("chat_activity")
    while activity["last_read_seq"] != seqs[1]:  # the messages' own come first
        activity = bob_elsewhere.next_event("chat_activity")
    assert (activity["unread"], activity["last_seq"]) == (1, seqs[2])
    assert bob.call("mark_read", {"chat_id": "general", "seq": seqs[0]}) \
        == {"ok": True, "last_read_seq": seqs[1]}  # never back
    assert alice.no_event_within(0.3, "read")
    chats = http(bob.server, "GET", "/api/chats", bob.token).json()["chats"]
    general = next(chat for chat in chats if chat["id"] == "general")
    assert (general["last_read_seq"], general["unread"]) == (seqs[1], 1)


def test_chat_activity_reaches_every_member_joined_or_not_and_no_one_else(connect):
    alice, bob, carol = connect("alice"), connect("bob"), connect("carol")
    alice.join("general")
    before = bob.call("join", {"chat_id": "general"})["chat"]
    bob.call("leave", {"chat_id": "general"})
    stored = alice.send("general", "@bob are you there?")["message"]
    activity = bob.next_event("chat_activity")
    assert activity == {"chat_id": "general", "last_seq": stored["seq"],
                        "unread": before["unread"] + 1,
                        "unread_mentions": before["unread_mentions"] + 1,
                        "last_read_seq": before["last_read_seq"]}
    own = alice.next_event("chat_activity")
    assert own["chat_id"] == "general" and own["last_seq"] == stored["seq"]
    assert carol.no_event_within(0.5, "chat_activity")  # another workspace


def test_a_burst_of_messages_gives_one_chat_activity_each_never_going_back(connect):
    alice, bob = connect("alice"), connect("bob")
    alice.join("general")
    seqs = [alice.send("general", f"burst {n}")["message"]["seq"] for n in range(5)]
    seen = [bob.next_event("chat_activity")["last_seq"] for _ in seqs]
    assert seen == sorted(seen) and seen[-1] == seqs[-1]
    assert bob.no_event_within(0.5, "chat_activity")  # one each, no more


def test_members_lists_the_workspace_and_the_chats_bot(own_server):
    tokens = own_server.tokens
    answer = http(own_server, "GET", "/api/chats/echo/members", tokens["alice"])
    assert answer.status_code == 200
    assert answer.json() == {"members": [
        {"id": "alice", "name": "alice", "kind": "user"},
        {"id": "bob", "name": "bob", "kind": "user"},
        {"id": "bot:echo", "name": "echo", "kind": "bot"}]}
    assert ids(http(own_server, "GET", "/api/chats/general/members",
                    tokens["bob"]).json()["members"]) == ["alice", "bob"]
    refusals = {
        401: http(own_server, "GET", "/api/chats/general/members"),
        403: http(own_server, "GET", "/api/chats/general/members", tokens["carol"]),
        404: http(own_server, "GET", "/api/chats/nowhere/members", tokens["alice"]),
    }
    for status, response in refusals.items():
        assert response.status_code == status
        assert response.json()["error"]["code"] == {401: "unauthorized", 403: "forbidden",
                                                    404: "not_found"}[status]
