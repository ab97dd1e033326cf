"""Protocol 1.1: files and search.

Files: a row per upload (`files`), and, for bytes kept in the database, blobs
by sha256 in chunks (`file_blobs`, `file_chunks`). Search: the full-text index
over message text (`search.py` says what each database gets); the messages
already stored are indexed here, so an upgraded database finds them.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chat_widget.server import search

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("chat_id", sa.String(200), sa.ForeignKey("chats.id"), nullable=False),
        sa.Column("uploader_id", sa.String(200), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("mime", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "file_blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "file_chunks",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    statements = (search.POSTGRES_INDEX if op.get_bind().dialect.name == "postgresql"
                  else search.SQLITE_INDEX)
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = (search.POSTGRES_INDEX_DROP if op.get_bind().dialect.name == "postgresql"
                  else search.SQLITE_INDEX_DROP)
    for statement in statements:
        op.execute(statement)
    for name in ("file_chunks", "file_blobs", "files"):
        op.drop_table(name)
