"""Start servers as their own processes for a benchmark, and stop them after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _wait_ready(process: subprocess.Popen, ready: Path, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"server did not start: {process.args}")
        time.sleep(0.02)
    return json.loads(ready.read_text())


@contextmanager
def server_process(args: list[str]) -> Iterator[dict[str, Any]]:
    """Run `python -m ARGS --ready-file F`; yield the ready file's JSON."""
    folder = Path(tempfile.mkdtemp(prefix="chat-widget-bench-"))
    ready = folder / "ready.json"
    process = subprocess.Popen([sys.executable, "-m", *args, "--ready-file", str(ready)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=dict(os.environ), cwd=Path(__file__).resolve().parent.parent)
    try:
        info = _wait_ready(process, ready)
        info["pid"] = process.pid
        info["folder"] = str(folder)
        yield info
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def bare_server(stack: str = "aiohttp", loop: str = "auto") -> Any:
    return server_process(["bench.bare_server", "--stack", stack, "--loop", loop])


def prepare_rooms(db_url: str, rooms: int) -> None:
    """Add chats `room-0` .. `room-N` to the demo workspace before the server starts."""
    import asyncio

    from chat_widget.server.store import Store

    async def add() -> None:
        store = Store(db_url)
        await store.open()
        await store.add_workspace("demo")
        for index in range(rooms):
            await store.add_chat(f"room-{index}", "demo")
        await store.close()

    asyncio.run(add())


def chat_server(db_url: str | None = None, *extra: str,
                prepare: Callable[[str], None] | None = None) -> Any:
    """The chat server with the demo seed, limits off, on a fresh SQLite file by default."""
    folder = Path(tempfile.mkdtemp(prefix="chat-widget-bench-db-"))
    db_url = db_url or f"sqlite:///{folder / 'bench.db'}"
    if prepare is not None:
        prepare(db_url)
    return _with_details(server_process(
        ["chat_widget", "serve", "--demo", "--port", "0", "--db", db_url, "--rate-limit", "0",
         "--max-connections-per-user", "0", *extra]), db_url, extra)


@contextmanager
def _with_details(context: Any, db_url: str, extra: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    with context as info:
        info["db_url"] = db_url
        if "--redis-channel" in extra:
            info["redis_channel"] = extra[extra.index("--redis-channel") + 1]
        yield info
