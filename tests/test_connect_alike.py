"""ChatClient and ChatWidget connect alike: on construction, with the same errors."""

from __future__ import annotations

from typing import Any

import pytest

from chat_widget import (
    AuthorizationError,
    ChatClient,
    ChatWidget,
    InvalidURLError,
    NotConnectedError,
)
from tests.browser.helpers import free_port


def test_both_are_connected_once_constructed(server: Any) -> None:
    client = ChatClient(server.url, server.tokens["alice"])
    widget = ChatWidget(url=server.url, token=server.tokens["bob"], chat_id="general")
    try:
        assert client.connected and client.status == "connected"
        assert widget.connected and widget.client.connected
        client.join("general")  # the first call after construction works: no connect() needed
        sent = client.send("no connect() needed")
        assert sent["seq"] >= 1
    finally:
        client.close()
        widget.close()


@pytest.mark.parametrize(("url", "token", "expected", "code"), [
    (None, "not-a-token", AuthorizationError, "unauthorized"),
    ("http://127.0.0.1:{free}", "some-token", NotConnectedError, "not_connected"),
    ("127.0.0.1:8765", "some-token", InvalidURLError, "bad_request"),
])
def test_both_raise_the_same_error_on_construction(
        server: Any, url: str | None, token: str, expected: type, code: str) -> None:
    url = server.url if url is None else url.format(free=free_port())
    with pytest.raises(expected) as from_client:
        ChatClient(url, token)
    with pytest.raises(expected) as from_widget:
        ChatWidget(url=url, token=token)
    assert from_client.value.code == from_widget.value.code == code
    assert from_client.value.message == from_widget.value.message


def test_connect_false_leaves_connecting_to_connect(server: Any) -> None:
    client = ChatClient(server.url, server.tokens["alice"], connect=False)
    try:
        assert client.status == "disconnected"
        client.connect()
        assert client.connected
    finally:
        client.close()
