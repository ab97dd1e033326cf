"""A daemon thread that runs queued calls one at a time, in submission order.

The client uses two: one runs user callbacks (so they see events in the order
the state changed, and never while the client's lock is held), the other runs
network chores (rejoin after a reconnect, filling a seq gap) that must not
block Socket.IO's own threads.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

_STOP = object()


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
