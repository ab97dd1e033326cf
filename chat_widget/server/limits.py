"""What one user may take of the server: messages per second, connections at once.

Both are in-process: with several server processes each enforces its own share.
A refusal is `rate_limited` with `retry_after`, as the protocol says.
"""

from __future__ import annotations

import time
from collections import Counter

from ..errors import ChatError


class RateLimiter:
    """A per-user token bucket: `rate` messages per second, bursts up to `burst`."""

    def __init__(self, rate: float = 100.0, burst: float = 500.0) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}

    def check(self, user_id: str) -> None:
        """Take one token for `user_id`, or raise `rate_limited` with `retry_after`."""
        if self.rate <= 0:
            return
        now = time.monotonic()
        tokens, last = self._buckets.get(user_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[user_id] = (tokens, now)
            retry_after = round((1.0 - tokens) / self.rate, 3)
            raise ChatError("too many messages; wait a moment", code="rate_limited",
                            retry_after=retry_after)
        self._buckets[user_id] = (tokens - 1.0, now)


class ConnectionLimiter:
    """Counts open Socket.IO connections per user; refuses past `limit` (0: no cap).

    So that one token cannot exhaust the server.
    """

    def __init__(self, limit: int = 100) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def open(self, user_id: str) -> None:
        """Count a new connection of `user_id`, or raise `rate_limited` past the cap."""
        if self.limit and self._open[user_id] >= self.limit:
            raise ChatError(f"too many connections for this user (at most {self.limit})",
                            code="rate_limited", retry_after=5)
        self._open[user_id] += 1

    def close(self, user_id: str) -> None:
        """A connection of `user_id` ended."""
        self._open[user_id] -= 1
        if self._open[user_id] <= 0:
            del self._open[user_id]
