"""A PostgreSQL cluster of one test's own, which it may stop and restart at will.

The machine's shared PostgreSQL is never restarted: a test of what a restart
does gets its own cluster (initdb + pg_ctl from the installed server) in a
temporary folder, on a free loopback port, with its socket in that folder.
PostgreSQL refuses to run as root, so under root the commands run as the
`postgres` user, who then owns the folder.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from .ports import free_port


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None:
        raise RuntimeError("no PostgreSQL server installed (pg_ctl not found)")
    return Path(pg_ctl).parent


Started = TypeVar("Started", bound="PrivateServer")


class PrivateServer:
    """A server process of a test's own: `with X() as server:` starts it (cleaning up
    if the start fails) and closes it on the way out, whatever happened inside."""

    def start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: Started) -> Started:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


class PrivatePostgres(PrivateServer):
    """`with PrivatePostgres() as pg:` a running cluster at `pg.url(database)`."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="chat-widget-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self._bin = _bin_dir()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120.0) -> None:
        command = [str(self._bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout,
                       cwd=self.folder)

    def start(self) -> None:
        """Start the cluster (made on first start) and return once it accepts connections."""
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                      "--no-sync", "-E", "UTF8")
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "start", "-w", "-D", str(self.data), "-l",
                  str(self.folder / "postgres.log"), "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl stop -m fast`: open sessions are ended, as an operator's restart does."""
        self._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.data))

    def restart(self, down_for: float = 0.0) -> float:
        """Stop fast, stay down `down_for` s, start; returns the seconds it was down."""
        started = time.monotonic()
        self.stop()
        time.sleep(down_for)
        self.start()
        return time.monotonic() - started

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

