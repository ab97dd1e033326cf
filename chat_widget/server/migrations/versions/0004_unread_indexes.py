"""Unread counts that do not grow with the chat: two indexes on messages.

A send's `chat_activity` counts every workspace member's unread messages.
Counted row by row after each marker, that cost grew with the chat's
history (a member who never opened a chat of a million messages cost a
million rows per send). The counts now take the messages after a marker as
`last_seq - marker` and subtract the reader's own and the deleted ones,
each found by an index here; the deleted ones' index is partial.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_chat_sender_seq", "messages", ["chat_id", "sender_id", "seq"])
    deleted = sa.column("deleted", sa.Boolean) == sa.true()
    op.create_index("ix_messages_chat_deleted_seq", "messages", ["chat_id", "seq", "sender_id"],
                    sqlite_where=deleted, postgresql_where=deleted)


def downgrade() -> None:
    op.drop_index("ix_messages_chat_deleted_seq", "messages")
    op.drop_index("ix_messages_chat_sender_seq", "messages")
