"""Where a file's bytes live: once per sha256, streamed in and out in chunks.

An upload is first spooled: written chunk by chunk to a temporary file while
its sha256 and size are counted, so a 25 MiB body is never held in memory,
and a body cut off halfway (or past the size limit) leaves nothing behind:
the temporary file is removed on any failure. Only a complete upload is then
kept, under its sha256; the same bytes uploaded again are kept once.

Two homes, chosen by `blob_store_for`:

- `DirectoryBlobs`: a content-addressed directory (`ab/abcdef...`). The
  default on SQLite, beside the database file (`chat.db.files/`): one machine
  already holds that database, and the file system serves bytes faster than
  any database. The spool is inside it, so keeping a file is an atomic rename.
  With PostgreSQL too when `--files-dir` names a directory every server
  process shares (a mounted volume, say).
- `DatabaseBlobs`: chunks of 1 MiB in `file_chunks`. The default on
  PostgreSQL, so every server process, on any machine, shares the files
  without a shared disk, and a backup of the database holds them. A blob's
  row in `file_blobs` is written with its chunks in one transaction: it is
  there whole or not at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, select

from ..errors import ChatError
from .database import Database
from .schema import file_blobs, file_chunks

READ_CHUNK = 256 * 1024
DB_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Spooled:
    """A complete upload in a temporary file, with its sha256 (hex) and size."""

    path: Path
    sha256: str
    size: int


class BlobStore(Protocol):
    spool_dir: Path

    async def keep(self, spooled: Spooled) -> None:
        """Keep the spooled bytes under their sha256 (once) and remove the spool file."""

    def chunks(self, sha256: str, size: int) -> AsyncIterator[bytes]:
        """The kept bytes, in order, a chunk at a time."""

    async def close(self) -> None:
        """Release what the store holds (a private spool directory)."""


async def spool(body: AsyncIterator[bytes], spool_dir: Path, max_size: int) -> Spooled:
    """Write `body` to a temporary file in `spool_dir`, hashing as it goes.

    More than `max_size` bytes is `too_large`. On any failure (too large, the
    client gone) the temporary file is removed before the error goes on.
    """
    digest = hashlib.sha256()
    size = 0
    descriptor, name = tempfile.mkstemp(dir=spool_dir, prefix="upload-")
    path = Path(name)
    try:
        with open(descriptor, "wb") as handle:
            async for chunk in body:
                size += len(chunk)
                if size > max_size:
                    raise ChatError(f"the file is larger than this server's limit of "
                                    f"{max_size:,} bytes", code="too_large")
                digest.update(chunk)
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Spooled(path, digest.hexdigest(), size)


# A spool file this old was left by a process killed mid-upload (other processes
# sharing the directory may be uploading now: younger ones are theirs).
STALE_SPOOL_SECONDS = 3600.0


class DirectoryBlobs:
    """Bytes as files named by their sha256, under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.spool_dir = root / "incoming"
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        stale = time.time() - STALE_SPOOL_SECONDS
        for leftover in self.spool_dir.glob("upload-*"):
            with contextlib.suppress(OSError):
                if leftover.stat().st_mtime < stale:
                    leftover.unlink()

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    async def keep(self, spooled: Spooled) -> None:
        target = self.path_of(spooled.sha256)
        if target.exists():
            spooled.path.unlink(missing_ok=True)
            return
        target.parent.mkdir(exist_ok=True)
        os.replace(spooled.path, target)  # atomic: the same bytes either way

    async def chunks(self, sha256: str, size: int) -> AsyncIterator[bytes]:
        with self.path_of(sha256).open("rb") as handle:
            while chunk := handle.read(READ_CHUNK):
                yield chunk

    async def close(self) -> None:
        return None


class DatabaseBlobs:
    """Bytes in the database, in chunks; uploads spool in a private temporary directory."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.spool_dir = Path(tempfile.mkdtemp(prefix="chat-widget-uploads-"))

    async def keep(self, spooled: Spooled) -> None:
        try:
            await self._db.run(_keep_in_database, spooled)
        finally:
            spooled.path.unlink(missing_ok=True)

    async def chunks(self, sha256: str, size: int) -> AsyncIterator[bytes]:
        for index in range((size + DB_CHUNK - 1) // DB_CHUNK):
            chunk = await self._db.run(_chunk, sha256, index)
            if chunk is None:
                raise ChatError("the file's bytes are missing", code="internal")
            yield chunk

    async def close(self) -> None:
        shutil.rmtree(self.spool_dir, ignore_errors=True)


def _keep_in_database(conn: Connection, spooled: Spooled) -> None:
    from .store import _insert_ignore

    # The blob row first: a second upload of the same bytes waits on it, then skips.
    if not _insert_ignore(conn, file_blobs, {"sha256": spooled.sha256, "size": spooled.size}):
        return
    with spooled.path.open("rb") as handle:
        index = 0
        while data := handle.read(DB_CHUNK):
            conn.execute(file_chunks.insert().values(sha256=spooled.sha256, idx=index,
                                                     data=data))
            index += 1


def _chunk(conn: Connection, sha256: str, index: int) -> bytes | None:
    return conn.scalar(select(file_chunks.c.data).where(
        file_chunks.c.sha256 == sha256, file_chunks.c.idx == index))


def blob_store_for(db_url: str, db: Database, files_dir: str | None) -> BlobStore:
    """Where this server keeps bytes: `files_dir` if given, else by database (above)."""
    if files_dir:
        return DirectoryBlobs(Path(files_dir))
    if db.dialect == "sqlite":
        database_path = db_url.split(":///", 1)[1].split("?", 1)[0]
        return DirectoryBlobs(Path(database_path + ".files"))
    return DatabaseBlobs(db)


