"""A redis-server of one test's own, which it may SIGKILL and start again.

The machine's shared Redis is never killed: a test of what a Redis crash
does runs its own server on a free loopback port, in a temporary folder,
without persistence (a restarted one comes back empty, as a crashed cache
without a dump would).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from .ports import free_port
from .private_postgres import PrivateServer


class PrivateRedis(PrivateServer):
    """`with PrivateRedis() as server:` a running redis-server at `server.url`."""

    def __init__(self, folder: Path | None = None) -> None:
        self._own_folder = folder is None
        self.folder = folder or Path(tempfile.mkdtemp(prefix="chat-widget-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start on the same port and return once it answers PING."""
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the private redis-server did not start") from None
                time.sleep(0.02)
        client.close()

    def kill(self) -> None:
        """SIGKILL, as a crash would: no goodbye to its clients."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def close(self) -> None:
        self.kill()
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

