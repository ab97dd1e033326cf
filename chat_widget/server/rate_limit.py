"""A per-user token bucket, so one user cannot flood a chat.

In-process: with several server processes each enforces its own share.
"""

from __future__ import annotations

import time

from ..errors import ChatError


class RateLimiter:
    """Allows `rate` messages per second per user, with bursts up to `burst`."""

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
