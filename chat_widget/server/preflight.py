"""Checks before the server starts: the database answers, the port can be bound.

Each failure becomes a `StartupError` whose text is one sentence naming what
failed and what to try, which `chat-widget` prints instead of a traceback
(a missing PostgreSQL database used to end in a 170-line SQLAlchemy chain,
an unreachable one in a bare "[Errno 111] Connection refused"). A missing
PostgreSQL database is created when the user may create databases; else the
sentence gives the command that would. (Redis is checked by the server's
own start, which waits for its subscription: `redis_link.py`.)
"""

from __future__ import annotations

import asyncio
import errno
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

from .database import driver_url

CONNECT_TIMEOUT = 10.0


class StartupError(Exception):
    """The server cannot start for a reason outside it; the text says what to do."""


async def prepare_database(db_url: str, create: bool = True) -> None:
    """Make sure `db_url` can be opened; with `create`, a missing database is made."""
    url = make_url(driver_url(db_url))
    if url.get_backend_name() == "sqlite":
        _check_sqlite(url, create)
    else:
        await _prepare_postgres(url, create)


def _check_sqlite(url: URL, create: bool) -> None:
    path = Path(url.database or "")
    if not create and not path.is_file():
        raise StartupError(f"there is no SQLite database at {path}: start "
                           "`chat-widget serve --demo` there first, or pass --db")
    folder = path.resolve().parent
    if not folder.is_dir():
        raise StartupError(f"cannot open the SQLite database {path}: the folder {folder} "
                           "does not exist; create it or pass another --db")


async def _prepare_postgres(url: URL, create: bool) -> None:
    import asyncpg

    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    try:
        connection = await _connect(url)
        await connection.close()
        return
    except asyncpg.InvalidCatalogNameError:
        if not create:
            raise StartupError(f'the PostgreSQL database "{url.database}" does not exist '
                               f"on {where}: {_createdb(url)} creates it") from None
    except Exception as error:
        raise _unreachable_postgres(url, where, error) from None
    await _create_database(url, where)


async def _create_database(url: URL, where: str) -> None:
    """CREATE DATABASE through the server's `postgres` database, as the same user."""
    import asyncpg

    try:
        connection = await _connect(url.set(database="postgres"))
    except Exception as error:
        raise StartupError(f'the PostgreSQL database "{url.database}" does not exist on '
                           f"{where} and could not be created ({_reason(error)}): "
                           f"{_createdb(url)} creates it") from None
    try:
        name = str(url.database).replace('"', '""')
        await connection.execute(f'CREATE DATABASE "{name}"')
    except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
        pass  # another process, started at the same time, made it first
    except asyncpg.InsufficientPrivilegeError:
        raise StartupError(f'the PostgreSQL database "{url.database}" does not exist on '
                           f"{where} and user {url.username} may not create databases: as a "
                           f"user who may, run {_createdb(url, owner=True)}") from None
    finally:
        await connection.close()


async def _connect(url: URL) -> Any:
    import asyncpg

    return await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password,
        database=url.database, timeout=CONNECT_TIMEOUT)


def _unreachable_postgres(url: URL, where: str, error: BaseException) -> StartupError:
    import asyncpg

    if isinstance(error, (asyncpg.InvalidPasswordError,
                          asyncpg.InvalidAuthorizationSpecificationError)):
        return StartupError(f"PostgreSQL on {where} refused user {url.username} "
                            f"({_reason(error)}): check the user and password in --db")
    return StartupError(f"cannot reach PostgreSQL on {where} ({_reason(error)}): is it "
                        f"running? `pg_isready -h {url.host or 'localhost'} -p "
                        f"{url.port or 5432}` tells; else check the host and port in --db")


def _createdb(url: URL, owner: bool = False) -> str:
    """The shell command that makes the database (owned by the URL's user, if `owner`)."""
    user = f" -{'O' if owner else 'U'} {url.username}" if url.username else ""
    return (f"`createdb -h {url.host or 'localhost'} -p {url.port or 5432}{user} "
            f"{url.database}`")


def bind_failure(host: str, port: int, error: OSError) -> StartupError | None:
    """The sentence for a port that cannot be listened on, or None for another OSError."""
    if error.errno == errno.EADDRINUSE:
        return StartupError(f"port {port} on {host} is already in use (another chat-widget "
                            "serve?): stop that one, or pick another with --port")
    if error.errno == errno.EACCES:
        return StartupError(f"this user may not listen on port {port} (ports below 1024 "
                            "need root): pick another with --port")
    if error.errno == errno.EADDRNOTAVAIL:
        return StartupError(f"{host} is not an address of this machine: check --host")
    return None


def _reason(error: BaseException) -> str:
    text = str(error).strip()
    if isinstance(error, ConnectionRefusedError) or "Connect call failed" in text \
            or "Connection refused" in text:
        return "connection refused"
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return f"no answer within {CONNECT_TIMEOUT:g} s"
    return text.splitlines()[0] if text else type(error).__name__
