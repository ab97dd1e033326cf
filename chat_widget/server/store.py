"""Storage behind one small interface, on SQLite (default) or PostgreSQL.

SQLAlchemy Core's async engine speaks to both (aiosqlite, asyncpg) with the
same statements. `seq` is taken with `UPDATE chats SET last_seq = last_seq + 1
... RETURNING` in the transaction that inserts the message: the row lock (or
SQLite's single writer) serialises senders per chat, and a rollback gives the
number back, so `seq` has no gaps. A message is acknowledged only after its
transaction commits; SQLite runs in WAL mode, which keeps every commit across
a killed process.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import and_, delete, event, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ..errors import ChatError
from . import auth
from .schema import chats, memberships, messages, metadata, settings, used_auth, users, workspaces


@dataclass(frozen=True)
class User:
    id: str
    name: str
    kind: str

    def as_sender(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "kind": self.kind}


def utc_now_rfc3339() -> str:
    """The protocol's time format: RFC 3339, UTC, milliseconds, `Z`."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def engine_url(db_url: str) -> str:
    """Map the user-facing URL (`sqlite:///x.db`, `postgresql://...`) to an async driver."""
    if db_url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + db_url[len("sqlite:"):]
    for prefix in ("postgresql://", "postgres://"):
        if db_url.startswith(prefix):
            return "postgresql+asyncpg://" + db_url[len(prefix):]
    if db_url.startswith(("sqlite+aiosqlite:", "postgresql+asyncpg:")):
        return db_url
    raise ValueError(f"unsupported database URL {db_url!r}: use sqlite:///PATH or postgresql://")


def _sqlite_engine(url: str) -> AsyncEngine:
    # One connection per process: SQLite has one writer anyway, and a single
    # connection avoids lock upgrades between our own transactions. BEGIN
    # IMMEDIATE plus busy_timeout makes several processes on one file wait
    # for each other instead of failing.
    engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Store:
    """Every read and write the server makes, as coroutines."""

    def __init__(self, db_url: str) -> None:
        url = engine_url(db_url)
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = _sqlite_engine(url)
        else:
            self.engine = create_async_engine(url, pool_size=10, max_overflow=10)
        self._user_cache: dict[str, User] = {}

    async def open(self) -> None:
        """Create the tables if they are missing (safe when processes start together)."""
        async with self.engine.begin() as conn:
            if not self.is_sqlite:
                # Serialise schema creation between processes starting at once.
                await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727272)")
            await conn.run_sync(metadata.create_all)

    async def close(self) -> None:
        await self.engine.dispose()

    # --- settings and seeding ------------------------------------------------

    async def secret(self) -> str:
        """The server secret, made on first start and kept in the database."""
        async with self.engine.begin() as conn:
            value = await conn.scalar(select(settings.c.value).where(settings.c.key == "secret"))
            if value is not None:
                return value
            await _insert_ignore(conn, settings, {"key": "secret", "value": auth.new_secret()})
            return await conn.scalar(select(settings.c.value).where(settings.c.key == "secret"))

    async def add_workspace(self, workspace_id: str, title: str | None = None) -> bool:
        """Add a workspace; False when it already exists."""
        async with self.engine.begin() as conn:
            return await _insert_ignore(
                conn, workspaces, {"id": workspace_id, "title": title or workspace_id})

    async def add_user(self, name: str, token: str | None = None, user_id: str | None = None,
                       kind: str = "user") -> tuple[str, str | None]:
        """Add a user; returns (user id, token). The token is shown once, stored hashed."""
        token = token if token is not None or kind == "bot" else auth.new_token()
        row = {"id": user_id or name, "name": name, "kind": kind,
               "token_hash": auth.hash_token(token) if token else None}
        async with self.engine.begin() as conn:
            if not await _insert_ignore(conn, users, row):
                raise ChatError(f"user {row['id']!r} already exists", code="bad_request")
        return row["id"], token

    async def ensure_user(self, user_id: str, name: str, token: str | None, kind: str) -> None:
        """Add a user unless present, and (re)set its token hash (demo seed, bots)."""
        token_hash = auth.hash_token(token) if token else None
        async with self.engine.begin() as conn:
            row = {"id": user_id, "name": name, "kind": kind, "token_hash": token_hash}
            if not await _insert_ignore(conn, users, row):
                await conn.execute(
                    update(users).where(users.c.id == user_id).values(token_hash=token_hash))

    async def add_chat(self, chat_id: str, workspace_id: str, title: str | None = None,
                       responder: str | None = None) -> bool:
        """Add a chat to a workspace; False when a chat with that id exists."""
        async with self.engine.begin() as conn:
            if await conn.scalar(select(workspaces.c.id).where(workspaces.c.id == workspace_id)) \
                    is None:
                raise ChatError(f"no workspace {workspace_id!r}", code="not_found")
            return await _insert_ignore(conn, chats, {
                "id": chat_id, "workspace_id": workspace_id, "title": title or chat_id,
                "responder": responder, "last_seq": 0})

    async def set_responder(self, chat_id: str, responder: str | None) -> None:
        """Give a chat a responder by name (or none)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(chats).where(chats.c.id == chat_id).values(responder=responder))
            if not result.rowcount:
                raise ChatError(f"no chat {chat_id!r}", code="not_found")

    async def add_member(self, workspace_id: str, user_id: str) -> bool:
        """Let a user into a workspace; False when it already was."""
        async with self.engine.begin() as conn:
            for table, key in ((workspaces, workspace_id), (users, user_id)):
                if await conn.scalar(select(table.c.id).where(table.c.id == key)) is None:
                    raise ChatError(f"no {table.name[:-1]} {key!r}", code="not_found")
            return await _insert_ignore(
                conn, memberships, {"workspace_id": workspace_id, "user_id": user_id})

    # --- reads -----------------------------------------------------------------

    async def user_by_token(self, token: str) -> User | None:
        token_hash = auth.hash_token(token)
        cached = self._user_cache.get(token_hash)
        if cached is not None:
            return cached
        async with self.engine.connect() as conn:
            row = (await conn.execute(
                select(users.c.id, users.c.name, users.c.kind)
                .where(users.c.token_hash == token_hash))).first()
        if row is None:
            return None
        user = User(row.id, row.name, row.kind)
        self._user_cache[token_hash] = user
        return user

    async def user_workspaces(self, user_id: str) -> list[dict[str, str]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(workspaces.c.id, workspaces.c.title)
                .join(memberships, memberships.c.workspace_id == workspaces.c.id)
                .where(memberships.c.user_id == user_id).order_by(workspaces.c.id))
            return [{"id": r.id, "title": r.title} for r in rows]

    async def chats_for_user(self, user_id: str) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(chats)
                .join(memberships, memberships.c.workspace_id == chats.c.workspace_id)
                .where(memberships.c.user_id == user_id).order_by(chats.c.id))
            return [_chat_dict(r) for r in rows]

    async def chat(self, chat_id: str) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(chats).where(chats.c.id == chat_id))).first()
            return _chat_dict(row) if row else None

    async def is_member(self, user_id: str, workspace_id: str) -> bool:
        async with self.engine.connect() as conn:
            found = await conn.scalar(select(memberships.c.user_id).where(and_(
                memberships.c.user_id == user_id, memberships.c.workspace_id == workspace_id)))
            return found is not None

    async def messages(self, chat_id: str, before_seq: int | None = None,
                       after_seq: int | None = None, limit: int = 50,
                       ) -> tuple[list[dict[str, Any]], bool]:
        """A page of a chat's messages in ascending `seq`, and whether more lie beyond.

        With `after_seq` the page starts just after it and `has_more` says newer
        ones remain; otherwise it is the latest before `before_seq` (or the end)
        and `has_more` says older ones remain.
        """
        query = _message_select().where(messages.c.chat_id == chat_id)
        if before_seq is not None:
            query = query.where(messages.c.seq < before_seq)
        if after_seq is not None:
            query = query.where(messages.c.seq > after_seq)
        ascending = after_seq is not None
        order = messages.c.seq.asc() if ascending else messages.c.seq.desc()
        async with self.engine.connect() as conn:
            rows = list(await conn.execute(query.order_by(order).limit(limit + 1)))
        has_more = len(rows) > limit
        rows = rows[:limit]
        if not ascending:
            rows.reverse()
        return [_message_dict(r) for r in rows], has_more

    # --- the write path ----------------------------------------------------------

    async def store_message(
        self, chat_id: str, sender: User, text: str, parts: list[dict[str, Any]],
        client_id: str | None = None, reply_to: str | None = None,
        auth_nonce: str | None = None, auth_expires_at: float = 0.0,
        message_id: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Store one message; returns (message, created).

        In one transaction: spend the authorization nonce, answer a repeated
        `client_id` with the stored message, else take the next `seq` and insert.
        """
        for _attempt in range(3):
            try:
                async with self.engine.begin() as conn:
                    if auth_nonce is not None:
                        await self._spend_auth(conn, auth_nonce, auth_expires_at)
                    if client_id is not None:
                        existing = await self._by_client_id(conn, chat_id, sender.id, client_id)
                        if existing is not None:
                            return existing, False
                    seq = await conn.scalar(
                        update(chats).where(chats.c.id == chat_id)
                        .values(last_seq=chats.c.last_seq + 1).returning(chats.c.last_seq))
                    if seq is None:
                        raise ChatError(f"no chat {chat_id!r}", code="not_found")
                    row = {
                        "id": message_id or uuid.uuid4().hex, "chat_id": chat_id, "seq": seq,
                        "sender_id": sender.id, "text": text, "parts": parts,
                        "client_id": client_id, "reply_to": reply_to,
                        "created_at": utc_now_rfc3339(),
                    }
                    await conn.execute(insert(messages).values(**row))
                    return _message_from_row(row, sender), True
            except IntegrityError as error:
                if "used_auth" in str(error.orig) or "used_auth_pkey" in str(error.orig):
                    raise _auth_reused() from None
                # A concurrent send with the same client_id won the race: loop
                # round and answer with the stored one.
                if client_id is None:
                    raise
        raise ChatError("could not store the message", code="internal")

    async def _spend_auth(self, conn: AsyncConnection, nonce: str, expires_at: float) -> None:
        if not await _insert_ignore(conn, used_auth, {"nonce": nonce, "expires_at": expires_at}):
            raise _auth_reused()

    async def _by_client_id(self, conn: AsyncConnection, chat_id: str, sender_id: str,
                            client_id: str) -> dict[str, Any] | None:
        row = (await conn.execute(_message_select().where(and_(
            messages.c.chat_id == chat_id, messages.c.sender_id == sender_id,
            messages.c.client_id == client_id)))).first()
        return _message_dict(row) if row else None

    async def prune_used_auth(self) -> int:
        """Forget spent nonces whose strings have expired anyway."""
        async with self.engine.begin() as conn:
            expired = used_auth.c.expires_at < time.time()
            result = await conn.execute(delete(used_auth).where(expired))
            return result.rowcount or 0


async def _insert_ignore(conn: AsyncConnection, table: Any, row: dict[str, Any]) -> bool:
    """Insert a row unless its key exists; True when inserted. Same SQL on both engines."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    result = await conn.execute(dialect_insert(table).values(**row).on_conflict_do_nothing())
    return bool(result.rowcount)


def _auth_reused() -> ChatError:
    return ChatError("this message authorization string was already used; fetch a new one",
                     code="auth_reused")


def _message_select() -> Any:
    return select(messages, users.c.name.label("sender_name"), users.c.kind.label("sender_kind")) \
        .join(users, users.c.id == messages.c.sender_id)


def _message_dict(row: Any) -> dict[str, Any]:
    return _message_from_row(row._mapping, User(row.sender_id, row.sender_name, row.sender_kind))


def _message_from_row(row: Any, sender: User) -> dict[str, Any]:
    return {
        "id": row["id"], "chat_id": row["chat_id"], "seq": row["seq"],
        "sender": sender.as_sender(), "text": row["text"], "parts": row["parts"] or [],
        "client_id": row["client_id"], "reply_to": row["reply_to"],
        "created_at": row["created_at"],
    }


def _chat_dict(row: Any) -> dict[str, Any]:
    return {"id": row.id, "workspace_id": row.workspace_id, "title": row.title,
            "responder": row.responder, "last_seq": row.last_seq}
