"""A cap on simultaneous connections per user, so one token cannot exhaust the server."""

from __future__ import annotations

from collections import Counter

from ..errors import ChatError


class ConnectionLimiter:
    """Counts open Socket.IO connections per user; refuses past `limit` (0: no cap)."""

    def __init__(self, limit: int = 100) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def open(self, user_id: str) -> None:
        if self.limit and self._open[user_id] >= self.limit:
            raise ChatError(f"too many connections for this user (at most {self.limit})",
                            code="rate_limited", retry_after=5)
        self._open[user_id] += 1

    def close(self, user_id: str) -> None:
        self._open[user_id] -= 1
        if self._open[user_id] <= 0:
            del self._open[user_id]
