"""A throwaway PostgreSQL database on the machine's server, for one test or benchmark."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

# Where throwaway databases are made (tests and benchmarks): any database of the server.
ADMIN_URL = os.environ.get("CHAT_WIDGET_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


async def admin_execute(statement: str) -> None:
    """Run one statement on the admin database (CREATE or DROP DATABASE, roles)."""
    import asyncpg

    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def temporary_database() -> Iterator[str]:
    """A new empty database, dropped afterwards."""
    with unused_database() as url:
        asyncio.run(admin_execute(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"'))
        yield url


@contextmanager
def unused_database() -> Iterator[str]:
    """The URL of a database that does not exist yet; dropped afterwards if something made it."""
    name = f"chat_widget_bench_{uuid.uuid4().hex[:12]}"
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
