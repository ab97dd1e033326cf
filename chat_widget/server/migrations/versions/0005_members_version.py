"""A workspace's members version: removals seen by every server process at one query a round.

A connection joined to a chat goes on receiving it only while its user is a
member of the chat's workspace. Memberships change from any process (the
admin commands write the database directly), so each server process reads
its workspaces' `members_version` every few seconds in one query and
re-checks the members of those whose number moved (`membership_watch.py`).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("workspaces", sa.Column("members_version", sa.BigInteger, nullable=False,
                                          server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("members_version")
