"""SQLite indexes new messages for search in batches (`search.catch_up`).

The FTS5 insert trigger put each message into the index in its send's own
transaction, and FTS5 writes a segment per transaction: some 40 us of CPU a
message on the send path, where a batch of 64 costs about 13 a message.
Each chat's `indexed_seq` (`message_search_progress`) starts at its
`last_seq`, since the trigger indexed everything stored so far. PostgreSQL's
generated column and GIN index are left as they are.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

from chat_widget.server import search

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in search.SQLITE_DEFER_INDEXING:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    search.catch_up(op.get_bind())  # what waits is indexed before the trigger is back
    op.execute(f"DROP TABLE {search.FTS_PROGRESS_TABLE}")
    op.execute(search.SQLITE_INSERT_TRIGGER)
