"""`uq_messages_client_id` on (chat_id, client_id, sender_id) on PostgreSQL.

A send group's retry check (`postgres_sends.SPEND_AND_FIND`) finds the
messages already stored under the group's `client_id`s. With the sender as
the index's second column, the chat and client_id alone could not be looked
up in it, and given the sender as well the planner, having no statistics on
a chat (a new database, or a chat new since the last ANALYZE), took
`ix_messages_chat_sender_seq` instead and read every message the chat's
senders had written, once per send group: the cost grew with the chat.
With client_id second, chat and client_id find the one row whatever the
statistics say.

SQLite keeps the baseline's order: it checks one key at a time with all three
columns given, which it looks up in the unique index in either order, and
changing a constraint there means copying the whole table.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NAME = "uq_messages_client_id"


def _reorder(columns: list[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_constraint(NAME, "messages", type_="unique")
    op.create_unique_constraint(NAME, "messages", columns)


def upgrade() -> None:
    _reorder(["chat_id", "client_id", "sender_id"])


def downgrade() -> None:
    _reorder(["chat_id", "sender_id", "client_id"])
