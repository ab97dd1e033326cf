"""The chat server URLs a client may use, and which one it uses now.

Several processes of one deployment (sharing PostgreSQL and Redis) act as one
server; a client given all their URLs moves to the next when the current one
dies. The socket and the HTTP side read `current` from this one place, so an
authorization string is always fetched from the server the socket talks to.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from ._urls import checked_url


class ServerList:
    """An ordered ring of server URLs with a current position; each URL checked up front."""

    def __init__(self, urls: str | Sequence[str]) -> None:
        candidates = [urls] if isinstance(urls, str) else list(urls)
        self.urls = [checked_url(url) for url in candidates if url]
        if not self.urls:
            raise ValueError("give at least one chat server URL")
        self._index = 0
        self._lock = threading.Lock()

    @property
    def current(self) -> str:
        return self.urls[self._index]

    def advance(self) -> str:
        """Move on to the next URL (wrapping around) and return it."""
        with self._lock:
            self._index = (self._index + 1) % len(self.urls)
            return self.urls[self._index]
