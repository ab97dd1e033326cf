"""Full-text search over message text (protocol 1.1 `GET /api/search`).

Each database keeps its own index, made by migration 0003 and kept in step by
the database itself, so every path that writes a message (send, edit, delete,
a responder's answer, another process) updates it in the same transaction:

- SQLite: an FTS5 table without content of its own (the text lives once, in
  `messages`). FTS5 rows need a stable integer id and a message's rowid is
  not one (VACUUM may renumber it), so a small table gives each message an
  INTEGER PRIMARY KEY for the index. Ranked by bm25. New messages are indexed
  in batches, not by a trigger in the send's own transaction (migration
  0007): FTS5 writes a segment per transaction, and a send's index entry cost
  some 40 us of CPU where one of a batch of 64 costs about 13 (measured on
  raw sqlite3 with this schema). Each chat's `indexed_seq` says how far its
  messages are indexed; `catch_up` indexes the rest, in the transaction of
  its caller: every search first (so a search finds every stored message),
  and the store after every `SEARCH_BATCH` messages of a chat. Edits and
  deletes keep their triggers: a message not yet indexed has no row in the
  ids table, so they leave the index alone and the catch-up indexes the
  message as it then stands.
- PostgreSQL: a generated `tsvector` column (the 'simple' configuration:
  words lowercased, no stemming, so whole words match in any case) with a GIN
  index. Ranked by ts_rank. Everything but letters and digits is made a space
  first, so a word is what it is on SQLite (PostgreSQL's parser would keep
  "0.1.0" or an e-mail address as one token).

A query is its words (letters and digits), every one of which must occur;
deleted messages are never found (a tombstone's text is empty, and the
queries also say so).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, bindparam, column, select, table, text
from sqlalchemy.sql.elements import ColumnElement

from ..errors import ChatError
from ..protocol import Message
from .schema import chats, memberships, messages

MAX_QUERY_LENGTH = 500
MAX_QUERY_WORDS = 20
DEFAULT_SEARCH_LIMIT = 20
MAX_SEARCH_LIMIT = 100

# The index's objects, which schema.py does not declare (each database has its own).
FTS_TABLE = "message_search"
FTS_IDS_TABLE = "message_search_ids"
FTS_PROGRESS_TABLE = "message_search_progress"  # chat_id -> indexed_seq
PG_VECTOR_COLUMN = "search_vector"
PG_INDEX = "ix_messages_search"
SEARCH_INDEX_NAMES = frozenset({FTS_TABLE, FTS_IDS_TABLE, FTS_PROGRESS_TABLE, PG_VECTOR_COLUMN,
                                PG_INDEX})
SEARCH_BATCH = 64
"""Messages of a chat the store lets wait before it indexes them (SQLite)."""

_WORD = re.compile(r"[^\W_]+")


def is_search_index(name: str | None) -> bool:
    """Whether a database object belongs to the search index (FTS5 adds shadow tables)."""
    return bool(name) and (name in SEARCH_INDEX_NAMES or str(name).startswith(FTS_TABLE + "_"))


def include_name(name: str | None, _type: str, _parents: Any) -> bool:
    """Alembic's filter for comparing a database with the model: not the search index."""
    return not is_search_index(name)


def query_words(q: Any) -> list[str]:
    """The words of a search query, lowercased; `bad_request` if there are none."""
    if not isinstance(q, str) or not q.strip():
        raise ChatError("q must be a non-empty string of words", code="bad_request")
    if len(q) > MAX_QUERY_LENGTH:
        raise ChatError(f"q is longer than {MAX_QUERY_LENGTH} characters", code="bad_request")
    words = list(dict.fromkeys(word.lower() for word in _WORD.findall(q)))
    if not words:
        raise ChatError("q has no words to search for (letters or digits)", code="bad_request")
    if len(words) > MAX_QUERY_WORDS:
        raise ChatError(f"q has more than {MAX_QUERY_WORDS} words", code="bad_request")
    return words


def search_limit(value: Any) -> int:
    """`limit` for search: 1..100, default 20."""
    if value is None:
        return DEFAULT_SEARCH_LIMIT
    if isinstance(value, bool) or not isinstance(value, int) \
            or not 1 <= value <= MAX_SEARCH_LIMIT:
        raise ChatError(f"limit must be an integer from 1 to {MAX_SEARCH_LIMIT}",
                        code="bad_request")
    return value


def _readable_chats(user_id: str | None, chat_id: str | None) -> ColumnElement[bool]:
    if chat_id is not None:
        return messages.c.chat_id == bindparam("chat_id", chat_id)
    return messages.c.chat_id.in_(
        select(chats.c.id).join(memberships, memberships.c.workspace_id == chats.c.workspace_id)
        .where(memberships.c.user_id == bindparam("user_id", user_id)))


_fts = table(FTS_TABLE, column("rowid"), column("rank"))
_fts_ids = table(FTS_IDS_TABLE, column("id"), column("message_id"))


def find_messages(conn: Connection, words: list[str], user_id: str, chat_id: str | None,
                  limit: int) -> list[Message]:
    """The live messages holding every word, best first, in the chats the user may
    open (or in `chat_id` alone, which the caller has checked)."""
    from .store import _MESSAGE_SELECT, _message_dict

    where = _readable_chats(user_id, chat_id)
    if conn.dialect.name == "postgresql":
        query_vector = "plainto_tsquery('simple', :words)"
        query = (_MESSAGE_SELECT
                 .where(text(f"messages.{PG_VECTOR_COLUMN} @@ {query_vector}"),
                        messages.c.deleted.is_(False), where)
                 .order_by(text(f"ts_rank(messages.{PG_VECTOR_COLUMN}, {query_vector}) DESC"),
                           messages.c.seq.desc()))
        params = {"words": " ".join(words)}
    else:
        query = (_MESSAGE_SELECT
                 .join(_fts_ids, _fts_ids.c.message_id == messages.c.id)
                 .join(_fts, _fts.c.rowid == _fts_ids.c.id)
                 .where(text(f"{FTS_TABLE} MATCH :words"), messages.c.deleted.is_(False), where)
                 .order_by(_fts.c.rank, messages.c.seq.desc()))
        # Each word quoted: an FTS5 phrase of one token, never query syntax.
        params = {"words": " ".join(f'"{word}"' for word in words)}
    rows = conn.execute(query.limit(limit), params)
    return [_message_dict(row) for row in rows]


# --- SQLite: the messages not yet indexed (migration 0007) ---------------------------

_PENDING = f"""SELECT chats.id, COALESCE(progress.indexed_seq, 0), chats.last_seq
    FROM chats LEFT JOIN {FTS_PROGRESS_TABLE} AS progress ON progress.chat_id = chats.id
    WHERE chats.last_seq > COALESCE(progress.indexed_seq, 0)"""
_PENDING_IN_CHAT = _PENDING + " AND chats.id = ?"
_PENDING_FOR_USER = _PENDING + """ AND chats.workspace_id IN (
    SELECT workspace_id FROM memberships WHERE user_id = ?)"""
_INDEX_IDS = f"""INSERT INTO {FTS_IDS_TABLE} (message_id)
    SELECT id FROM messages WHERE chat_id = ? AND seq > ? AND seq <= ? ORDER BY seq"""
_INDEX_TEXT = f"""INSERT INTO {FTS_TABLE} (rowid, text)
    SELECT ids.id, messages.text FROM messages
    JOIN {FTS_IDS_TABLE} AS ids ON ids.message_id = messages.id
    WHERE messages.chat_id = ? AND messages.seq > ? AND messages.seq <= ?
    AND NOT messages.deleted"""
_INDEXED_UP_TO = f"""INSERT INTO {FTS_PROGRESS_TABLE} (chat_id, indexed_seq) VALUES (?, ?)
    ON CONFLICT (chat_id) DO UPDATE SET indexed_seq = excluded.indexed_seq"""


def catch_up(conn: Connection, chat_id: str | None = None, user_id: str | None = None,
             limit: int | None = None) -> None:
    """Index the messages stored since the last catch-up, in the caller's transaction
    (SQLite only). Only `chat_id`'s, or the chats of `user_id`'s workspaces, or
    every chat; at most `limit` a chat (None: all of them)."""
    raw = conn.connection.driver_connection
    if raw is None:
        raise RuntimeError("the search index is caught up on an open SQLite connection")
    if chat_id is not None:
        pending = raw.execute(_PENDING_IN_CHAT, (chat_id,)).fetchall()
    elif user_id is not None:
        pending = raw.execute(_PENDING_FOR_USER, (user_id,)).fetchall()
    else:
        pending = raw.execute(_PENDING).fetchall()
    for chat, done, last in pending:
        up_to = last if limit is None else min(last, done + limit)
        raw.execute(_INDEX_IDS, (chat, done, up_to))
        raw.execute(_INDEX_TEXT, (chat, done, up_to))
        raw.execute(_INDEXED_UP_TO, (chat, up_to))


# --- the index's DDL, run by migration 0003 --------------------------------------

SQLITE_INDEX = [
    f"CREATE TABLE {FTS_IDS_TABLE} (id INTEGER PRIMARY KEY, "
    "message_id VARCHAR(64) NOT NULL UNIQUE)",
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(text, content='', "
    "tokenize='unicode61 remove_diacritics 0')",
    f"""CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON messages BEGIN
        INSERT INTO {FTS_IDS_TABLE} (message_id) VALUES (new.id);
        INSERT INTO {FTS_TABLE} (rowid, text)
            SELECT last_insert_rowid(), new.text WHERE NOT new.deleted;
    END""",
    f"""CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF text, deleted ON messages BEGIN
        INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, text)
            SELECT 'delete', id, old.text FROM {FTS_IDS_TABLE}
            WHERE message_id = old.id AND NOT old.deleted;
        INSERT INTO {FTS_TABLE} (rowid, text)
            SELECT id, new.text FROM {FTS_IDS_TABLE}
            WHERE message_id = new.id AND NOT new.deleted;
    END""",
    f"""CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON messages BEGIN
        INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, text)
            SELECT 'delete', id, old.text FROM {FTS_IDS_TABLE}
            WHERE message_id = old.id AND NOT old.deleted;
        DELETE FROM {FTS_IDS_TABLE} WHERE message_id = old.id;
    END""",
    # The messages already stored (a 0.1.0 or 0.2 database) become searchable.
    f"INSERT INTO {FTS_IDS_TABLE} (message_id) SELECT id FROM messages ORDER BY chat_id, seq",
    f"""INSERT INTO {FTS_TABLE} (rowid, text)
        SELECT ids.id, m.text FROM {FTS_IDS_TABLE} ids JOIN messages m ON m.id = ids.message_id
        WHERE NOT m.deleted""",
]
SQLITE_INDEX_DROP = [
    f"DROP TRIGGER {FTS_TABLE}_insert", f"DROP TRIGGER {FTS_TABLE}_update",
    f"DROP TRIGGER {FTS_TABLE}_delete", f"DROP TABLE {FTS_TABLE}", f"DROP TABLE {FTS_IDS_TABLE}",
]

# A stored generated column: PostgreSQL fills it for the rows already there too.
POSTGRES_INDEX = [
    f"ALTER TABLE messages ADD COLUMN {PG_VECTOR_COLUMN} tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple', regexp_replace(text, '[^[:alnum:]]+', ' ', 'g'))) STORED",
    # fastupdate off: each message goes straight into the index, instead of a pending
    # list that every search would scan until a vacuum merges it (measured: 14 ms of
    # a search after a bulk load went to that list).
    f"CREATE INDEX {PG_INDEX} ON messages USING GIN ({PG_VECTOR_COLUMN}) "
    "WITH (fastupdate = off)",
]
POSTGRES_INDEX_DROP = [f"DROP INDEX {PG_INDEX}",
                       f"ALTER TABLE messages DROP COLUMN {PG_VECTOR_COLUMN}"]

# Migration 0007 (SQLite): new messages indexed in batches by `catch_up`; everything
# stored so far was indexed by the trigger it drops.
SQLITE_INSERT_TRIGGER = SQLITE_INDEX[2]
SQLITE_DEFER_INDEXING = [
    f"CREATE TABLE {FTS_PROGRESS_TABLE} (chat_id VARCHAR(200) NOT NULL PRIMARY KEY, "
    "indexed_seq BIGINT NOT NULL)",
    f"INSERT INTO {FTS_PROGRESS_TABLE} (chat_id, indexed_seq) SELECT id, last_seq FROM chats",
    f"DROP TRIGGER {FTS_TABLE}_insert",
]
