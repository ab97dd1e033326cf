"""Fixtures for server tests that run the same checks on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.postgres import temporary_database
from tests.conftest import RunningServer, start_server


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
