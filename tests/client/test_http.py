"""The HTTP side (client/http.py): with prefetch_auth, the next send's string is fetched ahead."""

from __future__ import annotations

import uuid

from chat_widget.client import ChatClient
from tests.client.common import wait_until


def test_prefetched_strings_serve_the_following_sends(server) -> None:
    with ChatClient(server.url, server.tokens["alice"], prefetch_auth=True) as alice:
        alice.join("general")
        texts = [f"prefetched {i} {uuid.uuid4().hex[:6]}" for i in range(5)]
        stored = [alice.send(text) for text in texts]
        assert [m["text"] for m in stored] == texts
        supply = alice._sender._auth  # the supply holds the next send's string
        wait_until(lambda: supply.ready("general"), what="a string fetched ahead")


def spend_the_string_fetched_ahead(client: ChatClient, server) -> None:
    """Use the client's prefetched string on another connection, as a replay would."""
    import socketio

    supply = client._sender._auth
    wait_until(lambda: supply.ready("general"), what="a string fetched ahead")
    stolen, _expires = supply._ahead["general"].result()
    spender = socketio.Client(reconnection=False)
    spender.connect(server.url, auth={"token": server.tokens["alice"]},
                    transports=["websocket"])
    spender.call("join", {"chat_id": "general"})
    spent = spender.call("send_message", {"chat_id": "general", "text": "spent it",
                                          "auth": stolen, "client_id": uuid.uuid4().hex})
    spender.disconnect()
    assert spent["ok"]


def test_a_refused_prefetched_string_is_replaced_by_a_fresh_one(server) -> None:
    with ChatClient(server.url, server.tokens["alice"], prefetch_auth=True) as alice:
        alice.join("general")
        first = alice.send("first")
        spend_the_string_fetched_ahead(alice, server)
        # The client's prefetched string is now used up: the send must still go through.
        assert alice.send("after the string was spent")["text"] == "after the string was spent"
        # An edit takes the same step 4: it uses the string fetched ahead, and fetches
        # a fresh one when that was spent.
        spend_the_string_fetched_ahead(alice, server)
        assert alice.edit(first["id"], "edited with a fresh string")["version"] > 0
        wait_until(lambda: alice._sender._auth.ready("general"), what="the next string ahead")
