"""Storage behind one small interface, on SQLite (default) or PostgreSQL.

Every operation is a plain function over a SQLAlchemy Core connection, the
same statements for both databases; `Database` runs each in one transaction.
`seq` is taken with `UPDATE chats SET last_seq = last_seq + 1 ... RETURNING`
in the transaction that inserts the message: the row lock (or SQLite's single
writer) serialises senders per chat, and a rollback gives the number back, so
`seq` has no gaps. A message is acknowledged only after its commit.

Sends that arrive while a commit is in flight share the next transaction
(`group_commit.py`): the group's nonces are spent in one statement, its
repeated `client_id`s answered from one query, each chat's seqs taken in one
`UPDATE ... last_seq + n`, its rows inserted together (on PostgreSQL, whose
groups wait on each round trip, the first two are one statement and the last
two another: `postgres_sends.py`). A message that fails
(a spent nonce, a chat gone) fails alone, decided before anything of it is
written; the others commit. On SQLite there is one writer, so one group at a
time for the whole file; on PostgreSQL one per chat, so chats commit side by
side and a group locks one chat row.

A change to a stored message (protocol 1.1: edit, delete, react) works the
same way with the chat's `last_version`: the chat row is locked, the message
read, the change computed (`changes.py`), and only a real change takes
`last_version + 1` and rewrites the message row, all in one transaction.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Integer, and_, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from .. import json_text, protocol
from ..errors import ChatError
from ..protocol import Chat, Message, Part
from . import auth, migrate, postgres_sends, search
from .caches import ProvenFacts
from .database import Database
from .direct import Direct
from .group_commit import GroupCommit
from .mentions import find_mentions
from .schema import chats, memberships, messages, settings, used_auth, users, workspaces
from .search_backlog import SearchBacklog
from .unread import (
    MemberCounts,
    MemberMarkers,
    index_mentions,
    members_fields,
    members_markers,
    move_marker,
    reader_fields,
)

# How long a chat's static attributes (workspace, responder) may be served from
# memory; chats are set up by admin commands in other processes.
CHAT_CACHE_SECONDS = 10.0

# Loop passes a send group waits before its commit (group_commit.py says why). One
# listener with eight sends in flight: groups of 1.4 sends at 0, 3.0 at 2, 3.2 at 4,
# 3.5 at 8, and the server's CPU per message 0.72, 0.55, 0.52, 0.51 ms; PostgreSQL
# at 8 senders 700 messages/s at 0, 810 at 4, 890 at 8. A lone send's p50 moved
# within the runs' noise, 0.1 ms or so, at 4 and at 8 (alternating runs, 2026-12-03).
SEND_GATHER_PASSES = 4


# A change computes, from the stored message and a way to find mentions in a
# text, the fields that change (None: nothing changes). See changes.py.
Change = Callable[[Message, Callable[[str], list[str]]], "dict[str, Any] | None"]


@dataclass(frozen=True)
class _Send:
    """One message on its way into a group commit."""

    row: dict[str, Any]
    sender: User
    auth_nonce: str | None
    auth_expires_at: float


@dataclass(frozen=True)
class User:
    id: str
    name: str
    kind: str

    def as_sender(self) -> protocol.User:
        return {"id": self.id, "name": self.name, "kind": self.kind}


_second_text: list[Any] = [None, ""]  # the last whole second formatted, and its text


def utc_now_rfc3339() -> str:
    """The protocol's time format: RFC 3339, UTC, milliseconds, `Z`.

    Each message takes one; the date and time up to the second are formatted
    once a second (`strftime` cost more than the rest of the message's row).
    """
    now = time.time()
    second = int(now)
    if second != _second_text[0]:
        _second_text[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))]
    return f"{_second_text[1]}{int((now - second) * 1000):03d}Z"


@asynccontextmanager
async def open_store(db_url: str, create: bool = True) -> AsyncIterator[Store]:
    """A Store for one command: the database checked (and made, with `create`), closed after."""
    from .preflight import prepare_database

    await prepare_database(db_url, create)
    store = Store(db_url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


class Store:
    """Every read and write the server makes, as coroutines."""

    def __init__(self, db_url: str) -> None:
        self.db = Database(db_url)
        # Facts a request proved, for a few seconds (caches.py says why and how long).
        self._users_by_token_hash: ProvenFacts[str, User] = ProvenFacts()
        self._chats: dict[str, tuple[float, Chat]] = {}
        self._members: ProvenFacts[tuple[str, str], bool] = ProvenFacts()
        self._sends: GroupCommit[str, _Send, tuple[Message, bool]] = GroupCommit(
            self._commit_sends, gather_passes=SEND_GATHER_PASSES)
        # SQLite indexes new messages for search in batches (search.py).
        self._search_backlog = SearchBacklog(self.db) if self.db.dialect == "sqlite" else None
        # Told of each message this process creates, on the event loop, as its commit
        # returns: before any later read can show the message and before its sender
        # hears of it (`member_counts.ActivityCounts` carries counts forward by them).
        self.on_created: Callable[[Message], None] | None = None

    async def open(self) -> None:
        """Create or upgrade the tables (safe when processes start together)."""
        await self.db.run(migrate.upgrade)

    async def close(self) -> None:
        await self._sends.close()
        if self._search_backlog is not None:
            await self._search_backlog.close()
        await self.db.close()

    async def catch_up_search(self, user_id: str | None = None,
                              chat_id: str | None = None) -> None:
        """Index the messages waiting for the search index (SQLite; see search.py):
        `chat_id`'s, else those of `user_id`'s chats, else every chat's."""
        if self.db.dialect == "sqlite":
            await self.db.run(search.catch_up, chat_id, user_id)

    # --- settings and setup ------------------------------------------------------

    async def secret(self) -> str:
        """The server secret, made on first start and kept in the database."""
        return await self.db.run(_secret)

    async def add_workspace(self, workspace_id: str, title: str | None = None) -> bool:
        """Add a workspace; False when it already exists."""
        row = {"id": workspace_id, "title": title or workspace_id}
        return await self.db.run(_insert_ignore, workspaces, row)

    async def add_user(self, name: str) -> tuple[str, str]:
        """Add a person; returns (user id, token). The token is shown once, stored hashed."""
        token = auth.new_token()
        row = {"id": name, "name": name, "kind": "user", "token_hash": auth.hash_token(token)}
        if not await self.db.run(_insert_ignore, users, row):
            raise ChatError(f"user {name!r} already exists", code="bad_request")
        return name, token

    async def ensure_user(self, user_id: str, name: str, token: str | None, kind: str) -> None:
        """Add a user unless present, and (re)set its token hash (demo seed, bots)."""
        row = {"id": user_id, "name": name, "kind": kind,
               "token_hash": auth.hash_token(token) if token else None}
        await self.db.run(_upsert_user, row)
        self._forget_user(user_id)

    async def add_chat(self, chat_id: str, workspace_id: str, title: str | None = None,
                       responder: str | None = None) -> bool:
        """Add a chat to a workspace; False when a chat with that id exists."""
        row = {"id": chat_id, "workspace_id": workspace_id, "title": title or chat_id,
               "responder": responder, "last_seq": 0}
        return await self.db.run(_add_chat, row)

    async def set_responder(self, chat_id: str, responder: str | None) -> None:
        """Give a chat a responder by name (or none)."""
        await self.db.run(_set_responder, chat_id, responder)
        self._chats.pop(chat_id, None)

    async def add_member(self, workspace_id: str, user_id: str) -> bool:
        """Let a user into a workspace; False when it already was."""
        return await self.db.run(_add_member, workspace_id, user_id)

    async def remove_member(self, workspace_id: str, user_id: str) -> bool:
        """Take a user out of a workspace; False when it was not in it."""
        removed = await self.db.run(_remove_member, workspace_id, user_id)
        self._members.pop((user_id, workspace_id))
        return removed

    def _forget_user(self, user_id: str) -> None:
        """Drop whatever token of `user_id` is remembered (its token or name changed)."""
        for token_hash, user in self._users_by_token_hash.items():
            if user.id == user_id:
                self._users_by_token_hash.pop(token_hash)

    # --- reads -------------------------------------------------------------------

    async def user_by_token(self, token: str) -> User | None:
        token_hash = auth.hash_token(token)
        user = self._users_by_token_hash.get(token_hash)
        if user is None:
            user = await self.db.read(_user_by_token_hash, token_hash)
            if user is not None:
                self._users_by_token_hash[token_hash] = user
        return user

    async def user_workspaces(self, user_id: str) -> list[dict[str, str]]:
        return await self.db.read(_user_workspaces, user_id)

    async def chats_for_user(self, user_id: str) -> list[Chat]:
        """Every chat the user may open, with what the user has yet to read (counting
        may read many rows: off the event loop on SQLite)."""
        return await self.db.read_pages(_chats_for_user, user_id)

    async def chat_for_reader(self, chat: Chat, user_id: str) -> Chat:
        """`chat` with this user's `last_read_seq`, `unread` and `unread_mentions`."""
        fields = await self.db.read_pages(reader_fields, user_id, [chat["id"]])
        return cast(Chat, {**chat, **fields[chat["id"]]})

    async def chat(self, chat_id: str, fresh: bool = False) -> Chat | None:
        """A chat; its static attributes may come from a short-lived cache unless `fresh`."""
        cached = self._chats.get(chat_id)
        if cached is not None and not fresh and time.monotonic() - cached[0] < CHAT_CACHE_SECONDS:
            return cached[1]
        chat = await self.db.read(_chat, chat_id)
        if chat is not None:
            self._chats[chat_id] = (time.monotonic(), chat)
        return chat

    async def is_member(self, user_id: str, workspace_id: str) -> bool:
        """Membership; a positive answer is remembered for a few seconds."""
        key = (user_id, workspace_id)
        if self._members.get(key):
            return True
        found = await self.db.read(_is_member, user_id, workspace_id)
        if found:
            self._members[key] = True
        return found

    async def members_versions(self, workspace_ids: list[str]) -> dict[str, int]:
        """Each workspace's members version (one query; a workspace gone is missing)."""
        return await self.db.run(_members_versions, workspace_ids) if workspace_ids else {}

    async def members_among(self, workspace_id: str, user_ids: list[str]) -> set[str]:
        """Which of `user_ids` are members of the workspace now (from the database; one
        query). Those who are not are forgotten as members here at once."""
        found = await self.db.run(_members_among, workspace_id, user_ids)
        for user_id in set(user_ids) - found:
            self._members.pop((user_id, workspace_id))
        return found

    async def workspace_users(self, workspace_id: str) -> list[User]:
        """The people of a workspace, ordered by id (`GET /api/chats/{id}/members`)."""
        return await self.db.read(_workspace_users, workspace_id)

    async def members_fields(self, chat_id: str) -> MemberCounts:
        """The chat's positions and each workspace member's read marker and unread counts."""
        return await self.db.read_pages(members_fields, chat_id)

    async def members_markers(self, chat_id: str) -> MemberMarkers:
        """The chat's positions and each workspace member's read marker (no counts): one row
        per member, one statement (on SQLite run in place, without a transaction of its own)."""
        return await self.db.read_statement(members_markers, chat_id)

    async def mark_read(self, chat_id: str, user_id: str, seq: int) -> tuple[int, bool]:
        """Move a read marker forward (never back); (marker now, whether it moved)."""
        return await self.db.run(move_marker, chat_id, user_id, seq)

    async def last_positions(self, chat_ids: list[str]) -> dict[str, tuple[int, int]]:
        """Each chat's latest `seq` and `version`, in one query (the fan-out's periodic check)."""
        if not chat_ids:
            return {}
        return await self.db.read(_last_positions, chat_ids)

    async def messages(self, chat_id: str, before_seq: int | None = None,
                       after_seq: int | None = None, limit: int = 50,
                       ) -> tuple[list[Message], bool]:
        """A page of a chat's messages in ascending `seq`, and whether more lie beyond.

        With `after_seq` the page starts just after it and `has_more` says newer
        ones remain; otherwise it is the latest before `before_seq` (or the end)
        and `has_more` says older ones remain.
        """
        return await self.db.read_pages(_messages_page, chat_id, before_seq, after_seq, limit)

    async def changes(self, chat_id: str, after_version: int, limit: int,
                      ) -> tuple[list[Message], bool]:
        """The messages changed after `after_version`, ascending `version`, each once."""
        return await self.db.read_pages(_changes_page, chat_id, after_version, limit)

    # --- the write path ----------------------------------------------------------

    async def store_message(
        self, chat_id: str, sender: User, text: str, parts: list[Part],
        client_id: str | None = None, reply_to: str | None = None,
        auth_nonce: str | None = None, auth_expires_at: float = 0.0,
        message_id: str | None = None,
    ) -> tuple[Message, bool]:
        """Store one message; returns (message, created).

        In one transaction (shared with the sends arriving meanwhile): spend the
        authorization nonce, answer a repeated `client_id` with the stored
        message, else take the next `seq` and insert.
        """
        row = {"id": message_id or uuid.uuid4().hex, "chat_id": chat_id, "seq": None,
               "sender_id": sender.id, "text": text, "parts": parts, "client_id": client_id,
               "reply_to": reply_to, "created_at": "", "version": 0, "edited_at": None,
               "deleted": False, "reactions": [], "mentions": []}
        lane = chat_id if self.db.dialect == "postgresql" else ""
        return await self._sends.submit(lane, _Send(row, sender, auth_nonce, auth_expires_at))

    async def _commit_sends(self, sends: list[_Send],
                            ) -> list[tuple[Message, bool] | Exception]:
        for _attempt in range(3):
            try:
                outcomes = await self.db.run(_store_messages, sends)
            except IntegrityError:
                # A send with the same client_id committed from another process
                # since the group looked: go round again and answer with it.
                continue
            for outcome in outcomes:
                if not isinstance(outcome, Exception) and outcome[1]:
                    if self.on_created is not None:
                        self.on_created(outcome[0])
                    if self._search_backlog is not None:
                        self._search_backlog.stored(outcome[0]["chat_id"])
            return outcomes
        raise ChatError("could not store the message", code="internal")

    async def change_message(
        self, chat_id: str, message_id: str, change: Change,
        auth_nonce: str | None = None, auth_expires_at: float = 0.0,
    ) -> tuple[Message, bool]:
        """Apply `change` to one message; returns (message as it now stands, changed).

        In one transaction: spend the authorization nonce (if any), lock the
        chat, read the message, and, if `change` answers new fields, take the
        chat's next `version` and rewrite the row. A refusal rolls it all back.
        """
        return await self.db.run(_change_message, chat_id, message_id, change, auth_nonce,
                                 auth_expires_at)

    async def prune_used_auth(self) -> int:
        """Forget spent nonces whose strings have expired anyway."""
        return await self.db.run(_prune_used_auth, time.time())


# --- the operations, each run in one transaction ---------------------------------


def _insert_ignore(conn: Connection, table: Any, row: dict[str, Any]) -> bool:
    """Insert a row unless its key exists; True when inserted."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return bool(conn.execute(dialect.insert(table).values(**row).on_conflict_do_nothing())
                .rowcount)


def _secret(conn: Connection) -> str:
    _insert_ignore(conn, settings, {"key": "secret", "value": auth.new_secret()})
    return str(conn.scalar(select(settings.c.value).where(settings.c.key == "secret")))


def _upsert_user(conn: Connection, row: dict[str, Any]) -> None:
    if not _insert_ignore(conn, users, row):
        conn.execute(update(users).where(users.c.id == row["id"])
                     .values(token_hash=row["token_hash"]))


def _require(conn: Connection, table: Any, key: str) -> None:
    if conn.scalar(select(table.c.id).where(table.c.id == key)) is None:
        raise ChatError(f"no {table.name.rstrip('s')} {key!r}", code="not_found")


def _add_chat(conn: Connection, row: dict[str, Any]) -> bool:
    _require(conn, workspaces, row["workspace_id"])
    return _insert_ignore(conn, chats, row)


def _set_responder(conn: Connection, chat_id: str, responder: str | None) -> None:
    result = conn.execute(update(chats).where(chats.c.id == chat_id).values(responder=responder))
    if not result.rowcount:
        raise ChatError(f"no chat {chat_id!r}", code="not_found")


def _add_member(conn: Connection, workspace_id: str, user_id: str) -> bool:
    _require(conn, workspaces, workspace_id)
    _require(conn, users, user_id)
    added = _insert_ignore(conn, memberships, {"workspace_id": workspace_id, "user_id": user_id})
    if added:
        _members_changed(conn, workspace_id)
    return added


def _remove_member(conn: Connection, workspace_id: str, user_id: str) -> bool:
    removed = bool(conn.execute(delete(memberships).where(and_(
        memberships.c.workspace_id == workspace_id, memberships.c.user_id == user_id)))
        .rowcount)
    if removed:
        _members_changed(conn, workspace_id)
    return removed


def _members_changed(conn: Connection, workspace_id: str) -> None:
    """The workspace's members version moves on, in the transaction that changed them."""
    conn.execute(update(workspaces).where(workspaces.c.id == workspace_id)
                 .values(members_version=workspaces.c.members_version + 1))


def _members_versions(conn: Connection, workspace_ids: list[str]) -> dict[str, int]:
    rows = conn.execute(_MEMBERS_VERSIONS, {"workspace_ids": workspace_ids})
    return {row.id: row.members_version for row in rows}


def _members_among(conn: Connection, workspace_id: str, user_ids: list[str]) -> set[str]:
    rows = conn.execute(select(memberships.c.user_id).where(and_(
        memberships.c.workspace_id == workspace_id, memberships.c.user_id.in_(user_ids))))
    return {row.user_id for row in rows}


def _user_by_token_hash(conn: Connection, token_hash: str) -> User | None:
    row = conn.execute(select(users.c.id, users.c.name, users.c.kind)
                       .where(users.c.token_hash == token_hash)).first()
    return User(row.id, row.name, row.kind) if row else None


def _user_workspaces(conn: Connection, user_id: str) -> list[dict[str, str]]:
    rows = conn.execute(
        select(workspaces.c.id, workspaces.c.title)
        .join(memberships, memberships.c.workspace_id == workspaces.c.id)
        .where(memberships.c.user_id == user_id).order_by(workspaces.c.id))
    return [{"id": r.id, "title": r.title} for r in rows]


def _chats_for_user(conn: Connection, user_id: str) -> list[Chat]:
    rows = conn.execute(
        select(chats).join(memberships, memberships.c.workspace_id == chats.c.workspace_id)
        .where(memberships.c.user_id == user_id).order_by(chats.c.id))
    found = [_chat_dict(r) for r in rows]
    fields = reader_fields(conn, user_id, [chat["id"] for chat in found])
    return [cast(Chat, {**chat, **fields[chat["id"]]}) for chat in found]


def _workspace_users(conn: Connection, workspace_id: str) -> list[User]:
    rows = conn.execute(
        select(users.c.id, users.c.name, users.c.kind)
        .join(memberships, memberships.c.user_id == users.c.id)
        .where(memberships.c.workspace_id == workspace_id).order_by(users.c.id))
    return [User(row.id, row.name, row.kind) for row in rows]


def _chat(conn: Connection, chat_id: str) -> Chat | None:
    row = conn.execute(select(chats).where(chats.c.id == chat_id)).first()
    return _chat_dict(row) if row else None


_MEMBERS_VERSIONS = select(workspaces.c.id, workspaces.c.members_version).where(
    workspaces.c.id.in_(bindparam("workspace_ids", expanding=True)))
_LAST_POSITIONS = select(chats.c.id, chats.c.last_seq, chats.c.last_version).where(
    chats.c.id.in_(bindparam("chat_ids", expanding=True)))


def _last_positions(conn: Connection, chat_ids: list[str]) -> dict[str, tuple[int, int]]:
    rows = conn.execute(_LAST_POSITIONS, {"chat_ids": chat_ids})
    return {row.id: (row.last_seq, row.last_version) for row in rows}


def _is_member(conn: Connection, user_id: str, workspace_id: str) -> bool:
    return conn.scalar(select(memberships.c.user_id).where(and_(
        memberships.c.user_id == user_id, memberships.c.workspace_id == workspace_id))) \
        is not None


# The hot path's statements, built once: building a statement per call cost
# more than running it (profiled under load).
_MESSAGE_SELECT = select(
    messages, users.c.name.label("sender_name"), users.c.kind.label("sender_kind"),
).join(users, users.c.id == messages.c.sender_id)
_IN_CHAT = messages.c.chat_id == bindparam("chat_id")
_PAGE_QUERIES = {
    # (before_seq given, after_seq given) -> query; newest first unless after_seq is given
    (False, False): _MESSAGE_SELECT.where(_IN_CHAT).order_by(messages.c.seq.desc()),
    (True, False): _MESSAGE_SELECT.where(_IN_CHAT, messages.c.seq < bindparam("before_seq"))
    .order_by(messages.c.seq.desc()),
    (False, True): _MESSAGE_SELECT.where(_IN_CHAT, messages.c.seq > bindparam("after_seq"))
    .order_by(messages.c.seq.asc()),
    (True, True): _MESSAGE_SELECT.where(_IN_CHAT, messages.c.seq < bindparam("before_seq"),
                                        messages.c.seq > bindparam("after_seq"))
    .order_by(messages.c.seq.asc()),
}
_PAGE_QUERIES = {key: query.limit(bindparam("limit")) for key, query in _PAGE_QUERIES.items()}
_BY_CLIENT_IDS = _MESSAGE_SELECT.where(
    _IN_CHAT, messages.c.sender_id.in_(bindparam("sender_ids", expanding=True)),
    messages.c.client_id.in_(bindparam("client_ids", expanding=True)))
# Whether one (chat, sender, client_id) is taken: the common lone send's check,
# built once without lists so that SQLite runs it straight (`Direct`).
_CLIENT_ID_TAKEN = Direct(select(messages.c.seq).where(
    _IN_CHAT, messages.c.sender_id == bindparam("sender_id"),
    messages.c.client_id == bindparam("client_id")))
_SPENT_NONCES = select(used_auth.c.nonce).where(
    used_auth.c.nonce.in_(bindparam("nonces", expanding=True)))
_BY_ID = _MESSAGE_SELECT.where(_IN_CHAT, messages.c.id == bindparam("message_id"))
_CHANGES_PAGE = _MESSAGE_SELECT.where(_IN_CHAT, messages.c.version > bindparam("after_version")) \
    .order_by(messages.c.version.asc()).limit(bindparam("limit"))
# Locks the chat row (PostgreSQL; SQLite's single writer needs no lock) so the
# read-change-write of one message and its version run one at a time per chat.
_LOCK_CHAT = select(chats.c.responder).where(chats.c.id == bindparam("chat_id")) \
    .with_for_update()
_NEXT_VERSION = update(chats).where(chats.c.id == bindparam("chat_id")) \
    .values(last_version=chats.c.last_version + 1).returning(chats.c.last_version)
_MEMBER_IDS = select(memberships.c.user_id).join(
    chats, chats.c.workspace_id == memberships.c.workspace_id).where(
    chats.c.id == bindparam("chat_id"))
_TAKE_SEQS = Direct(update(chats).where(chats.c.id == bindparam("chat_id"))
                    .values(last_seq=chats.c.last_seq + bindparam("count", type_=Integer))
                    .returning(chats.c.last_seq))
_INSERT_MESSAGE = Direct(insert(messages))
_SPEND_AUTH = {
    name: Direct(dialect.insert(used_auth)
                 .values(nonce=bindparam("nonce"), expires_at=bindparam("expires_at"))
                 .on_conflict_do_nothing())
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def _messages_page(conn: Connection, chat_id: str, before_seq: int | None,
                   after_seq: int | None, limit: int) -> tuple[list[Message], bool]:
    query = _PAGE_QUERIES[(before_seq is not None, after_seq is not None)]
    rows = list(conn.execute(query, {"chat_id": chat_id, "before_seq": before_seq,
                                     "after_seq": after_seq, "limit": limit + 1}))
    has_more = len(rows) > limit
    rows = rows[:limit]
    if after_seq is None:
        rows.reverse()
    return [_message_dict(r) for r in rows], has_more


def _spend_auth(conn: Connection, auth_nonce: str | None, auth_expires_at: float) -> None:
    """Record the string's nonce as spent; `auth_reused` if it already was."""
    if auth_nonce is not None and not _SPEND_AUTH[conn.dialect.name].rowcount(
            conn, {"nonce": auth_nonce, "expires_at": auth_expires_at}):
        raise _auth_reused()


def _auth_reused() -> ChatError:
    return ChatError("this message authorization string was already used; fetch a new one",
                     code="auth_reused")


def _spend_nonces(conn: Connection, sends: list[_Send]) -> list[bool]:
    """Spend each send's nonce; whether it was fresh (a send without one passes).

    On SQLite, and for a lone nonce anywhere, each takes one statement (insert
    unless there), run straight on the driver (`Direct`): in-process, several
    of those cost less than one statement with a list that SQLAlchemy must
    expand and compile. On PostgreSQL a group's are looked up in one round
    trip, then the fresh ones inserted (a multi-row VALUES is compiled anew
    each time, which cost more than the commit it saved). Should another
    process spend one in between, the insert fails and the whole group is
    tried again (`Store._commit_sends`), seeing it spent.
    """
    nonces = [send.auth_nonce for send in sends if send.auth_nonce is not None]
    if not nonces:
        return [True] * len(sends)
    if len(nonces) == 1 or conn.dialect.name == "sqlite":
        spend = _SPEND_AUTH[conn.dialect.name]
        fresh = {nonce for nonce in dict.fromkeys(nonces) if spend.rowcount(
            conn, {"nonce": nonce, "expires_at": _expiry(sends, nonce)})}
    else:
        fresh = set(nonces) - set(conn.scalars(_SPENT_NONCES, {"nonces": nonces}))
        conn.execute(insert(used_auth), [{"nonce": nonce, "expires_at": _expiry(sends, nonce)}
                                         for nonce in fresh])
    return _fresh_flags(sends, fresh)


def _fresh_flags(sends: list[_Send], fresh: set[str]) -> list[bool]:
    """Whether each send's nonce was fresh, given the group's fresh ones: a nonce
    repeated within the group is fresh only the first time."""
    fresh = set(fresh)
    answers = []
    for send in sends:
        answers.append(send.auth_nonce is None or send.auth_nonce in fresh)
        fresh.discard(send.auth_nonce)
    return answers


def _expiry(sends: list[_Send], nonce: str) -> float:
    return next(send.auth_expires_at for send in sends if send.auth_nonce == nonce)


ClientKey = tuple[str, str, str]


def _client_key(send: _Send) -> ClientKey | None:
    client_id = send.row["client_id"]
    return None if client_id is None else (send.row["chat_id"], send.sender.id, client_id)


def _stored_by_client_id(conn: Connection, keys: list[ClientKey]) -> dict[ClientKey, Message]:
    """The messages already stored under these (chat, sender, client_id) keys.

    One query per chat, built once: the senders and the client_ids as two
    lists, which both databases look up in the unique index, pair by pair
    (a row-value IN made SQLite scan the table); pairs not asked for are
    dropped (`_wanted`). On SQLite, and for a lone key anywhere, each key is
    first looked for with a statement run straight on the driver, and only
    those found are read whole (seldom: a retry).
    """
    if len(keys) == 1 or conn.dialect.name == "sqlite":
        keys = [key for key in keys if _CLIENT_ID_TAKEN.scalar(conn, dict(zip(
            ("chat_id", "sender_id", "client_id"), key, strict=True))) is not None]
        if not keys:
            return {}
    by_chat: dict[str, list[ClientKey]] = {}
    for key in keys:
        by_chat.setdefault(key[0], []).append(key)
    found: list[Any] = []
    for chat_id, chat_keys in by_chat.items():
        found.extend(conn.execute(_BY_CLIENT_IDS, _client_id_lists(chat_id, chat_keys)))
    return _wanted(found, keys)


def _client_id_lists(chat_id: str, keys: list[ClientKey]) -> dict[str, Any]:
    return {"chat_id": chat_id, "sender_ids": sorted({key[1] for key in keys}),
            "client_ids": [key[2] for key in keys]}


def _wanted(rows: list[Any], keys: list[ClientKey]) -> dict[ClientKey, Message]:
    """The found message rows whose (chat, sender, client_id) is one of `keys`."""
    wanted = set(keys)
    return {key: _message_dict(row) for row in rows
            if (key := (row.chat_id, row.sender_id, row.client_id)) in wanted}


def _check_sends(conn: Connection, sends: list[_Send],
                 ) -> tuple[list[bool], dict[ClientKey, Message]]:
    """Spend the group's nonces (whether each send's was fresh) and find the messages
    already stored under its `client_id`s (those of sends with a fresh nonce).

    PostgreSQL does both in one round trip when the group is of one chat (as
    its groups are: one lane per chat); it looks up every send's `client_id`,
    and those of sends whose nonce was spent are dropped here.
    """
    chat_ids = {send.row["chat_id"] for send in sends}
    if conn.dialect.name != "postgresql" or len(chat_ids) != 1:
        fresh_flags = _spend_nonces(conn, sends)
        return fresh_flags, _stored_by_client_id(conn, [
            key for send, fresh in zip(sends, fresh_flags, strict=True)
            if fresh and (key := _client_key(send)) is not None])
    expiries: dict[str, float] = {}
    for send in sends:
        if send.auth_nonce is not None:
            expiries.setdefault(send.auth_nonce, send.auth_expires_at)
    all_keys = [key for send in sends if (key := _client_key(send)) is not None]
    rows = list(conn.execute(postgres_sends.SPEND_AND_FIND, {
        "nonces": list(expiries), "expiries": list(expiries.values()),
        "chat_id": chat_ids.pop(), "client_ids": [key[2] for key in all_keys]}))
    fresh_flags = _fresh_flags(sends, set(rows[0].fresh_nonces or ()))
    live_keys = [key for send, fresh in zip(sends, fresh_flags, strict=True)
                 if fresh and (key := _client_key(send)) is not None]
    return fresh_flags, _wanted([row for row in rows if row.id is not None], live_keys)


def _take_seqs_and_insert(conn: Connection, chat_id: str, rows: list[dict[str, Any]],
                          ) -> int | None:
    """Take the chat's next `len(rows)` seqs, number the rows from the first, insert
    them; the chat's last seq, or None (nothing inserted) when there is no such chat.
    One statement on PostgreSQL (`postgres_sends`), two elsewhere."""
    count = len(rows)
    if conn.dialect.name == "postgresql":
        columns: dict[str, list[Any]] = {name: [] for name in postgres_sends.INSERTED_COLUMNS}
        for row in rows:
            for name, values in columns.items():
                value = row[name]
                values.append(json_text.dumps(value) if name in postgres_sends.JSON_COLUMNS
                              else value)
        last_seq = conn.execute(postgres_sends.TAKE_SEQS_AND_INSERT,
                                {"chat_id": chat_id, "count": count, **columns}).scalar()
    else:
        last_seq = _TAKE_SEQS.scalar(conn, {"chat_id": chat_id, "count": count})
    if last_seq is None:
        return None
    for offset, row in enumerate(rows):
        row["seq"] = last_seq - count + 1 + offset
    if conn.dialect.name != "postgresql":
        _INSERT_MESSAGE.execute_many(conn, rows)
    return int(last_seq)


def _mentions(conn: Connection, chat_id: str, text: str,
              responder: str | None = None) -> list[str]:
    """The chat's members (its bot included) that `text` names as @user_id.

    `responder` is the chat's, when the caller has read it already ("" for
    none); None reads it here.
    """
    if "@" not in text:
        return []
    member_ids = list(conn.scalars(_MEMBER_IDS, {"chat_id": chat_id}))
    if responder is None:
        responder = conn.scalar(select(chats.c.responder).where(chats.c.id == chat_id))
    if responder:
        member_ids.append(f"bot:{responder}")
    return find_mentions(text, member_ids)


def _store_messages(conn: Connection, sends: list[_Send],
                    ) -> list[tuple[Message, bool] | Exception]:
    """Store a group of sends in the caller's transaction; each one's outcome, in order.

    Every check is made before anything of its message is written, so a
    failing send needs no savepoint: spent nonce (`auth_reused`), then a
    repeated `client_id` (answered with the stored message, or with the
    group's first send of it), then the chat (`not_found`, its nonce given
    back as a rolled-back transaction would). Chats are taken in sorted
    order so that two groups never wait for each other's chat rows.
    """
    fresh_flags, stored = _check_sends(conn, sends)
    outcomes: list[tuple[Message, bool] | Exception | None] = [
        None if fresh else _auth_reused() for fresh in fresh_flags]
    live = [index for index, outcome in enumerate(outcomes) if outcome is None]
    first_of: dict[ClientKey, int] = {}
    repeats: dict[int, int] = {}  # a send -> the group's first send of its client_id
    by_chat: dict[str, list[int]] = {}
    for index in live:
        key = _client_key(sends[index])
        if key is not None and key in stored:
            outcomes[index] = (stored[key], False)
        elif key is not None and key in first_of:
            repeats[index] = first_of[key]
        else:
            if key is not None:
                first_of[key] = index
            by_chat.setdefault(sends[index].row["chat_id"], []).append(index)
    for chat_id in sorted(by_chat):
        indices = by_chat[chat_id]
        rows = [{**sends[index].row, "created_at": utc_now_rfc3339(),
                 "mentions": _mentions(conn, chat_id, sends[index].row["text"])}
                for index in indices]
        if _take_seqs_and_insert(conn, chat_id, rows) is None:
            for index in indices:
                outcomes[index] = ChatError(f"no chat {chat_id!r}", code="not_found")
            continue
        for index, row in zip(indices, rows, strict=True):
            index_mentions(conn, chat_id, row["seq"], row["mentions"], replace=False)
            outcomes[index] = (_message_from_row(row, sends[index].sender), True)
    for index, first in repeats.items():
        outcome = outcomes[first]
        outcomes[index] = (outcome[0], False) if isinstance(outcome, tuple) else \
            ChatError(f"no chat {sends[index].row['chat_id']!r}", code="not_found")
    _give_back_nonces(conn, [sends[index] for index, outcome in enumerate(outcomes)
                             if isinstance(outcome, ChatError) and outcome.code == "not_found"])
    return cast("list[tuple[Message, bool] | Exception]", outcomes)


def _give_back_nonces(conn: Connection, sends: list[_Send]) -> None:
    """Unspend the nonces of sends that failed after spending them."""
    nonces = [send.auth_nonce for send in sends if send.auth_nonce is not None]
    if nonces:
        conn.execute(delete(used_auth).where(used_auth.c.nonce.in_(nonces)))


def _change_message(conn: Connection, chat_id: str, message_id: str, change: Change,
                    auth_nonce: str | None, auth_expires_at: float,
                    ) -> tuple[Message, bool]:
    _spend_auth(conn, auth_nonce, auth_expires_at)
    chat = conn.execute(_LOCK_CHAT, {"chat_id": chat_id}).first()
    if chat is None:
        raise ChatError(f"no chat {chat_id!r}", code="not_found")
    row = conn.execute(_BY_ID, {"chat_id": chat_id, "message_id": message_id}).first()
    if row is None:
        raise ChatError(f"there is no message {message_id!r} in this chat", code="not_found")
    message = _message_dict(row)
    fields = change(message, lambda text: _mentions(conn, chat_id, text, chat.responder or ""))
    if fields is None:
        return message, False
    version = conn.execute(_NEXT_VERSION, {"chat_id": chat_id}).scalar()
    fields = {**fields, "version": version}
    conn.execute(update(messages).where(messages.c.id == message_id).values(**fields))
    if "mentions" in fields:
        index_mentions(conn, chat_id, message["seq"], fields["mentions"], replace=True)
    return cast(Message, {**message, **fields}), True


def _changes_page(conn: Connection, chat_id: str, after_version: int, limit: int,
                  ) -> tuple[list[Message], bool]:
    rows = list(conn.execute(_CHANGES_PAGE, {"chat_id": chat_id, "after_version": after_version,
                                             "limit": limit + 1}))
    return [_message_dict(r) for r in rows[:limit]], len(rows) > limit


def _prune_used_auth(conn: Connection, now: float) -> int:
    return conn.execute(delete(used_auth).where(used_auth.c.expires_at < now)).rowcount or 0


def _message_dict(row: Any) -> Message:
    return _message_from_row(row._mapping, User(row.sender_id, row.sender_name, row.sender_kind))


def _message_from_row(row: Any, sender: User) -> Message:
    return {
        "id": row["id"], "chat_id": row["chat_id"], "seq": row["seq"],
        "sender": sender.as_sender(), "text": row["text"], "parts": row["parts"] or [],
        "client_id": row["client_id"], "reply_to": row["reply_to"],
        "created_at": row["created_at"], "version": row["version"],
        "edited_at": row["edited_at"], "deleted": bool(row["deleted"]),
        "reactions": row["reactions"] or [], "mentions": row["mentions"] or [],
    }


def _chat_dict(row: Any) -> Chat:
    return {"id": row.id, "workspace_id": row.workspace_id, "title": row.title,
            "responder": row.responder, "last_seq": row.last_seq,
            "last_version": row.last_version}
