"""Protocol 1.1: messages can be edited, deleted and reacted to.

Each chat gets a change counter (`last_version`); each message the version of
its last change, when it was edited, whether it is a tombstone, its reactions
and the members it mentions. Existing messages get the "never changed" values
(and no mentions: their texts are not read again). Read markers and the
mention index give each user's `unread` and `unread_mentions` per chat.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("chats", sa.Column("last_version", sa.BigInteger, nullable=False,
                                     server_default="0"))
    op.add_column("messages", sa.Column("version", sa.BigInteger, nullable=False,
                                        server_default="0"))
    op.add_column("messages", sa.Column("edited_at", sa.String(40)))
    op.add_column("messages", sa.Column("deleted", sa.Boolean, nullable=False,
                                        server_default=sa.false()))
    op.add_column("messages", sa.Column("reactions", sa.JSON, nullable=False,
                                        server_default="[]"))
    op.add_column("messages", sa.Column("mentions", sa.JSON, nullable=False,
                                        server_default="[]"))
    op.create_index("ix_messages_chat_version", "messages", ["chat_id", "version"])
    op.create_table(
        "read_markers",
        sa.Column("chat_id", sa.String(200), sa.ForeignKey("chats.id"), primary_key=True),
        sa.Column("user_id", sa.String(200), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("last_read_seq", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "message_mentions",
        sa.Column("chat_id", sa.String(200), sa.ForeignKey("chats.id"), primary_key=True),
        sa.Column("user_id", sa.String(200), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("message_mentions")
    op.drop_table("read_markers")
    op.drop_index("ix_messages_chat_version", "messages")
    for column in ("mentions", "reactions", "deleted", "edited_at", "version"):
        op.drop_column("messages", column)
    op.drop_column("chats", "last_version")
