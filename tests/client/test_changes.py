"""ChatClient's protocol 1.1 changes against the real server: edit, delete, react,
`on_message_updated`, and catching up on changes (a version gap, a reconnect).

Every test talks to a `chat-widget serve --demo` process over the wire.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from typing import Any
from urllib.parse import urlparse

import pytest

from chat_widget.errors import ChatError
from tests.browser.helpers import free_port
from tests.client.common import FAST_RECONNECT, Recorder, client_for, wait_until


def by_id(messages: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {message["id"]: message for message in messages}


def server_history(client: Any, chat_id: str = "general") -> list[dict[str, Any]]:
    """The chat as the server stores it now, every message (read over the wire)."""
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        ack = client._connection.call(
            "history", {"chat_id": chat_id, "after_seq": after, "limit": 500})
        found += ack["messages"]
        if not ack["has_more"]:
            return found
        after = found[-1]["seq"]


# -- the happy paths ------------------------------------------------------------------


def test_edit_react_delete_reach_both_clients_in_place(alice_and_bob) -> None:
    alice, bob = alice_and_bob
    updates = Recorder()
    bob.on_message_updated(updates)
    sent = alice.send(f"first draft {uuid.uuid4().hex}")
    wait_until(lambda: sent["id"] in by_id(bob.messages), what="bob receiving the message")

    edited = alice.edit(sent["id"], "the final text")
    assert edited["id"] == sent["id"] and edited["seq"] == sent["seq"]
    assert edited["text"] == "the final text" and edited["edited_at"] is not None
    reacted = bob.react(sent["id"], "👍")
    assert reacted["reactions"] == [{"emoji": "👍", "users": ["bob"]}]
    assert reacted["version"] == edited["version"] + 1
    unreacted = bob.react(sent["id"], "👍", on=False)
    assert unreacted["reactions"] == [] and unreacted["version"] == reacted["version"] + 1
    deleted = alice.delete(sent["id"])
    assert deleted["deleted"] and deleted["text"] == "" and deleted["parts"] == []
    assert deleted["version"] == unreacted["version"] + 1

    updates.wait_for(lambda items: len(items) >= 4)
    assert [m["version"] for m in updates.items] == [
        edited["version"], reacted["version"], unreacted["version"], deleted["version"]]
    assert updates.items[0]["text"] == "the final text"
    for client in (alice, bob):
        wait_until(lambda c=client: by_id(c.messages)[sent["id"]]["deleted"],
                   what="the tombstone in messages")
        assert by_id(client.messages)[sent["id"]] == deleted
        assert [m["seq"] for m in client.messages] == sorted({m["seq"] for m in client.messages})


def test_edit_takes_what_send_takes_and_plain_text_clears_parts(alice_and_bob) -> None:
    alice, _bob = alice_and_bob
    sent = alice.send("a plain message")
    code = {"type": "code", "language": "py", "text": "x = 1"}
    rich = alice.edit(sent["id"], {"text": "now with code", "parts": [code]})
    assert rich["text"] == "now with code"
    assert rich["parts"] == [{"type": "code", "language": "py", "text": "x = 1"}]
    plain = alice.edit(sent["id"], "plain again")
    assert plain["text"] == "plain again" and plain["parts"] == []


def test_a_change_that_changes_nothing_answers_the_message_and_fires_nothing(
        alice_and_bob) -> None:
    alice, bob = alice_and_bob
    sent = alice.send("unchanged")
    updates = Recorder()
    bob.on_message_updated(updates)
    same = alice.edit(sent["id"], "unchanged")
    assert same["version"] == sent["version"] == 0
    off = bob.react(sent["id"], "🎉", on=False)
    assert off["version"] == 0
    marker = alice.edit(sent["id"], "changed")  # a real change, so the wait below ends
    updates.wait_for(lambda items: len(items) >= 1)
    assert [m["version"] for m in updates.items] == [marker["version"]]


# -- refusals ------------------------------------------------------------------------------


def test_each_refusal_surfaces_as_a_chat_error_with_its_code(alice_and_bob) -> None:
    alice, bob = alice_and_bob
    mine = alice.send("alice's own")

    def code_of(action: Any) -> str:
        with pytest.raises(ChatError) as caught:
            action()
        return caught.value.code

    assert code_of(lambda: bob.edit(mine["id"], "not yours")) == "forbidden"
    assert code_of(lambda: bob.delete(mine["id"])) == "forbidden"
    assert code_of(lambda: alice.edit("no-such-message", "x")) == "not_found"
    assert code_of(lambda: alice.react("no-such-message", "👍")) == "not_found"
    assert code_of(lambda: alice.react(mine["id"], "two words")) == "bad_request"
    assert code_of(lambda: alice.edit(mine["id"], "x" * (64 * 1024 + 1))) == "too_large"
    assert code_of(lambda: alice.react(mine["id"], "👍", chat_id="echo")) == "not_joined"
    for n in range(20):
        alice.react(mine["id"], f"e{n}")
    assert code_of(lambda: alice.react(mine["id"], "one-too-many")) == "too_large"
    alice.delete(mine["id"])
    assert code_of(lambda: alice.edit(mine["id"], "after the delete")) == "not_found"
    assert code_of(lambda: bob.react(mine["id"], "👍")) == "not_found"
    assert alice.delete(mine["id"])["deleted"]  # deleting twice answers the tombstone


# -- versions, gaps and catch-up -----------------------------------------------------------


def test_two_users_changing_one_chat_at_once_give_versions_without_a_gap(fresh_server) -> None:
    with client_for(fresh_server.url, fresh_server.tokens["alice"]) as alice, \
            client_for(fresh_server.url, fresh_server.tokens["bob"]) as bob:
        alice.join("general")
        bob.join("general")
        theirs = {"alice": alice.send("alice's"), "bob": bob.send("bob's")}
        seen = Recorder()
        alice.on_message_updated(seen)
        answers: list[dict[str, Any]] = []

        def change(client: Any, own: dict[str, Any], other: dict[str, Any]) -> None:
            for n in range(15):
                answers.append(client.edit(own["id"], f"{n}"))
                answers.append(client.react(other["id"], f"r{n}"))

        threads = [threading.Thread(target=change, args=(alice, theirs["alice"], theirs["bob"])),
                   threading.Thread(target=change, args=(bob, theirs["bob"], theirs["alice"]))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(m["version"] for m in answers) == list(range(1, 61))
        seen.wait_for(lambda items: len(items) >= 60)
        assert [m["version"] for m in seen.items] == list(range(1, 61))
        wait_until(lambda: by_id(alice.messages) == by_id(bob.messages) ==
                   by_id(server_history(alice)), what="both clients holding the server's state")


def test_a_version_gap_is_filled_with_changes(fresh_server) -> None:
    """Alice's connection leaves the room behind her client's back, so she misses changes."""
    with client_for(fresh_server.url, fresh_server.tokens["alice"]) as alice, \
            client_for(fresh_server.url, fresh_server.tokens["bob"]) as bob:
        alice.join("general")
        bob.join("general")
        target = bob.send("to be changed")
        wait_until(lambda: target["id"] in by_id(alice.messages), what="the message")
        seen = Recorder()
        alice.on_message_updated(seen)
        alice._connection.call("leave", {"chat_id": "general"})
        missed = [bob.edit(target["id"], f"edit {n}")["version"] for n in range(3)]
        alice._connection.call("join", {"chat_id": "general"})
        last = bob.react(target["id"], "👀")
        seen.wait_for(lambda items: items and items[-1]["version"] == last["version"])
        # The three edits were superseded by the last: `changes` answers the message once.
        assert [m["version"] for m in seen.items] == [last["version"]]
        assert missed == [1, 2, 3] and last["version"] == 4
        assert by_id(alice.messages)[target["id"]] == last


class Relay:
    """A TCP relay in front of the server that a test cuts and restores, as an outage would.

    Cutting closes the listening socket and every relayed connection, so the
    client sees its connection drop and its reconnects refused; the server
    itself keeps running for the other clients.
    """

    def __init__(self, target: str) -> None:
        self.target = urlparse(target)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None

    def start(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            sockets, self._open = [*self._open, self._listener], []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # cut
            upstream = socket.create_connection((self.target.hostname, self.target.port))
            with self._lock:
                self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def test_a_client_away_during_50_changes_catches_up_exactly_those(fresh_server) -> None:
    relay = Relay(fresh_server.url)
    relay.start()
    with client_for(relay.url, fresh_server.tokens["alice"], **FAST_RECONNECT) as alice, \
            client_for(fresh_server.url, fresh_server.tokens["alice"]) as other_alice, \
            client_for(fresh_server.url, fresh_server.tokens["bob"]) as bob:
        alice.join("general")
        other_alice.join("general")
        bob.join("general")
        sent = [alice.send(f"message {n}") for n in range(25)]
        updates, new = Recorder(), Recorder()
        alice.on_message_updated(updates)
        alice.on_message(new)

        relay.cut()
        wait_until(lambda: alice.status == "reconnecting", what="reconnecting")
        # 50 changes: 20 edits, 20 reactions, 9 deletes, and a reaction to a new message.
        for n, message in enumerate(sent[:20]):
            other_alice.edit(message["id"], f"edited {n}")
            bob.react(message["id"], "👍")
            if n % 2 and n < 19:
                other_alice.delete(message["id"])
        late = bob.send("sent while alice was away")
        assert bob.react(late["id"], "🆕")["version"] == 50
        expected = by_id(server_history(bob))
        assert alice.status == "reconnecting" and updates.items == []

        relay.start()
        wait_until(lambda: alice.connected, timeout=15, what="the reconnect")
        updates.wait_for(lambda items: len(items) >= 20)
        new.wait_for(lambda items: len(items) >= 1)
        assert by_id(alice.messages) == expected
        changed_ids = [m["id"] for m in updates.items]
        assert sorted(changed_ids) == sorted(m["id"] for m in sent[:20])  # once each
        versions = [m["version"] for m in updates.items]
        assert versions == sorted(versions)
        # The message sent meanwhile came once, through on_message, already changed.
        assert [m["id"] for m in new.items] == [late["id"]]
        assert new.items[0]["reactions"] == [{"emoji": "🆕", "users": ["bob"]}]
