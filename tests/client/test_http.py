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


def test_a_refused_prefetched_string_is_replaced_by_a_fresh_one(server) -> None:
    import socketio

    with ChatClient(server.url, server.tokens["alice"], prefetch_auth=True) as alice:
        alice.join("general")
        alice.send("first")
        supply = alice._sender._auth
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
        # The client's prefetched string is now used up: the send must still go through.
        assert alice.send("after the string was spent")["text"] == "after the string was spent"
