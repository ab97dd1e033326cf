"""The embedded default server's home: a per-user data directory that outlives kernels.

`chat()` keeps the demo chat in `demo.db` here, so a restarted kernel shows
the same history. One process at a time runs the server on that database: it
holds an exclusive lock on `server.lock` for as long as it lives (the
operating system drops the lock when the process dies, however it dies) and
writes `server.json` ({"url", "tokens", "pid"}, readable by the user alone).
A second process on the same directory, say another notebook's kernel, finds
the lock taken and uses the running server instead of opening the database
twice. A restarted owner binds the port it had before when it is free, so
clients of the old server reconnect to the new one by themselves.

The directory is platformdirs' user data directory for "chat-widget", or
`$CHAT_WIDGET_DATA_DIR` when set (tests point it at a temporary folder).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests

from .errors import ChatError

DATA_DIR_VARIABLE = "CHAT_WIDGET_DATA_DIR"
DATABASE_NAME = "demo.db"
_INFO_NAME = "server.json"
_LOCK_NAME = "server.lock"

_held_locks: dict[Path, IO[str]] = {}  # open for the life of the process: closing drops it


def data_dir() -> Path:
    """Where the embedded server keeps its data: `$CHAT_WIDGET_DATA_DIR`, else the user's."""
    chosen = os.environ.get(DATA_DIR_VARIABLE)
    if chosen:
        return Path(chosen).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("chat-widget", appauthor=False))


def database_url(folder: Path | None = None) -> str:
    """The SQLite URL of the embedded demo database in `folder` (default: `data_dir()`)."""
    return f"sqlite:///{(folder or data_dir()) / DATABASE_NAME}"


@dataclass(frozen=True)
class RunningElsewhere:
    """The embedded server of another process on the same data directory."""

    url: str
    tokens: dict[str, str]
    pid: int

    def answers(self) -> bool:
        """Whether its server still answers (`GET /api/health`)."""
        return _answers(self.url)


def try_lock(folder: Path) -> bool:
    """Take the data directory's lock for this process if no other process holds it."""
    folder = folder.resolve()
    if folder in _held_locks:
        return True  # ours already (a start that failed, tried again)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # the database holds the secret
    handle = (folder / _LOCK_NAME).open("a+")
    if not _lock_without_waiting(handle):
        handle.close()
        return False
    _held_locks[folder] = handle
    return True


def previous_port(folder: Path) -> int:
    """The port the last owner listened on when it is free again, else 0 (any free port)."""
    info = _read_info(folder)
    port = int(info.get("port", 0)) if info else 0
    return port if port and _port_is_free(port) else 0


def publish(folder: Path, url: str, tokens: dict[str, str]) -> None:
    """Tell other processes where this process's server is (lock held)."""
    target = folder / _INFO_NAME
    temporary = folder / f".{_INFO_NAME}.{os.getpid()}.tmp"
    port = int(url.rsplit(":", 1)[1])
    payload = {"url": url, "port": port, "tokens": tokens, "pid": os.getpid()}
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(payload, file)
    os.replace(temporary, target)


def find_running(folder: Path, timeout: float = 30.0) -> RunningElsewhere:
    """The server of the process holding the lock, once it has started and answers.

    It may still be starting (it writes `server.json` once it accepts); a
    server that does not answer within `timeout` is a clear error, not a hang.
    """
    deadline = time.monotonic() + timeout
    while True:
        info = _read_info(folder)
        if info and _process_alive(int(info.get("pid", 0))) and _answers(str(info["url"])):
            return RunningElsewhere(str(info["url"]), dict(info["tokens"]), int(info["pid"]))
        if time.monotonic() > deadline:
            owner = f" (process {info['pid']})" if info else ""
            raise ChatError(
                f"another process{owner} holds the chat data in {folder} but its server does "
                f"not answer; stop that process, or use chat(..., fresh=True) for a new chat",
                code="not_connected")
        time.sleep(0.1)


def open_or_join(folder: Path, start: Callable[[str, int], Any]) -> Any:
    """This process's embedded server on `folder`: started here, or the one already running.

    `start(db_url, port)` starts a server and returns it (with `url` and
    `tokens`); it is called only when this process takes the lock.
    """
    if not try_lock(folder):
        return find_running(folder)
    port = previous_port(folder)
    try:
        server = start(database_url(folder), port)
    except OSError:
        if port == 0:
            raise
        server = start(database_url(folder), 0)  # taken between the check and the bind
    publish(folder, server.url, server.tokens)
    return server


def _read_info(folder: Path) -> dict[str, Any] | None:
    try:
        info = json.loads((folder / _INFO_NAME).read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and "url" in info and "tokens" in info else None


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/api/health", timeout=2).ok
    except requests.RequestException:
        return False


def _process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _port_is_free(port: int) -> bool:
    """Whether the server could bind 127.0.0.1:`port` (as it will: address reuse on)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _lock_without_waiting(handle: IO[str]) -> bool:
    if sys.platform == "win32":
        import msvcrt

        with contextlib.suppress(OSError):
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        return False
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
