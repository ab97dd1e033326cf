"""The send path's fixed statements, on SQLite run straight on the DBAPI cursor.

SQLAlchemy's `Connection.execute` costs some 50 us a statement (the compiled
cache look-up, an execution context, a result object) where sqlite3 runs the
statement itself in a few: on the send path, which runs a handful per
message on the event loop, that was a quarter of the store's CPU (profiled).
`Direct` compiles a SQLAlchemy statement once, with the dialect's own bind
processors (JSON to text, booleans to integers), and runs it on the raw
sqlite3 connection inside the transaction SQLAlchemy began. Anywhere else
(PostgreSQL, whose statements await the network anyway) it is plain
`conn.execute`. Only statements without expanding IN lists qualify.
Beside the send path, the read behind each message's `chat_activity` (the
members' read markers) runs this way too.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql import Executable

Processor = Callable[[Any], Any] | None


def _no_values(_params: dict[str, Any]) -> tuple[Any, ...]:
    return ()


class Direct:
    """One statement, compiled for SQLite once; `rowcount`, `scalar` and `execute_many`."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._sql = ""  # compiled on first use on SQLite
        self._names: tuple[str, ...] = ()
        self._fetch: Callable[[dict[str, Any]], Any] = _no_values
        # (position, processor) of the parameters that need converting (JSON, booleans):
        # converting only those, after one itemgetter call, took binding a message's 14
        # columns from 6.6 to 4.4 us and a nonce's two from 1.1 to 0.25 (timeit).
        self._converted: list[tuple[int, Callable[[Any], Any]]] = []
        self._own_values: dict[str, Any] = {}

    def _compile(self) -> None:
        compiled = self.statement.compile(dialect=sqlite.dialect())  # type: ignore[attr-defined]
        self._names = tuple(compiled.positiontup or ())
        processors: list[Processor] = [
            compiled.binds[name].type.bind_processor(compiled.dialect) for name in self._names]
        self._converted = [(index, processor) for index, processor in enumerate(processors)
                           if processor is not None]
        # Values the statement carries itself (a literal such as coalesce's 0).
        self._own_values = {name: bind.effective_value
                            for name, bind in compiled.binds.items() if not bind.required}
        if self._own_values:
            self._fetch = self._with_own_values
        elif len(self._names) == 1:
            only = self._names[0]
            self._fetch = lambda params: (params[only],)
        elif self._names:
            self._fetch = itemgetter(*self._names)
        self._sql = compiled.string

    def _with_own_values(self, params: dict[str, Any]) -> tuple[Any, ...]:
        own = self._own_values
        return tuple(params[name] if name in params else own[name] for name in self._names)

    def _values(self, params: dict[str, Any]) -> tuple[Any, ...] | list[Any]:
        if not self._sql:
            self._compile()
        values = self._fetch(params)
        if not self._converted:
            return values  # type: ignore[no-any-return]
        converted = list(values)
        for index, processor in self._converted:
            converted[index] = processor(converted[index])
        return converted

    @staticmethod
    def _sqlite(conn: Connection) -> Any | None:
        """The raw sqlite3 connection under `conn`, or None on another database."""
        return conn.connection.driver_connection if conn.dialect.name == "sqlite" else None

    def rowcount(self, conn: Connection, params: dict[str, Any]) -> int:
        """Run it; the count of rows it changed."""
        raw = self._sqlite(conn)
        if raw is None:
            return int(conn.execute(self.statement, params).rowcount)
        values = self._values(params)
        return int(raw.execute(self._sql, values).rowcount)

    def scalar(self, conn: Connection, params: dict[str, Any]) -> Any:
        """Run it; the first column of its first row, or None."""
        raw = self._sqlite(conn)
        if raw is None:
            return conn.execute(self.statement, params).scalar()
        values = self._values(params)
        rows = raw.execute(self._sql, values).fetchall()
        return rows[0][0] if rows else None

    def rows(self, conn: Connection, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run it; its rows as tuples, in its columns' order. Only for columns that
        need no conversion from what sqlite3 returns (numbers, text)."""
        raw = self._sqlite(conn)
        if raw is None:
            return [tuple(row) for row in conn.execute(self.statement, params)]
        values = self._values(params)
        return list(raw.execute(self._sql, values).fetchall())

    def execute_many(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Run it once per parameter set (an insert of many rows)."""
        raw = self._sqlite(conn)
        if raw is None:
            conn.execute(self.statement, rows)
        else:
            values = [self._values(row) for row in rows]
            raw.executemany(self._sql, values)
