"""Schema migrations: a database of release 0.1.0 is upgraded in place and keeps its messages.

`data/release-0.1.0.db` was made by `chat-widget serve --demo` of release
0.1.0 (protocol 1.0), with a few messages sent through it. On PostgreSQL the
same starting point is built from the baseline revision, without Alembic's
bookkeeping table, exactly as that release left its databases.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text

from chat_widget.server import migrate
from chat_widget.server.database import Database
from chat_widget.server.schema import metadata
from chat_widget.server.search import include_name
from tests.helpers import RawClient, http

RELEASE_0_1_0 = Path(__file__).parent / "data" / "release-0.1.0.db"
OLD_GENERAL = ["old message 0 from alice", "old reply 0 from bob @alice",
               "old message 1 from alice", "old reply 1 from bob @alice",
               "old message 2 from alice", "old reply 2 from bob @alice", ""]


def run_on(db_url: str, operation: Callable[[Connection], Any]) -> Any:
    """Run `operation(connection)` in one transaction, as the server does."""

    async def go() -> Any:
        database = Database(db_url)
        try:
            return await database.run(operation)
        finally:
            await database.close()

    return asyncio.run(go())


def schema_differences(conn: Connection) -> list:
    """How the database differs from the model; the search index, made per database
    by migration 0003 and not in the model, is left out as Alembic's env.py does."""
    context = MigrationContext.configure(conn, opts={"include_name": include_name})
    return compare_metadata(context, metadata)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return request.getfixturevalue("postgres_url")


def test_the_0_1_0_demo_database_upgrades_in_place_and_keeps_its_messages(server_factory,
                                                                           tmp_path):
    db_path = tmp_path / "old.db"
    shutil.copy(RELEASE_0_1_0, db_path)
    db_url = f"sqlite:///{db_path}"
    assert run_on(db_url, migrate.current_revision) is None
    server = server_factory(db_url=db_url)
    alice = RawClient(server, server.tokens["alice"])
    general = alice.join("general", after_seq=0, after_version=0)
    assert [m["text"] for m in general["messages"]] == OLD_GENERAL
    assert [m["seq"] for m in general["messages"]] == list(range(1, 8))
    assert general["messages"][-1]["parts"] == [{"type": "markdown", "text": "**old** part"}]
    assert {(m["version"], m["edited_at"], m["deleted"], str(m["reactions"]),
             str(m["mentions"])) for m in general["messages"]} == {(0, None, False, "[]", "[]")}
    assert general["chat"]["last_version"] == 0 and general["updated"] == []
    echo = alice.join("echo")["messages"]
    assert [(m["sender"]["id"], m["text"]) for m in echo] == [
        ("alice", "ping from the old release"), ("bot:echo", "ping from the old release")]

    found = http(server, "GET", "/api/search", server.tokens["alice"],
                 params={"q": "OLD reply"}).json()["messages"]
    assert sorted(m["text"] for m in found) == sorted(OLD_GENERAL[1:6:2])  # backfilled

    edited = alice.edit("general", general["messages"][0]["id"], "edited after the upgrade")
    assert edited["ok"] and edited["message"]["version"] == 1
    assert alice.send("general", "new")["message"]["seq"] == 8
    alice.close()
    server.stop()
    assert run_on(db_url, migrate.current_revision) == migrate.head_revision()
    assert run_on(db_url, schema_differences) == []

    again = server_factory(db_url=db_url)  # a second start has nothing left to migrate
    bob = RawClient(again, again.tokens["bob"])
    assert bob.join("general", after_version=0)["updated"][0]["text"] == \
        "edited after the upgrade"
    bob.close()


def test_the_migrated_schema_is_the_model_the_queries_use(empty_db_url):
    run_on(empty_db_url, migrate.upgrade)
    assert run_on(empty_db_url, migrate.current_revision) == migrate.head_revision()
    assert run_on(empty_db_url, schema_differences) == []
    run_on(empty_db_url, migrate.upgrade)  # idempotent
    assert run_on(empty_db_url, schema_differences) == []


def _release_0_1_0_on(conn: Connection) -> None:
    """Tables as release 0.1.0 made them, one message in them, no alembic_version."""
    command.upgrade(migrate.alembic_config(conn), migrate.BASELINE)
    conn.execute(text("DROP TABLE alembic_version"))
    conn.execute(text("INSERT INTO workspaces (id, title) VALUES ('demo', 'demo')"))
    conn.execute(text("INSERT INTO users (id, name, kind) VALUES ('alice', 'alice', 'user')"))
    conn.execute(text("INSERT INTO chats (id, workspace_id, title, responder, last_seq) "
                      "VALUES ('general', 'demo', 'general', NULL, 1)"))
    conn.execute(text(
        "INSERT INTO messages (id, chat_id, seq, sender_id, text, parts, client_id, reply_to, "
        "created_at) VALUES ('m1', 'general', 1, 'alice', 'from 0.1.0', "
        "'[{\"type\": \"markdown\", \"text\": \"kept\"}]', 'c1', NULL, "
        "'2026-11-30T10:00:00.000Z')"))


def test_a_0_1_0_postgres_database_upgrades_in_place(server_factory, postgres_url):
    run_on(postgres_url, _release_0_1_0_on)
    assert run_on(postgres_url, migrate.current_revision) is None
    server = server_factory(db_url=postgres_url)
    alice = RawClient(server, server.tokens["alice"])
    joined = alice.join("general", after_version=0)
    old = joined["messages"][0]
    assert (old["id"], old["text"], old["parts"], old["client_id"]) == (
        "m1", "from 0.1.0", [{"type": "markdown", "text": "kept"}], "c1")
    assert (old["version"], old["deleted"], old["reactions"]) == (0, False, [])
    found = http(server, "GET", "/api/search", server.tokens["alice"],
                 params={"q": "0.1.0 FROM"}).json()["messages"]
    assert [m["id"] for m in found] == ["m1"]  # backfilled
    reacted = alice.react("general", "m1", "👍")["message"]
    assert reacted["version"] == 1 and alice.send("general", "next")["message"]["seq"] == 2
    alice.close()
    assert run_on(postgres_url, schema_differences) == []
