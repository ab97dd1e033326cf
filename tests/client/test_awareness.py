"""ChatClient's protocol 1.1 awareness (client/awareness.py): presence, typing, read markers,
unread counts and mentions, against the real server.

One server of this module's own, so who is present is only what these tests did.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest

from chat_widget.client import ChatClient
from chat_widget.errors import ChatError
from tests.client.common import FAST_RECONNECT, Recorder, client_for, wait_until
from tests.conftest import RunningServer, start_server


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("awareness"))
    yield running
    running.stop()


def ids(users: list[dict[str, Any]]) -> list[str]:
    return [user["id"] for user in users]


def chat_in(chats: list[dict[str, Any]], chat_id: str) -> dict[str, Any]:
    return next(chat for chat in chats if chat["id"] == chat_id)


def test_present_follows_who_joins_and_leaves(own_server) -> None:
    with client_for(own_server.url, own_server.tokens["alice"]) as alice:
        alice.join("general")
        assert ids(alice.present) == ["alice"]
        seen = Recorder()
        remove = alice.on_presence(seen)
        with client_for(own_server.url, own_server.tokens["bob"]) as bob:
            bob.join("general")
            assert ids(bob.present) == ["alice", "bob"]  # from the join's ack
            seen.wait_for(lambda items: any(ids(users) == ["alice", "bob"]
                                            for _chat, users in items))
            assert ids(alice.present) == ["alice", "bob"]
        seen.wait_for(lambda items: ids(items[-1][1]) == ["alice"])
        assert seen.items[-1][0] == "general" and ids(alice.present) == ["alice"]
        remove()
        count = len(seen.items)
        with client_for(own_server.url, own_server.tokens["bob"]) as bob:
            bob.join("general")
            wait_until(lambda: ids(alice.present) == ["alice", "bob"], what="bob back")
        assert len(seen.items) == count  # removed: heard nothing more


def test_typing_reaches_the_others_and_ends_with_a_message(own_server) -> None:
    with client_for(own_server.url, own_server.tokens["alice"]) as alice, \
            client_for(own_server.url, own_server.tokens["bob"]) as bob:
        alice.join("general")
        bob.join("general")
        typing = Recorder()
        alice.on_typing(typing)
        bob.set_typing(True)
        typing.wait_for(lambda items: items)
        chat_id, user, started = typing.items[0]
        assert (chat_id, user["id"], started) == ("general", "bob", True)
        assert ids(alice.typing_users) == ["bob"]
        assert bob.typing_users == []  # one's own typing is not told back
        bob.send("done typing")
        typing.wait_for(lambda items: items[-1][2] is False)
        assert alice.typing_users == []
        with pytest.raises(ChatError) as refused:
            bob.set_typing(True, chat_id="echo")  # not joined
        assert refused.value.code == "not_joined"


def test_mark_read_moves_forward_only_and_unread_counts_follow(own_server) -> None:
    with client_for(own_server.url, own_server.tokens["alice"]) as alice, \
            client_for(own_server.url, own_server.tokens["bob"]) as bob:
        alice.join("general")
        bob.join("general")
        bob.mark_read()
        reads = Recorder()
        alice.on_read(reads)
        sent = [alice.send(f"unread {n}") for n in range(3)]
        last = sent[-1]["seq"]
        wait_until(lambda: chat_in(bob.chats(), "general")["unread"] == 3, what="3 unread")
        assert chat_in(bob.chats(), "general")["last_seq"] == last
        wait_until(lambda: bob.messages and bob.messages[-1]["seq"] == last, what="arrival")
        assert bob.mark_read() == last  # the latest the client has
        reads.wait_for(lambda items: any(r["user_id"] == "bob" and r["last_read_seq"] == last
                                         for r in items))
        assert chat_in(bob.chats(), "general")["unread"] == 0
        assert bob.chat["last_read_seq"] == last
        assert bob.mark_read(last - 2) == last  # never back
        with pytest.raises(ChatError) as refused:
            bob.mark_read(last + 10)
        assert refused.value.code == "bad_request"


def test_activity_reaches_a_member_that_has_not_joined(own_server) -> None:
    with client_for(own_server.url, own_server.tokens["alice"]) as alice, \
            client_for(own_server.url, own_server.tokens["bob"]) as bob:
        alice.join("echo")
        before = chat_in(bob.chats(), "echo")
        activity = Recorder()
        bob.on_activity(activity)
        stored = alice.send("@bob a question for the bot")
        assert alice.wait_for_reply()["reply_to"] == stored["id"]
        activity.wait_for(lambda items: any(a["chat_id"] == "echo" and a["last_seq"]
                                            == stored["seq"] + 1 for a in items))
        after = chat_in(bob.chats(), "echo")
        assert after["unread"] == before["unread"] + 2  # alice's and the bot's
        assert after["unread_mentions"] == before["unread_mentions"] + 2  # the echo names bob too
        assert after["last_seq"] == stored["seq"] + 1


def test_a_second_device_and_a_reconnect_see_the_stored_marker(server_factory) -> None:
    first = server_factory()
    alice = ChatClient(first.url, first.tokens["alice"])
    try:
        with client_for(first.url, first.tokens["bob"], **FAST_RECONNECT) as phone:
            alice.join("general")
            phone.join("general")
            for n in range(4):
                alice.send(f"news {n}")
            wait_until(lambda: len(phone.messages) == 4, what="the news")
            assert phone.mark_read(2) == 2
            with client_for(first.url, first.tokens["bob"]) as laptop:
                general = chat_in(laptop.chats(), "general")
                assert (general["last_read_seq"], general["unread"]) == (2, 2)
                assert laptop.members("general") == [
                    {"id": "alice", "name": "alice", "kind": "user"},
                    {"id": "bob", "name": "bob", "kind": "user"}]
            wait_until(lambda: ids(phone.present) == ["alice", "bob"], what="both here")
            first.kill()
            wait_until(lambda: phone.status == "reconnecting", what="reconnecting")
            alice.close()  # gone while the server was down: no event can say so
            restarted = server_factory(db_url=first.db_url, port=urlparse(first.url).port)
            wait_until(lambda: phone.connected, timeout=15, what="the reconnect")
            assert ids(phone.present) == ["bob"]  # refreshed from the rejoin
            with client_for(restarted.url, restarted.tokens["alice"]) as again:
                again.join("general")
                again.send("after the restart")
            wait_until(lambda: chat_in(phone.chats(), "general")["unread"] == 3,
                       what="3 unread")
            assert chat_in(phone.chats(), "general")["last_read_seq"] == 2
    finally:
        alice.close()


def test_wait_for_mention_finds_an_unread_one_or_waits_for_the_next(own_server) -> None:
    with client_for(own_server.url, own_server.tokens["alice"]) as alice, \
            client_for(own_server.url, own_server.tokens["bob"]) as bob:
        alice.join("general")
        bob.join("general")
        alice.mark_read()
        early = bob.send("@alice look at this")
        wait_until(lambda: any(m["id"] == early["id"] for m in alice.messages), what="arrival")
        assert alice.wait_for_mention(timeout=5)["id"] == early["id"]  # unread already
        alice.mark_read(early["seq"])
        with pytest.raises(ChatError) as waited:
            alice.wait_for_mention(timeout=0.3)
        assert waited.value.code == "timeout"
        found: list[dict[str, Any]] = []
        waiter = threading.Thread(target=lambda: found.append(alice.wait_for_mention(10)))
        waiter.start()
        bob.send("no mention here")
        later = bob.send("and now @alice again")
        waiter.join(15)
        assert [message["id"] for message in found] == [later["id"]]
