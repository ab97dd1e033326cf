"""Fixtures for server tests that run the same checks on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.postgres import temporary_database
from bench.private_redis import PrivateRedis
from tests.conftest import RunningServer, start_server


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
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of the test's own, which it may SIGKILL and start again."""
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()
