"""Fixtures for server tests that run the same checks on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bench.postgres import temporary_database
from bench.private_redis import PrivateRedis
from chat_widget.server.store import Store
from tests.conftest import RunningServer, start_server
from tests.helpers import alice_in_general


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    with temporary_database() as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def store_server(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A demo server of the module's own, on SQLite and then on a fresh PostgreSQL database."""
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        running = start_server(folder)
        yield running
        running.stop()
        return
    with temporary_database() as db_url:
        running = start_server(folder, db_url)
        yield running
        running.stop()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A Store on a SQLite file of the test's own (`tmp_path / "store.db"`): workspace
    demo, its member alice, chat general. Modules that need both databases define
    their own `store` on `db_url`."""
    opened = await alice_in_general(f"sqlite:///{tmp_path / 'store.db'}")
    yield opened
    await opened.close()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of the test's own, which it may SIGKILL and start again."""
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()
