"""SQLite indexes new messages for search in batches (search.py, search_backlog.py).

Against a real Store on a SQLite file: messages wait for the index until a
chat has `SEARCH_BATCH` of them or a search comes, what waits survives a
restart, and migration 0007 starts each chat as indexed and, taken back,
indexes what waited and brings the insert trigger back.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from alembic import command

from chat_widget.server import migrate, search
from chat_widget.server.store import Store, User
from tests.helpers import alice_in_general

ALICE = User("alice", "Alice", "user")


def indexed_seq(path: Path, chat_id: str = "general") -> int:
    with sqlite3.connect(path) as conn:
        row = conn.execute(f"SELECT indexed_seq FROM {search.FTS_PROGRESS_TABLE} "
                           "WHERE chat_id = ?", (chat_id,)).fetchone()
    return 0 if row is None else int(row[0])


def index_entries(path: Path, word: str) -> int:
    """Rows of the FTS5 index holding `word`, read without catching up."""
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {search.FTS_TABLE} WHERE "
                                f"{search.FTS_TABLE} MATCH ?", (f'"{word}"',)).fetchone()[0])


async def found(store: Store, word: str) -> list[str]:
    await store.catch_up_search("alice")
    messages = await store.db.read_pages(search.find_messages, [word], "alice", None, 100)
    return [message["text"] for message in messages]


async def send(store: Store, count: int, text: str) -> None:
    for n in range(count):
        await store.store_message("general", ALICE, f"{text} {n}", [])


async def test_a_batch_is_indexed_without_a_search_and_the_rest_at_the_next(
        store: Store, tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    await send(store, search.SEARCH_BATCH - 1, "waiting")
    await asyncio.sleep(0.05)
    assert indexed_seq(path) == 0 and index_entries(path, "waiting") == 0
    await send(store, 1, "waiting")
    for _ in range(100):  # the batch is indexed by a task of its own
        if indexed_seq(path) == search.SEARCH_BATCH:
            break
        await asyncio.sleep(0.01)
    assert indexed_seq(path) == search.SEARCH_BATCH
    assert index_entries(path, "waiting") == search.SEARCH_BATCH
    await send(store, 3, "later")
    assert index_entries(path, "later") == 0
    assert sorted(await found(store, "later")) == ["later 0", "later 1", "later 2"]
    assert indexed_seq(path) == search.SEARCH_BATCH + 3


async def test_messages_waiting_when_the_server_stops_are_found_after_it_starts(
        tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    first = await alice_in_general(f"sqlite:///{path}")
    await send(first, 5, "before")
    await first.close()
    assert index_entries(path, "before") == 0
    second = await alice_in_general(f"sqlite:///{path}")
    try:
        assert len(await found(second, "before")) == 5
    finally:
        await second.close()


async def test_migration_0007_keeps_what_was_indexed_and_taken_back_indexes_what_waits(
        tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = await alice_in_general(f"sqlite:///{path}")
    await send(store, 4, "kept")
    await store.db.run(lambda conn: command.downgrade(migrate.alembic_config(conn), "0006"))
    assert index_entries(path, "kept") == 4  # indexed on the way down
    await send(store, 2, "triggered")  # by the trigger 0006 has
    assert index_entries(path, "triggered") == 2
    await store.db.run(migrate.upgrade)
    assert indexed_seq(path) == 6
    await send(store, 1, "batched")
    assert index_entries(path, "batched") == 0
    assert len(await found(store, "kept")) == 4 and await found(store, "batched") == ["batched 0"]
    await store.close()
