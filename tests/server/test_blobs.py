"""The blob store without a server: spooling keeps nothing of a failed upload, and a
spool file left by a killed process is swept at the next start."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chat_widget.errors import ChatError
from chat_widget.server.blobs import STALE_SPOOL_SECONDS, DirectoryBlobs, spool


async def body(chunks: list[bytes], fail_after: int | None = None) -> AsyncIterator[bytes]:
    for index, chunk in enumerate(chunks):
        if index == fail_after:
            raise ConnectionResetError("the client went away")
        yield chunk


def test_a_complete_body_is_spooled_hashed_and_kept_once(tmp_path: Path) -> None:
    blobs = DirectoryBlobs(tmp_path)
    chunks = [os.urandom(1000) for _ in range(5)]
    for _ in range(2):
        spooled = asyncio.run(spool(body(chunks), blobs.spool_dir, 10_000))
        assert spooled.sha256 == hashlib.sha256(b"".join(chunks)).hexdigest()
        asyncio.run(blobs.keep(spooled))
    assert blobs.path_of(spooled.sha256).read_bytes() == b"".join(chunks)
    assert list(blobs.spool_dir.iterdir()) == []


@pytest.mark.parametrize("fail_after, limit", [(3, 10_000), (None, 2_500)])
def test_a_failed_upload_leaves_nothing(tmp_path: Path, fail_after, limit) -> None:
    blobs = DirectoryBlobs(tmp_path)
    with pytest.raises((ConnectionResetError, ChatError)):
        asyncio.run(spool(body([b"x" * 1000] * 5, fail_after), blobs.spool_dir, limit))
    assert list(blobs.spool_dir.iterdir()) == []


def test_stale_spool_files_are_swept_and_fresh_ones_kept(tmp_path: Path) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    stale, fresh = incoming / "upload-stale", incoming / "upload-fresh"
    for path in (stale, fresh):
        path.write_bytes(b"partial")
    long_ago = time.time() - STALE_SPOOL_SECONDS - 60
    os.utime(stale, (long_ago, long_ago))
    DirectoryBlobs(tmp_path)
    assert not stale.exists() and fresh.exists()
