"""The server's packets skip python-socketio's search for bytes (server/packets.py): what
clients send, binary attachments included, is read as before, and what it sends is JSON."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningServer, start_server
from tests.helpers import RawClient, fetch_auth


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(Path(tmp_path_factory.mktemp("packets")))
    yield running
    running.stop()


def test_a_binary_event_is_still_read_and_refused_by_the_protocol(server: RunningServer) -> None:
    alice = RawClient(server, server.tokens["alice"])
    try:
        alice.join("general")
        ack = alice.call("send_message", {
            "chat_id": "general", "text": b"\x00 bytes, sent as a binary attachment",
            "auth": fetch_auth(server, server.tokens["alice"], "general"), "client_id": "b"})
        assert ack["ok"] is False and ack["error"]["code"] == "bad_request", ack
        text = "après — ünïcode, \u2603, and a table"
        parts = [{"type": "table", "columns": ["n", "x"], "rows": [[2 ** 70, 1.5]]}]
        sent = alice.send("general", text, parts=parts)
        assert sent["ok"], sent
        assert sent["message"]["text"] == text
        assert sent["message"]["parts"] == parts
        assert alice.next_event("message") == sent["message"]
    finally:
        alice.close()
