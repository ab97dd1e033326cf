"""Message authorization strings for sends: fetched on demand, or one fetched ahead.

By default every send fetches its string over HTTP as its fourth step. With
`prefetch` on, the string for the next send to a chat is fetched in the
background right after a send completes, so the next send skips that HTTP
round trip; a prefetched string close to expiry is not used, and one the
server refuses is replaced by a fresh fetch (the caller retries once).
"""

from __future__ import annotations

import threading
import time

from ._http import HttpApi
from ._serial import SerialExecutor
from .errors import ChatError

EXPIRY_MARGIN = 5.0  # seconds a prefetched string must still be good for
AUTH_CODES = ("invalid_auth", "auth_expired", "auth_reused")


class AuthSupply:
    """Hands out one authorization string per send attempt."""

    def __init__(self, http: HttpApi, chores: SerialExecutor, prefetch: bool) -> None:
        self._http = http
        self._chores = chores
        self.prefetch = prefetch
        self._ready: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def take(self, chat_id: str) -> tuple[str, bool]:
        """(auth, was_prefetched): a prefetched string still good, else a fresh fetch."""
        with self._lock:
            ready = self._ready.pop(chat_id, None)
        if ready is not None and ready[1] - time.time() > EXPIRY_MARGIN:
            return ready[0], True
        auth, _expires_at = self._http.message_auth(chat_id)
        return auth, False

    def refill(self, chat_id: str) -> None:
        """After a send: fetch the next string for `chat_id` in the background."""
        if self.prefetch:
            self._chores.submit(self._fetch, chat_id)

    def _fetch(self, chat_id: str) -> None:
        try:
            ready = self._http.message_auth(chat_id)
        except ChatError:
            return  # the next send fetches its own and reports what is wrong
        with self._lock:
            self._ready[chat_id] = ready
