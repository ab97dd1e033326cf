"""Bring a database to the current schema, in place, when the server starts.

The migrations live in `migrations/versions/` (Alembic) and ship inside the
package, so a wheel install can upgrade its database. Three cases:

- an empty database: every revision runs, from the baseline up;
- a database of release 0.1.0 (tables, but no `alembic_version`): it is
  stamped with the baseline, then upgraded, keeping its messages;
- a database already at some revision: only the newer ones run.

It runs in the caller's transaction: on PostgreSQL an advisory lock taken
first makes processes that start together migrate one after the other (the
second finds nothing left to do); SQLite's `BEGIN IMMEDIATE` does the same.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

logger = logging.getLogger(__name__)
# Alembic narrates every step at INFO; the server says itself what changed.
logging.getLogger("alembic").setLevel(logging.WARNING)

BASELINE = "0001"
MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant will do, as long as every process uses the same one.
MIGRATION_LOCK = 727272


def alembic_config(conn: Connection) -> Config:
    """Alembic's configuration for running on `conn` (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def head_revision() -> str:
    """The newest revision the package ships."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    """The revision the database is at; None for an empty or a 0.1.0 database."""
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(conn: Connection) -> None:
    """Migrate the database behind `conn` to the newest revision."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    config = alembic_config(conn)
    before = current_revision(conn)
    if before is None and inspect(conn).has_table("messages"):
        command.stamp(config, BASELINE)
        before = BASELINE
    head = head_revision()
    if before != head:
        command.upgrade(config, "head")
        if before is not None:  # a new database is no news; an upgraded one is
            logger.info("database schema upgraded from revision %s to %s", before, head)
