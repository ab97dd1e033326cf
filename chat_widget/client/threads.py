"""The client's background threads, each running queued calls one at a time.

`SerialExecutor` is a daemon thread that runs calls in submission order. The
client uses three: `in_order` handles the socket's packets on one, in arrival
order; `Listeners` runs user callbacks on another (so they see events in the
order the state changed, and never while the client's lock is held); and the
session and the connection run network chores on the third (rejoin
after a reconnect, filling a seq gap, fetching an authorization string ahead),
which must not block Socket.IO's own threads.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

_STOP = object()

KINDS = (
    "status", "message", "message_updated", "delta", "reply_failed", "event", "awaiting_response",
    "presence", "typing", "activity", "read",
)
"""What a client's listeners can be registered for (`ChatClient.on_*`)."""


class SerialExecutor:
    """Runs submitted calls on its own thread; an exception is logged, not fatal."""

    def __init__(self, name: str) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, function: Callable[..., Any], *args: Any) -> None:
        """Queue `function(*args)` to run after everything submitted before it."""
        self._queue.put((function, args))

    def drain(self, timeout: float = 5.0) -> None:
        """Wait until every call submitted before now has run (at once when called from it)."""
        if threading.current_thread() is self._thread or not self._thread.is_alive():
            return
        done = threading.Event()
        self._queue.put((done.set, ()))
        done.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Run what is queued, then end the thread (no wait when called from it)."""
        self._queue.put(_STOP)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            function, args = item
            try:
                function(*args)
            except Exception:
                logger.exception("error in %s", getattr(function, "__qualname__", function))


class Listeners:
    """User callbacks by kind, run on their own thread in firing order.

    Events are fired while the client's lock is held, the moment its state
    changes, so the queue keeps their order; a callback hears of what happens
    after it was added. The callbacks run later on the listeners' thread, where
    they may call back into the client freely.
    """

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
