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
from concurrent.futures import Future

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
        # chat_id -> the string fetched ahead (or being fetched): (auth, expires_at)
        self._ahead: dict[str, Future[tuple[str, float]]] = {}
        self._lock = threading.Lock()

    def take(self, chat_id: str) -> tuple[str, bool]:
        """(auth, was_prefetched): the string fetched ahead if still good, else a fresh one.

        A fetch still under way is waited for rather than done twice.
        """
        with self._lock:
            ahead = self._ahead.pop(chat_id, None)
        if ahead is not None:
            try:
                auth, expires_at = ahead.result(timeout=self._http.timeout)
                if expires_at - time.time() > EXPIRY_MARGIN:
                    return auth, True
            except Exception:  # the fresh fetch below reports what went wrong
                pass
        auth, _expires_at = self._http.message_auth(chat_id)
        return auth, False

    def ready(self, chat_id: str) -> bool:
        """Whether a string for `chat_id` has been fetched ahead and is waiting."""
        with self._lock:
            ahead = self._ahead.get(chat_id)
        return ahead is not None and ahead.done()

    def refill(self, chat_id: str) -> None:
        """After a send: fetch the next string for `chat_id` in the background."""
        if not self.prefetch:
            return
        ahead: Future[tuple[str, float]] = Future()
        with self._lock:
            self._ahead[chat_id] = ahead
        self._chores.submit(self._fetch, chat_id, ahead)

    def _fetch(self, chat_id: str, ahead: Future[tuple[str, float]]) -> None:
        try:
            ahead.set_result(self._http.message_auth(chat_id))
        except ChatError as error:
            ahead.set_exception(error)
