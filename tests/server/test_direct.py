"""`Direct` (server/direct.py) runs a statement on sqlite3 itself: the same rows,
counts and stored values as SQLAlchemy's `execute` of that statement."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, bindparam, create_engine, func, insert, select, update
from sqlalchemy.dialects import sqlite

from chat_widget.server.direct import Direct
from chat_widget.server.schema import chats, messages, metadata, used_auth, users, workspaces


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[Connection]:
    engine = create_engine(f"sqlite:///{tmp_path / 'direct.db'}")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(workspaces), {"id": "w", "title": "w"})
        connection.execute(insert(users), {"id": "u", "name": "U", "kind": "user"})
        connection.execute(insert(chats), {"id": "c", "workspace_id": "w", "title": "c",
                                           "last_seq": 0, "last_version": 0})
        yield connection
    engine.dispose()


def test_an_insert_stores_what_sqlalchemy_would(conn: Connection) -> None:
    row = {"id": "m1", "chat_id": "c", "seq": 1, "sender_id": "u", "text": "héllo ✓",
           "parts": [{"type": "text", "text": "ü"}], "client_id": None, "reply_to": None,
           "created_at": "2026-01-01T00:00:00.000Z", "version": 0, "edited_at": None,
           "deleted": True, "reactions": [{"emoji": "👍", "users": ["u"]}], "mentions": ["u"]}
    Direct(insert(messages)).execute_many(conn, [row])
    stored = conn.execute(select(messages)).mappings().one()
    assert dict(stored) == row


def test_counts_scalars_and_rows_answer_as_execute_does(conn: Connection) -> None:
    spend = Direct(sqlite.insert(used_auth).values(
        nonce=bindparam("nonce"), expires_at=bindparam("expires_at")).on_conflict_do_nothing())
    assert spend.rowcount(conn, {"nonce": "n", "expires_at": 1.5}) == 1
    assert spend.rowcount(conn, {"nonce": "n", "expires_at": 1.5}) == 0
    take = Direct(update(chats).where(chats.c.id == bindparam("chat_id"))
                  .values(last_seq=chats.c.last_seq + bindparam("count"))
                  .returning(chats.c.last_seq))
    assert take.scalar(conn, {"chat_id": "c", "count": 3}) == 3
    assert take.scalar(conn, {"chat_id": "gone", "count": 3}) is None
    # A literal the statement carries (coalesce's 7) is bound as SQLAlchemy binds it.
    query = select(chats.c.id, func.coalesce(chats.c.responder, 7)).where(
        chats.c.id == bindparam("chat_id"))
    assert Direct(query).rows(conn, {"chat_id": "c"}) == [
        tuple(row) for row in conn.execute(query, {"chat_id": "c"})] == [("c", 7)]
