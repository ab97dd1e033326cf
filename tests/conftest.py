"""Fixtures that start the real chat server on a free loopback port.

The server runs as its own process (`python -m chat_widget serve --demo`), the
way a user starts it, so tests talk to it only over the wire. It writes a
ready file with its URL and the demo tokens once it accepts connections.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from chat_widget.credentials import CREDENTIALS_VARIABLE, TOKEN_VARIABLE
from chat_widget.embedded import DATA_DIR_VARIABLE

# The embedded server's data never goes to the user's own data directory:
# a folder for the whole run (servers and kernels started by session fixtures
# inherit it), and one of its own for each test (below).
os.environ[DATA_DIR_VARIABLE] = tempfile.mkdtemp(prefix="chat-widget-test-data-")
# Nor are the user's own token or credentials file read, or written.
os.environ.pop(TOKEN_VARIABLE, None)
os.environ[CREDENTIALS_VARIABLE] = str(
    Path(tempfile.mkdtemp(prefix="chat-widget-test-credentials-")) / "credentials.json")


@dataclass
class RunningServer:
    """A `chat-widget serve` process and what its ready file said."""

    url: str
    tokens: dict[str, str]
    db_url: str
    process: subprocess.Popen
    ready_file: Path
    log_path: Path
    extra_args: list[str] = field(default_factory=list)

    def kill(self) -> None:
        """Stop the process at once, as a crash would (SIGKILL)."""
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the process cleanly (SIGTERM), as an operator would."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(
    tmp_dir: Path,
    db_url: str | None = None,
    extra_args: list[str] | None = None,
    port: int = 0,
    timeout: float = 30.0,
) -> RunningServer:
    """Start `chat-widget serve --demo` and wait for its ready file."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    db_url = db_url or f"sqlite:///{tmp_dir / 'chat.db'}"
    ready_file = tmp_dir / f"ready-{time.monotonic_ns()}.json"
    log_path = tmp_dir / f"server-{time.monotonic_ns()}.log"
    args = [
        sys.executable, "-m", "chat_widget", "serve", "--demo",
        "--host", "127.0.0.1", "--port", str(port),
        "--db", db_url, "--ready-file", str(ready_file),
        *(extra_args or []),
    ]
    log = log_path.open("wb")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    deadline = time.monotonic() + timeout
    while not ready_file.exists():
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"server not ready in {timeout} s:\n{log_path.read_text()}")
        time.sleep(0.02)
    ready = json.loads(ready_file.read_text())
    return RunningServer(
        url=ready["url"], tokens=ready["tokens"], db_url=db_url, process=process,
        ready_file=ready_file, log_path=log_path, extra_args=list(extra_args or []),
    )


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory: pytest.TempPathFactory,
                     monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's embedded demo server (`chat()`) starts from an empty data directory."""
    folder = tmp_path_factory.mktemp("data")
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(folder))
    return folder


@pytest.fixture(autouse=True)
def private_credentials(tmp_path_factory: pytest.TempPathFactory,
                        monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's credentials file (`chat-widget login`) starts absent, in a folder of its own."""
    path = tmp_path_factory.mktemp("credentials") / "credentials.json"
    monkeypatch.setenv(CREDENTIALS_VARIABLE, str(path))
    monkeypatch.delenv(TOKEN_VARIABLE, raising=False)
    return path


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One demo server shared by the tests that only read and add messages."""
    running = start_server(tmp_path_factory.mktemp("server"))
    yield running
    running.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A demo server of the test's own, on its own database."""
    running = start_server(tmp_path / "server")
    yield running
    running.stop()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator:
    """Start servers with custom arguments; all are stopped after the test."""
    started: list[RunningServer] = []

    def factory(db_url: str | None = None, extra_args: list[str] | None = None,
                port: int = 0) -> RunningServer:
        running = start_server(tmp_path / f"server{len(started)}", db_url, extra_args, port)
        started.append(running)
        return running

    yield factory
    for running in started:
        running.stop()


@pytest.fixture
def alice_and_bob(server: RunningServer) -> Iterator[tuple[Any, Any]]:
    """Alice and Bob on the shared server, each with a ChatClient joined to "general"."""
    from tests.client.common import client_for

    with client_for(server.url, server.tokens["alice"]) as alice, \
            client_for(server.url, server.tokens["bob"]) as bob:
        alice.join("general")
        bob.join("general")
        yield alice, bob


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database on the machine's real server, dropped afterwards."""
    from bench.postgres import temporary_database

    with temporary_database() as url:
        yield url


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--full", action="store_true",
                     help="run soak and property tests at their full counts (slow)")


@pytest.fixture(scope="session")
def full_counts(request: pytest.FixtureRequest) -> bool:
    """True when the run asked for the full counts (`pytest --full`)."""
    return bool(request.config.getoption("--full"))
