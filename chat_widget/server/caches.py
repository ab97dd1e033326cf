"""What a token or a membership has already proved, remembered for a few seconds.

Every HTTP request names its user by bearer token, and every event checks
that the user may open the chat (membership of its workspace). Both facts
change rarely (an operator adds or removes a member, a user's token is
replaced or revoked) but are asked for on every message.

Only positive answers are kept, each for at most `FACTS_TTL` seconds:

- a change made through this process's `Store` forgets the facts it touches
  at once;
- a change made anywhere else (another server process on the same database,
  an admin command, plain SQL) is seen within `FACTS_TTL` seconds, when the
  remembered answer expires and the database is asked again.

Connections that joined a chat before a removal are taken out of its room in
about the same time by `membership_watch.py`.

A time limit rather than an invalidation message over Redis: the admin
commands write the database directly and have no Redis link, and a single
process has no Redis at all; a short limit bounds how long a revoked token
or a removed member keeps working whatever made the change, at the cost of
one query per token and per (user, workspace) every few seconds. Unknown
tokens and refusals are never remembered, so a grant works at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

FACTS_TTL = 5.0
"""Seconds a proved fact may be served from memory: the longest a change made
by another process goes unseen here."""

MAX_FACTS = 100_000
"""Entries kept at most; the oldest go first beyond it."""


class ProvenFacts(Generic[K, V]):
    """A dict whose entries expire `ttl` seconds (default `FACTS_TTL`) after being stored.

    A plain dict of (deadline, value) rather than cachetools' TTLCache: it is
    read three times per message, and TTLCache's bookkeeping (a linked list,
    a timer context per read) made each read about a hundred times a dict's.
    Expired entries are dropped when read, or when the dict is full.
    """

    def __init__(self, ttl: float | None = None,
                 timer: Callable[[], float] = time.monotonic) -> None:
        self.ttl = FACTS_TTL if ttl is None else ttl
        self._timer = timer
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is None:
            return None
        if self._timer() >= found[0]:
            self._entries.pop(key, None)
            return None
        return found[1]

    def __setitem__(self, key: K, value: V) -> None:
        if len(self._entries) >= MAX_FACTS:
            self._make_room()
        self._entries.pop(key, None)  # re-inserted last: the dict's order is the deadlines'
        self._entries[key] = (self._timer() + self.ttl, value)

    def pop(self, key: K) -> None:
        self._entries.pop(key, None)

    def items(self) -> Iterator[tuple[K, V]]:
        """The live entries (a copy: safe to change the dict while going through them)."""
        now = self._timer()
        return iter([(key, value) for key, (deadline, value) in self._entries.items()
                     if now < deadline])

    def _make_room(self) -> None:
        """Drop the expired entries, or the oldest tenth when none has expired."""
        now = self._timer()
        expired = [key for key, (deadline, _) in self._entries.items() if deadline <= now]
        for key in expired or list(self._entries)[:MAX_FACTS // 10]:
            del self._entries[key]
