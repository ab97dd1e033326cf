"""Baseline: the schema of release 0.1.0 (protocol 1.0), as it made its tables.

A database made by that release has these tables and no `alembic_version`;
the server stamps it with this revision and upgrades from here.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "workspaces",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("token_hash", sa.String(64), unique=True),
    )
    op.create_table(
        "used_auth",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_used_auth_expires_at", "used_auth", ["expires_at"])
    op.create_table(
        "memberships",
        sa.Column("workspace_id", sa.String(200), sa.ForeignKey("workspaces.id"),
                  primary_key=True),
        sa.Column("user_id", sa.String(200), sa.ForeignKey("users.id"), primary_key=True),
    )
    op.create_table(
        "chats",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("workspace_id", sa.String(200), sa.ForeignKey("workspaces.id"),
                  nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("responder", sa.String(200)),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("chat_id", sa.String(200), sa.ForeignKey("chats.id"), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("sender_id", sa.String(200), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("parts", sa.JSON, nullable=False),
        sa.Column("client_id", sa.String(200)),
        sa.Column("reply_to", sa.String(64)),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("chat_id", "seq", name="uq_messages_chat_seq"),
        sa.UniqueConstraint("chat_id", "sender_id", "client_id", name="uq_messages_client_id"),
    )


def downgrade() -> None:
    for table in ("messages", "chats", "memberships", "used_auth", "users", "workspaces",
                  "settings"):
        op.drop_table(table)
