"""What a token or a membership has already proved, remembered for a few seconds.

Every HTTP request names its user by bearer token, and every event checks
that the user may open the chat (membership of its workspace). Both facts
change rarely (an operator adds or removes a member, a user's token is
replaced or revoked) but were asked of the database on every message.

Only positive answers are kept, each for at most `FACTS_TTL` seconds:

- a change made through this process's `Store` forgets the facts it touches
  at once;
- a change made anywhere else (another server process on the same database,
  an admin command, plain SQL) is seen within `FACTS_TTL` seconds, when the
  remembered answer expires and the database is asked again.

A time limit rather than an invalidation message over Redis: the admin
commands write the database directly and have no Redis link, and a single
process has no Redis at all; a short limit bounds how long a revoked token
or a removed member keeps working whatever made the change, at the cost of
one query per token and per (user, workspace) every few seconds. Unknown
tokens and refusals are never remembered, so a grant works at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from cachetools import TTLCache

K = TypeVar("K")
V = TypeVar("V")

FACTS_TTL = 5.0
"""Seconds a proved fact may be served from memory: the longest a change made
by another process goes unseen here."""

MAX_FACTS = 100_000
"""Entries per cache; the least recently used go first beyond it."""


def proven_facts(ttl: float | None = None,
                 timer: Callable[[], float] = time.monotonic) -> TTLCache[K, V]:
    """A cache whose entries expire `ttl` seconds (default `FACTS_TTL`) after being stored."""
    return TTLCache(maxsize=MAX_FACTS, ttl=FACTS_TTL if ttl is None else ttl, timer=timer)
