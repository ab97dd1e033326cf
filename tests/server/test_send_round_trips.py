"""PostgreSQL's round trips per send group, counted on a fresh database.

A chat's groups commit one after another there, so each statement's round
trip is paid by every sender in the chat: a group takes two statements
(`postgres_sends`), and a connection just put back into the pool is taken
again without a ping, while one idle past `IDLE_BEFORE_PING` is pinged (a
restarted server's closed connections are found that way; the restart
itself is tested in tests/test_reliability_faults.py). A group's check for
repeated `client_id`s reads one row per `client_id`, not the chat.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, event, text

from bench.postgres import temporary_database
from chat_widget.server import database
from chat_widget.server import store as store_module
from chat_widget.server.store import Store, User

ALICE = User("alice", "Alice", "user")
FAR = 1e12


@pytest.fixture
def postgres_db() -> Iterator[str]:
    with temporary_database() as url:
        yield url


@pytest.fixture
async def store(postgres_db: str) -> AsyncIterator[Store]:
    opened = Store(postgres_db)
    await opened.open()
    await opened.add_workspace("demo")
    await opened.ensure_user(ALICE.id, ALICE.name, "alice-token", "user")
    await opened.add_member("demo", ALICE.id)
    await opened.add_chat("general", "demo")
    yield opened
    await opened.close()


def statements(store: Store) -> list[str]:
    """A list that gains each statement `store` sends to PostgreSQL, as it goes."""
    seen: list[str] = []
    event.listen(store.db._async_engine.sync_engine, "before_cursor_execute",
                 lambda _conn, _cursor, sql, *_rest: seen.append(sql))
    return seen


def pings(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that gains one entry per ping the pool sends (the real ping still runs)."""
    dialect: Any = store.db._async_engine.sync_engine.dialect
    seen: list[int] = []
    real_ping = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        seen.append(1)
        return bool(real_ping(dbapi_connection))

    monkeypatch.setattr(dialect, "do_ping", counted)
    return seen


async def send(store: Store, n: int, nonce: str | None = None) -> Any:
    return await store.store_message("general", ALICE, f"m{n}", [], client_id=f"c{n}",
                                     auth_nonce=nonce or f"n{n}", auth_expires_at=FAR)


async def test_a_group_of_sends_takes_two_statements(store: Store) -> None:
    await send(store, 0)  # the connection's first use prepares its statements
    sent = statements(store)
    outcomes = await asyncio.gather(*(send(store, n) for n in range(1, 9)))
    assert [message["seq"] for message, created in outcomes] == list(range(2, 10))
    assert len(sent) == 2, sent
    repeated, created = await send(store, 3, nonce="another")  # its client_id answers
    assert not created and repeated["seq"] == 4 and repeated["text"] == "m3"


async def test_a_connection_back_moments_ago_is_not_pinged_an_idle_one_is(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    await send(store, 0)
    pinged = pings(store, monkeypatch)
    for n in range(1, 6):
        await send(store, n)
    assert pinged == []
    await asyncio.sleep(database.IDLE_BEFORE_PING * 2)
    await send(store, 6)
    assert pinged == [1]
    assert (await store.chat("general", fresh=True))["last_seq"] == 7  # type: ignore[index]


async def test_the_client_id_check_reads_one_row_per_client_id_however_long_the_chat(
        store: Store) -> None:
    # 2,000 messages written straight in and no ANALYZE since: a new database,
    # whose planner knows nothing of how many of them the chat holds.
    await store.db.run(lambda conn: conn.execute(text(
        "INSERT INTO messages (id, chat_id, seq, sender_id, text, parts, client_id, created_at)"
        " SELECT 'm' || n, 'general', n, 'alice', 'old', '[]', 'c' || n, '2026-12-01T00:00:00Z'"
        " FROM generate_series(1, 2000) AS n")))
    client_ids = ["c5", "c1999", "new"]

    def check(conn: Connection) -> tuple[set[str], int]:
        sends = [store_module._Send({"chat_id": "general", "client_id": client_id}, ALICE,
                                    f"nonce-{client_id}", FAR) for client_id in client_ids]
        _fresh, found = store_module._check_sends(conn, sends)
        fetched = conn.execute(text(
            "SELECT seq_tup_read + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables"
            " WHERE relname = 'messages'")).scalar_one()
        return {message["client_id"] for message in found.values()}, fetched

    found, rows_read = await store.db.run(check)
    assert found == {"c5", "c1999"}
    assert rows_read <= len(client_ids)
