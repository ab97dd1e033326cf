"""The client's callbacks: registered per kind, run on one thread in firing order.

Events are fired while the client's lock is held, the moment its state
changes, so the queue keeps their order; a callback hears of what happens
after it was added. The callbacks run later on the listeners' thread, where
they may call back into the client freely.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from ._serial import SerialExecutor

logger = logging.getLogger(__name__)

KINDS = ("status", "message", "delta", "reply_failed", "event", "awaiting_response")


class Listeners:
    """Callbacks by kind, and the thread that runs them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_kind: dict[str, list[Callable[..., Any]]] = {kind: [] for kind in KINDS}
        self._executor = SerialExecutor("chat-client-callbacks")

    def add(self, kind: str, callback: Callable[..., Any]) -> Callable[[], None]:
        """Register `callback` for `kind`; returns a function that removes it."""
        with self._lock:
            self._by_kind[kind].append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._by_kind[kind]:
                    self._by_kind[kind].remove(callback)

        return remove

    def fire(self, kind: str, *args: Any) -> None:
        """Queue a call of each `kind` callback registered now, after those fired before."""
        with self._lock:
            callbacks = list(self._by_kind[kind])
        if callbacks:
            self._executor.submit(self._run, kind, callbacks, args)

    def drain(self) -> None:
        """Wait until the callbacks of everything fired so far have run (not on their thread)."""
        self._executor.drain()

    def stop(self) -> None:
        """Run what is already fired, then end the thread."""
        self._executor.stop()

    def _run(self, kind: str, callbacks: list[Callable[..., Any]], args: tuple[Any, ...]) -> None:
        for callback in callbacks:
            try:
                callback(*args)
            except Exception:
                logger.exception("error in %s callback %r", kind, callback)
