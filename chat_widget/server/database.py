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

A database that cannot be reached (PostgreSQL restarting, a connection cut)
or cannot take a write (SQLite's disk full) fails the request with a
`ChatError` whose code is the protocol's `internal` and whose sentence says
which, so clients know to try again (`ChatClient` does, with the same
`client_id`); nothing half-done stays behind, since the transaction rolls
back. A PostgreSQL connection that sat in the pool for a while is pinged
when taken (`_ping_if_idle`), so the first request after a restart gets a
fresh connection rather than one the restart closed; one put back moments
ago is not (a restart takes longer than that, and a live pool under load
would pay a round trip per transaction for nothing). A connection that
breaks in use makes the pool drop every connection older than the break.

WAL mode keeps every commit across a killed process (synchronous=NORMAL
syncs at checkpoints, which a power cut, not a process kill, could undo);
`BEGIN IMMEDIATE` and a busy timeout make processes sharing a file wait for
each other rather than fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, InterfaceError, InvalidatePoolError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from .. import json_text
from ..errors import ChatError

T = TypeVar("T")
logger = logging.getLogger(__name__)


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
    engine = create_engine(url, pool_size=1, max_overflow=0, json_serializer=json_text.dumps)
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
            # LIFO: the connection just put back is the next one taken, so under
            # load one stays hot and is never pinged; the others age and are.
            self._async_engine = create_async_engine(url, pool_size=10, max_overflow=10,
                                                     pool_use_lifo=True,
                                                     json_serializer=json_text.dumps)
            _ping_idle_connections(self._async_engine.sync_engine)
            # The same pool, without BEGIN and COMMIT (`read`).
            self._autocommit_engine = self._async_engine.execution_options(
                isolation_level="AUTOCOMMIT")

    async def run(self, operation: Callable[..., T], *args: Any) -> T:
        """A write or a small read."""
        with _unavailable_as_chat_error():
            if self.dialect == "sqlite":
                writer = self._writer_connection()
                with writer.begin():
                    return operation(writer, *args)
            async with self._async_engine.begin() as conn:
                return await conn.run_sync(operation, *args)

    async def read(self, operation: Callable[..., T], *args: Any) -> T:
        """A small read that writes nothing.

        On PostgreSQL its statements run in autocommit, each in a snapshot of
        its own, which is what a READ COMMITTED transaction (the server's
        default) gives them too: the same answers without the BEGIN and
        COMMIT round trips. On SQLite it is `run`: in place on the loop.
        """
        if self.dialect == "sqlite":
            return await self.run(operation, *args)
        with _unavailable_as_chat_error():
            async with self._autocommit_engine.connect() as conn:
                return await conn.run_sync(operation, *args)

    async def read_statement(self, operation: Callable[..., T], *args: Any) -> T:
        """A read of one statement, which is a snapshot of its own.

        On SQLite it runs in place in autocommit: no BEGIN IMMEDIATE, so it
        neither takes the write lock nor waits for another process's, and no
        COMMIT (the two cost more than the statement; it runs once per message,
        for `chat_activity`). `operation` must issue its statement straight on
        the driver (`Direct`); one that goes through SQLAlchemy gets a
        transaction begun for it, which is ended here. Elsewhere it is `read`.
        """
        if self.dialect != "sqlite":
            return await self.read(operation, *args)
        with _unavailable_as_chat_error():
            writer = self._writer_connection()
            try:
                return operation(writer, *args)
            finally:
                if writer.in_transaction():
                    writer.rollback()

    def _writer_connection(self) -> Connection:
        """SQLite's writer connection, opened on first use and held."""
        if self._writer_conn is None:
            self._writer_conn = self._writer.connect()
        return self._writer_conn

    async def read_pages(self, operation: Callable[..., T], *args: Any) -> T:
        """A read that may be large (pages of messages): off the event loop on SQLite."""
        if self.dialect == "sqlite":
            loop = asyncio.get_running_loop()
            with _unavailable_as_chat_error():
                return await loop.run_in_executor(
                    self._reads, _in_transaction, self._reader, operation, args)
        return await self.read(operation, *args)

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


def unavailable(error: BaseException) -> ChatError | None:
    """The protocol's error for a database that cannot serve now, or None for other errors.

    An unreachable or restarting server (a refused or cut connection), and a
    full disk, are the database's state, not the request's fault: the
    request may be repeated once it is back. Anything else (a constraint,
    a bug) is left to propagate as it is.
    """
    if isinstance(error, ChatError):
        return None
    text = str(error).lower()
    if isinstance(error, OperationalError) and ("disk is full" in text or "disk full" in text):
        return ChatError("the chat server's disk is full: nothing was stored; "
                         "try again once space is freed", code="internal")
    disconnected = isinstance(error, DBAPIError) and error.connection_invalidated
    if (disconnected or isinstance(error, (OperationalError, InterfaceError, OSError))
            or _is_asyncpg_connection_error(error)):
        # Not "nothing was stored": a connection cut during COMMIT leaves that open.
        return ChatError("the chat server's database is unavailable for a moment; "
                         "try again", code="internal")
    return None


_last_warned = [0.0]  # when the log last said the database failed (monotonic seconds)
_WARN_EVERY = 10.0


@contextlib.contextmanager
def _unavailable_as_chat_error() -> Iterator[None]:
    try:
        yield
    except Exception as error:
        failure = unavailable(error)
        if failure is None:
            raise
        now = time.monotonic()
        if now - _last_warned[0] >= _WARN_EVERY:  # an outage is logged, not each request
            _last_warned[0] = now
            logger.warning("the database failed a request (%s: %s); answering internal",
                           type(error).__name__, str(error).splitlines()[0][:200])
        raise failure from error


def _is_asyncpg_connection_error(error: BaseException) -> bool:
    """asyncpg's errors for a server that is starting, stopping or gone, however wrapped.

    SQLAlchemy wraps some ("the database system is starting up") in a plain
    DBAPIError; the asyncpg error is then further down the chain. SQLSTATE
    classes 08 (connection exception) and 57P (shutdown, cannot connect now)
    say the same.
    """
    import asyncpg

    gone = (asyncpg.exceptions.CannotConnectNowError, asyncpg.exceptions.PostgresConnectionError,
            asyncpg.exceptions.ConnectionDoesNotExistError,
            asyncpg.exceptions.AdminShutdownError, asyncpg.exceptions.InterfaceError)
    found: BaseException | None = error
    for _depth in range(6):
        if found is None:
            return False
        state = str(getattr(found, "sqlstate", "") or "")
        if isinstance(found, gone) or state.startswith(("08", "57P")):
            return True
        found = getattr(found, "orig", None) or found.__cause__ or found.__context__
    return False


IDLE_BEFORE_PING = 0.2
"""Seconds a pooled PostgreSQL connection may have been idle and still be taken
unpinged: shorter than any restart (stopping and starting a server takes longer),
far longer than a busy pool leaves a connection unused."""


def _ping_idle_connections(engine: Engine) -> None:
    """Ping a connection taken from the pool only if it was idle past `IDLE_BEFORE_PING`.

    A failed ping drops it and every pooled connection as old (the server
    restarted), and the pool opens a fresh one, as `pool_pre_ping` would.
    """

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.pop("checked_in_at", None)
        if checked_in_at is None or time.monotonic() - checked_in_at < IDLE_BEFORE_PING:
            return  # fresh, or in use moments ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise InvalidatePoolError(f"ping failed: {error}") from error
        if not alive:
            raise InvalidatePoolError("ping failed")

    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checked_out)


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
    # Straight on sqlite3: `exec_driver_sql` cost ten times the BEGIN itself.
    connection.connection.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]


def _sqlite_begin(connection: Connection) -> None:
    connection.connection.driver_connection.execute("BEGIN")  # type: ignore[union-attr]
