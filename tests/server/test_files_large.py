"""A 25 MiB file goes up and comes back whole while the server's memory stays flat,
on SQLite (bytes on disk) and PostgreSQL (bytes in the database), and the same
bytes uploaded twice are kept once in either home."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import requests
from sqlalchemy import Connection, text

from tests.helpers import http
from tests.server.test_migrations import run_on

SIZE = 25 * 1024 * 1024
# Far below the file's size: a server that held the body (or the download) whole
# even once would grow by 25 MiB or more.
MAX_GROWTH = 12 * 1024 * 1024


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak RSS starts again from now


def test_a_25_mib_round_trip_is_exact_and_streams(store_server, tmp_path):
    source = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with source.open("wb") as handle:
        for _ in range(SIZE // (1024 * 1024)):
            chunk = os.urandom(1024 * 1024)
            digest.update(chunk)
            handle.write(chunk)
    token = store_server.tokens["alice"]
    pid = store_server.process.pid
    http(store_server, "GET", "/api/me", token)  # warm: the first request loads some code
    reset_peak(pid)
    before = peak_rss(pid)
    with source.open("rb") as body:
        answer = http(store_server, "POST", "/api/chats/general/files", token,
                      params={"name": "big.bin"}, data=body,
                      headers={"Content-Type": "application/octet-stream"})
    assert answer.status_code == 201, answer.text
    stored = answer.json()["file"]
    assert (stored["size"], stored["sha256"]) == (SIZE, digest.hexdigest())
    back = hashlib.sha256()
    with requests.get(f"{store_server.url}/api/files/{stored['id']}", stream=True, timeout=60,
                      headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status_code == 200
        assert int(response.headers["Content-Length"]) == SIZE
        for chunk in response.iter_content(256 * 1024):
            back.update(chunk)
    assert back.hexdigest() == digest.hexdigest()
    growth = peak_rss(pid) - before
    print(f"server peak RSS growth over the round trip: {growth / 2**20:.1f} MiB")
    assert growth < MAX_GROWTH, f"the server grew by {growth / 2**20:.1f} MiB"


def kept_copies(server, sha256: str) -> int:
    """How many times the bytes with this sha256 are kept by the server."""
    if server.db_url.startswith("sqlite"):
        files_dir = Path(server.db_url.split(":///", 1)[1] + ".files")
        return len(list(files_dir.rglob(sha256)))

    def count(conn: Connection) -> int:
        return conn.execute(text("SELECT count(*) FROM file_blobs WHERE sha256 = :s"),
                            {"s": sha256}).scalar_one()

    return int(run_on(server.db_url, count))


def test_the_same_bytes_are_kept_once(store_server):
    data = os.urandom(3 * 1024 * 1024 + 5)  # several database chunks, the last one short
    stored = []
    for user in ("alice", "bob"):
        answer = http(store_server, "POST", "/api/chats/general/files", store_server.tokens[user],
                      params={"name": f"{user}.bin"}, data=data)
        assert answer.status_code == 201, answer.text
        stored.append(answer.json()["file"])
    assert stored[0]["id"] != stored[1]["id"] and stored[0]["sha256"] == stored[1]["sha256"]
    assert kept_copies(store_server, stored[0]["sha256"]) == 1
    for file in stored:
        assert http(store_server, "GET", f"/api/files/{file['id']}",
                    store_server.tokens["alice"]).content == data
