"""What the client tests share: a connected client, a recording callback, polling.

Also used by the widget, magic and rich-message tests, which drive a ChatClient too.
"""

from __future__ import annotations

import base64
import io
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from PIL import Image

from chat_widget.client import ChatClient

FAST_RECONNECT = {"reconnection_delay": 0.1, "reconnection_delay_max": 0.5}


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "it") -> Any:
    """Poll `predicate` until it is truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)
    return value


class Recorder:
    """A callback that keeps what it receives, and lets a test wait for it."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._changed = threading.Condition()

    def __call__(self, *args: Any) -> None:
        with self._changed:
            self.items.append(args[0] if len(args) == 1 else args)
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[list[Any]], Any], timeout: float = 10.0) -> Any:
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self.items), timeout):
                raise AssertionError(f"timed out after {timeout:g} s; got {self.items!r}")
            return predicate(self.items)


@contextmanager
def client_for(url: str, token: str, **options: Any) -> Iterator[ChatClient]:
    """A connected ChatClient, closed after the block even when the test fails."""
    client = ChatClient(url, token, **options)
    try:
        client.connect()
        yield client
    finally:
        client.close()


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [message["text"] for message in messages]


def latest(client: ChatClient, matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The newest message at `client` that `matches`, once it has arrived."""
    return wait_until(
        lambda: next((m for m in reversed(client.messages) if matches(m)), None),
        what="the message",
    )


def image_bytes(part: dict[str, Any]) -> bytes:
    return base64.b64decode(part["data"], validate=True)


def pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    image = Image.open(io.BytesIO(data))
    return image.mode, image.size, image.tobytes()
