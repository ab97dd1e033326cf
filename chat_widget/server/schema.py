"""The database tables, declared once for SQLite and PostgreSQL alike.

This is the model the queries are written against. The tables themselves are
made and changed by the migrations in `migrations/versions/` (Alembic), so a
database of an older release is upgraded in place; a test checks that the
migrated schema and this one agree.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)

metadata = MetaData()

settings = Table(
    "settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("title", Text, nullable=False),
    # One more at every change of the workspace's members (membership_watch.py).
    Column("members_version", BigInteger, nullable=False, default=0, server_default="0"),
)

users = Table(
    "users",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(10), nullable=False),  # "user" or "bot"
    Column("token_hash", String(64), unique=True),  # sha256 hex; null for bots
)

memberships = Table(
    "memberships",
    metadata,
    Column("workspace_id", String(200), ForeignKey("workspaces.id"), primary_key=True),
    Column("user_id", String(200), ForeignKey("users.id"), primary_key=True),
)

chats = Table(
    "chats",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("workspace_id", String(200), ForeignKey("workspaces.id"), nullable=False),
    Column("title", Text, nullable=False),
    Column("responder", String(200)),
    Column("last_seq", BigInteger, nullable=False, default=0),
    # The chat's change counter: every edit, delete or reaction takes the next one.
    Column("last_version", BigInteger, nullable=False, default=0, server_default="0"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("chat_id", String(200), ForeignKey("chats.id"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("sender_id", String(200), ForeignKey("users.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("parts", JSON, nullable=False),
    Column("client_id", String(200)),
    Column("reply_to", String(64)),
    Column("created_at", String(40), nullable=False),
    # Protocol 1.1: the chat's `last_version` at this message's last change (0: never).
    Column("version", BigInteger, nullable=False, default=0, server_default="0"),
    Column("edited_at", String(40)),
    Column("deleted", Boolean, nullable=False, default=False, server_default=false()),
    Column("reactions", JSON, nullable=False, default=list, server_default="[]"),
    Column("mentions", JSON, nullable=False, default=list, server_default="[]"),
    UniqueConstraint("chat_id", "seq", name="uq_messages_chat_seq"),
    # client_id before sender_id (migration 0006; SQLite keeps the baseline's
    # order, which its one-key probes match whole): a group's retry check looks
    # up by chat and client_id alone (`postgres_sends.SPEND_AND_FIND`).
    UniqueConstraint("chat_id", "client_id", "sender_id", name="uq_messages_client_id"),
)
# `changes` pages through a chat's messages by version.
Index("ix_messages_chat_version", messages.c.chat_id, messages.c.version)
# Unread counts (`unread.py`) take the messages after a read marker as
# `last_seq - marker` (seq has no gaps) less the reader's own and the deleted
# ones after it, each counted by one of these: the cost follows those, not
# how many messages the chat holds. Deleted messages are few, so their index
# is partial and a live message's insert does not touch it.
Index("ix_messages_chat_sender_seq", messages.c.chat_id, messages.c.sender_id, messages.c.seq)
Index("ix_messages_chat_deleted_seq", messages.c.chat_id, messages.c.seq, messages.c.sender_id,
      sqlite_where=messages.c.deleted == true(), postgresql_where=messages.c.deleted == true())

# Protocol 1.1: each user's read marker per chat (0 where no row).
read_markers = Table(
    "read_markers",
    metadata,
    Column("chat_id", String(200), ForeignKey("chats.id"), primary_key=True),
    Column("user_id", String(200), ForeignKey("users.id"), primary_key=True),
    Column("last_read_seq", BigInteger, nullable=False, default=0, server_default="0"),
)

# Who each live message mentions, as rows, so unread mentions are counted by an
# index rather than by reading every message's `mentions`. Kept in step with
# `messages.mentions` by the same transactions (send, edit, delete).
message_mentions = Table(
    "message_mentions",
    metadata,
    Column("chat_id", String(200), ForeignKey("chats.id"), primary_key=True),
    Column("user_id", String(200), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
)

# Protocol 1.1: each uploaded file, as the chat sees it (one row per upload).
# The bytes are kept once per sha256 (`blobs.py`), however often they come.
files = Table(
    "files",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("chat_id", String(200), ForeignKey("chats.id"), nullable=False),
    Column("uploader_id", String(200), ForeignKey("users.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("mime", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
)

# Bytes kept in the database (PostgreSQL, unless a files directory is given):
# a blob row once every chunk of it is written, in the same transaction.
file_blobs = Table(
    "file_blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
)
file_chunks = Table(
    "file_chunks",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

# The full-text index over `messages.text` is not declared here: it is made
# per database by migration 0003 (an FTS5 table on SQLite, a tsvector column
# with a GIN index on PostgreSQL); `search.py` names its objects.

# Nonces of message authorization strings already spent: single use across
# every process sharing the database. Rows past `expires_at` are pruned.
used_auth = Table(
    "used_auth",
    metadata,
    Column("nonce", String(64), primary_key=True),
    Column("expires_at", Float, nullable=False),
)
Index("ix_used_auth_expires_at", used_auth.c.expires_at)

