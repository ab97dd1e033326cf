"""Run one transaction's worth of SQL on SQLite or PostgreSQL, from async code.

Store operations are plain functions over a SQLAlchemy (sync) `Connection`,
written once. This module decides how they run:

- PostgreSQL: SQLAlchemy's async engine on asyncpg; `run_sync` drives the
  function, each statement awaiting the network without blocking the loop.
- SQLite, writes and small reads: on the event loop's own thread, on one
  connection. A send's transaction takes a fraction of a millisecond there;
  handing it to a thread cost more than running it (measured: send_message
  round trip 1.48 -> 1.22 ms p50). SQLite has one writer anyway.
- SQLite, pages of messages (`read_pages`): on a second connection in a
  worker thread, so a 500-message catch-up never stalls the loop; WAL mode
  lets it read while the writer writes.

WAL mode keeps every commit across a killed process (synchronous=NORMAL
syncs at checkpoints, which a power cut, not a process kill, could undo);
`BEGIN IMMEDIATE` and a busy timeout make processes sharing a file wait for
each other rather than fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.ext.asyncio import create_async_engine

T = TypeVar("T")


def driver_url(db_url: str) -> str:
    """Map the user-facing URL (`sqlite:///x.db`, `postgresql://...`) to a driver URL."""
    for prefix in ("postgresql://", "postgres://"):
        if db_url.startswith(prefix):
            return "postgresql+asyncpg://" + db_url[len(prefix):]
    if db_url.startswith(("sqlite:///", "postgresql+asyncpg://")):
        return db_url
    raise ValueError(f"unsupported database URL {db_url!r}: use sqlite:///PATH or postgresql://")


def _sqlite_engine(url: str, writer: bool) -> Engine:
    """One connection, used from one thread only. The writer takes the write lock
    at BEGIN; the reader's plain BEGIN never blocks it (WAL)."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin_immediate if writer else _sqlite_begin)
    return engine


class Database:
    """`await db.run(fn, *args)` runs `fn(connection, *args)` in one transaction."""

    def __init__(self, db_url: str) -> None:
        url = driver_url(db_url)
        self.dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        if self.dialect == "sqlite":
            self._writer = _sqlite_engine(url, writer=True)
            # Held for good: checking a connection out of the pool per
            # transaction (and its reset on return) cost as much as the SQL.
            self._writer_conn: Connection | None = None
            self._reader = _sqlite_engine(url, writer=False)
            self._reads = ThreadPoolExecutor(1, thread_name_prefix="chat-widget-sqlite-read")
        else:
            self._async_engine = create_async_engine(url, pool_size=10, max_overflow=10)

    async def run(self, operation: Callable[..., T], *args: Any) -> T:
        """A write or a small read."""
        if self.dialect == "sqlite":
            if self._writer_conn is None:
                self._writer_conn = self._writer.connect()
            with self._writer_conn.begin():
                return operation(self._writer_conn, *args)
        async with self._async_engine.begin() as conn:
            return await conn.run_sync(operation, *args)

    async def read_pages(self, operation: Callable[..., T], *args: Any) -> T:
        """A read that may be large (pages of messages): off the event loop on SQLite."""
        if self.dialect == "sqlite":
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._reads, _in_transaction, self._reader, operation, args)
        return await self.run(operation, *args)

    async def close(self) -> None:
        if self.dialect == "sqlite":
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._reads, self._reader.dispose)
            self._reads.shutdown(wait=True)
            if self._writer_conn is not None:
                self._writer_conn.close()
            self._writer.dispose()
        else:
            await self._async_engine.dispose()


def _in_transaction(engine: Engine, operation: Callable[..., T], args: tuple[Any, ...]) -> T:
    with engine.begin() as conn:
        return operation(conn, *args)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000",
                   "foreign_keys=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")
