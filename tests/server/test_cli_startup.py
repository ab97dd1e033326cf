"""`chat-widget serve` on a database, Redis or port it cannot use says why in one line.

Each case runs the command as an operator would, against the machine's real
PostgreSQL, a real port held by a real socket, or an address where nothing
listens; the output must be one sentence naming what failed and what to try,
never a traceback. A missing PostgreSQL database is created when the user may.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.postgres import ADMIN_URL, admin_execute, unused_database
from tests.browser.helpers import free_port
from tests.conftest import start_server
from tests.helpers import RawClient


def serve(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `chat-widget serve ARGS` (on a free port unless given) until it gives up."""
    port = [] if "--port" in args else ["--port", "0"]
    return subprocess.run([sys.executable, "-m", "chat_widget", "serve", *port, *args],
                          capture_output=True, text=True, timeout=60, cwd=cwd)


def one_sentence(result: subprocess.CompletedProcess) -> str:
    """The failure's whole output, checked to be one line and no traceback."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    assert lines[0].startswith("chat-widget: ")
    return lines[0]


def server_url(database: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"


@pytest.fixture
def role_without_createdb() -> Iterator[str]:
    """A PostgreSQL login that may not create databases, dropped afterwards."""
    name = f"chat_widget_nocreate_{uuid.uuid4().hex[:8]}"
    asyncio.run(admin_execute(f'CREATE ROLE "{name}" LOGIN'))
    try:
        yield name
    finally:
        asyncio.run(admin_execute(f'DROP ROLE IF EXISTS "{name}"'))


def test_a_missing_postgres_database_is_created(tmp_path: Path) -> None:
    with unused_database() as db_url:
        server = start_server(tmp_path, db_url=db_url)
        try:
            bob = RawClient(server, server.tokens["bob"])
            assert bob.join("general")["chat"]["id"] == "general"
            bob.close()
        finally:
            server.stop()
        assert "Traceback" not in server.log()


def test_a_missing_database_the_user_may_not_create_names_the_command(
        role_without_createdb: str) -> None:
    with unused_database() as db_url:
        name = db_url.rsplit("/", 1)[1]
        url = db_url.replace("://postgres@", f"://{role_without_createdb}@")
        line = one_sentence(serve("--db", url))
    assert f'database "{name}" does not exist' in line
    assert f"user {role_without_createdb} may not create databases" in line
    assert f"createdb -h 127.0.0.1 -p 5432 -O {role_without_createdb} {name}" in line


def test_unreachable_postgres_is_one_sentence() -> None:
    port = free_port()
    line = one_sentence(serve("--db", f"postgresql://postgres@127.0.0.1:{port}/chat"))
    assert f"cannot reach PostgreSQL on 127.0.0.1:{port} (connection refused)" in line
    assert f"pg_isready -h 127.0.0.1 -p {port}" in line


def test_an_unknown_postgres_user_is_one_sentence() -> None:
    line = one_sentence(serve("--db", server_url("test").replace("://postgres@", "://nobody_x@")))
    assert "refused user nobody_x" in line and "check the user and password in --db" in line


def test_unreachable_redis_is_one_sentence(tmp_path: Path) -> None:
    port = free_port()
    line = one_sentence(serve("--db", f"sqlite:///{tmp_path / 'chat.db'}",
                              "--redis", f"redis://127.0.0.1:{port}/0"))
    assert f"Redis at redis://127.0.0.1:{port}/0" in line and "is it running?" in line


def test_a_port_in_use_is_one_sentence(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        line = one_sentence(serve("--db", f"sqlite:///{tmp_path / 'chat.db'}",
                                  "--port", str(port)))
    assert f"port {port} on 127.0.0.1 is already in use" in line and "--port" in line


def test_a_sqlite_file_in_a_missing_folder_is_one_sentence(tmp_path: Path) -> None:
    line = one_sentence(serve("--db", f"sqlite:///{tmp_path / 'nowhere' / 'chat.db'}"))
    assert f"the folder {tmp_path / 'nowhere'} does not exist" in line


def test_the_admin_commands_say_the_same_sentence(tmp_path: Path) -> None:
    db = f"postgresql://postgres@127.0.0.1:{free_port()}/chat"
    for command in (["add-user", "dana"], ["tokens"], ["add-workspace", "lab"]):
        result = subprocess.run([sys.executable, "-m", "chat_widget", *command, "--db", db],
                                capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert "cannot reach PostgreSQL on 127.0.0.1:" in one_sentence(result)
