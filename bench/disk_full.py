"""SQLite's disk fills up: sends answer a clear error, the database stays whole, sending resumes.

The server's SQLite file lives on a small tmpfs of the run's own (mounting
one needs root, or CAP_SYS_ADMIN; `mountable()` says whether this machine
lets us). A client sends; then a filler file takes every free byte, and the
client keeps sending until the server answers the disk is full (SQLite can
still write into WAL pages it already has, so a few sends may get through
first, and they are truly stored). `refused` further sends must each be
answered with the protocol's `internal` and a sentence naming the full
disk; then the filler goes, and sends must be stored again. At the end
SQLite's integrity check passes, every acknowledged message is stored once,
and no refused one is.

    python -m bench.disk_full
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from chat_widget.client import ChatClient
from chat_widget.errors import ChatError

from .processes import chat_server

TEXT = "x" * 32_000  # big sends: the WAL must grow soon after the disk is full


@contextlib.contextmanager
def small_filesystem(size: str = "6m") -> Iterator[Path]:
    """A tmpfs of `size` mounted on a fresh folder, unmounted (lazily) afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="chat-widget-disk-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                    str(folder)], check=True, capture_output=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def mountable() -> bool:
    """Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN)."""
    try:
        with small_filesystem("64k"):
            return True
    except (subprocess.CalledProcessError, FileNotFoundError):
        return False


def fill(folder: Path) -> Path:
    """Write a file until the file system has no byte left; returns it."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as file:
        for block in (b"\0" * 65536, b"\0"):  # big blocks, then the last bytes one by one
            with contextlib.suppress(OSError):
                while file.write(block):
                    pass
    return filler


def _send(client: ChatClient) -> tuple[str, ChatError | None]:
    client_id = uuid.uuid4().hex
    try:
        client.send(TEXT, client_id=client_id)
        return client_id, None
    except ChatError as error:
        return client_id, error


def run(refused: int = 5, before: int = 5, tries: int = 200) -> dict[str, Any]:
    with small_filesystem() as folder:
        db_path = folder / "chat.db"
        with chat_server(f"sqlite:///{db_path}") as server:
            with ChatClient(server["url"], server["tokens"]["alice"], send_timeout=1.0) as alice:
                alice.join("general")
                acked = [_send(alice)[0] for _ in range(before)]
                alice.send("findable before the disk filled")
                _search(server)  # indexes what waits (SQLite indexes in batches)
                filler = fill(folder)
                through_full, first_error, refused_ids = 0, None, []
                for _try in range(tries):
                    client_id, first_error = _send(alice)
                    if first_error is not None:
                        refused_ids.append(client_id)
                        break
                    acked.append(client_id)
                    through_full += 1
                answers = [_send(alice) for _ in range(refused)]
                searched_while_full = _search(server)
                refused_ids += [client_id for client_id, _e in answers]
                filler.unlink()
                after = [_send(alice) for _ in range(before)]
                acked += [client_id for client_id, error in after if error is None]
            integrity, stored = _inspect(db_path)
    errors = [error for _id, error in answers if error is not None]
    return {
        "filesystem": "tmpfs, 6 MiB", "message_bytes": len(TEXT),
        "stored_after_the_disk_filled": through_full,
        "first_refusal": _described(first_error),
        "refused": len(errors), "asked_while_full": len(answers),
        "refusal_codes": sorted({error.code for error in errors}),
        "refusal_messages": sorted({error.message for error in errors}),
        # A search still answers, from what was indexed before the disk filled.
        "search_while_full": searched_while_full,
        "sent_after_space_came_back": sum(1 for _id, error in after if error is None),
        "asked_after_space_came_back": len(after),
        "failed_after_space_came_back": [_described(error) for _id, error in after if error],
        "integrity_check": integrity,
        "acknowledged": len(acked),
        "lost": sum(1 for client_id in acked if stored.get(client_id, 0) == 0),
        "doubled": sum(1 for count in stored.values() if count > 1),
        "refused_but_stored": sum(1 for client_id in refused_ids if stored.get(client_id)),
    }


def _search(server: dict[str, Any]) -> dict[str, Any]:
    """`GET /api/search?q=findable`: its status and the texts found."""
    answer = requests.get(f"{server['url']}/api/search", params={"q": "findable"},
                          headers={"Authorization": f"Bearer {server['tokens']['alice']}"},
                          timeout=30)
    found = answer.json().get("messages", []) if answer.ok else []
    return {"status": answer.status_code, "found": [message["text"] for message in found]}


def _described(error: ChatError | None) -> dict[str, str] | None:
    return None if error is None else {"code": error.code, "message": error.message}


def _inspect(db_path: Path) -> tuple[str, dict[str, int]]:
    """SQLite's integrity check and the stored client_ids, read once the server has stopped."""
    connection = sqlite3.connect(db_path)
    try:
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
        rows = connection.execute(
            "SELECT client_id, count(*) FROM messages WHERE client_id IS NOT NULL "
            "GROUP BY client_id").fetchall()
    finally:
        connection.close()
    return str(integrity), {client_id: count for client_id, count in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refused", type=int, default=20, help="sends while the disk is full")
    args = parser.parse_args()
    print(json.dumps(run(args.refused), indent=1))


if __name__ == "__main__":
    main()
