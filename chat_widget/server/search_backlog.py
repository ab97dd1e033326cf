"""SQLite's search index, caught up every `SEARCH_BATCH` messages of a chat.

`search.catch_up` indexes a chat's messages stored since its last catch-up
(search.py says why they wait). A search catches up first, so nothing it
should find is missing; this keeps what waits small between searches: each
process counts the messages it stores per chat and, past a batch, indexes
them in a transaction of their own, after the sends that stored them were
answered. Another process's messages are counted by that process; whatever
is left when one stops (or is killed) waits for the next catch-up.
"""

from __future__ import annotations

import asyncio
import logging

from . import search
from .database import Database

logger = logging.getLogger(__name__)

MAX_PER_CATCH_UP = 16 * search.SEARCH_BATCH
"""At most this many messages of a chat indexed in one go on the send path, so a chat
bulk-loaded without its index (an import) does not stall the event loop at once."""


class SearchBacklog:
    """Counts a chat's new messages; indexes them once a batch has gathered."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._waiting: dict[str, int] = {}  # chat_id -> messages stored here since indexed
        self._indexing: dict[str, asyncio.Task[None]] = {}

    def stored(self, chat_id: str) -> None:
        """A new message in `chat_id`: maybe start indexing its batch."""
        waiting = self._waiting.get(chat_id, 0) + 1
        self._waiting[chat_id] = waiting
        if waiting >= search.SEARCH_BATCH and chat_id not in self._indexing:
            self._waiting[chat_id] = 0
            self._indexing[chat_id] = asyncio.ensure_future(self._index(chat_id))

    async def _index(self, chat_id: str) -> None:
        try:
            await self._db.run(search.catch_up, chat_id, None, MAX_PER_CATCH_UP)
        except Exception:  # the next catch-up (a search's at the latest) does it
            logger.exception("indexing chat %r for search failed", chat_id)
        finally:
            del self._indexing[chat_id]

    async def close(self) -> None:
        """Wait for the batches being indexed."""
        while self._indexing:
            await asyncio.gather(*self._indexing.values(), return_exceptions=True)
