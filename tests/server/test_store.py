"""Storage (server/store.py) on a real SQLite file, without a server in front.

The checks PROTOCOL.md asks of storage: `seq` from 1 without gaps even under
concurrent senders, a repeated `client_id` answered with the stored message,
a spent authorization nonce refused, and pages in ascending `seq`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chat_widget.errors import ChatError
from chat_widget.server.store import Store, User

ALICE = User("alice", "Alice", "user")


async def test_concurrent_sends_get_every_seq_from_one_once(store: Store) -> None:
    stored = await asyncio.gather(*(
        store.store_message("general", ALICE, f"m{number}", []) for number in range(40)))
    assert sorted(message["seq"] for message, created in stored if created) == list(range(1, 41))
    assert (await store.chat("general", fresh=True))["last_seq"] == 40


async def test_a_repeated_client_id_is_answered_with_the_stored_message(store: Store) -> None:
    first, created = await store.store_message("general", ALICE, "once", [], client_id="k1")
    again, created_again = await store.store_message("general", ALICE, "once", [],
                                                     client_id="k1")
    assert created and not created_again and again == first
    page, _ = await store.messages("general")
    assert [message["id"] for message in page] == [first["id"]]


async def test_a_spent_nonce_is_refused_and_the_failed_message_takes_no_seq(store: Store) -> None:
    await store.store_message("general", ALICE, "a", [], auth_nonce="n1", auth_expires_at=1e12)
    with pytest.raises(ChatError) as caught:
        await store.store_message("general", ALICE, "b", [], auth_nonce="n1",
                                  auth_expires_at=1e12)
    assert caught.value.code == "auth_reused"
    following, _ = await store.store_message("general", ALICE, "c", [])
    assert following["seq"] == 2


async def test_pages_run_in_ascending_seq_before_or_after_a_seq(store: Store) -> None:
    for number in range(1, 11):
        await store.store_message("general", ALICE, f"m{number}", [])
    latest, older = await store.messages("general", limit=4)
    assert [m["seq"] for m in latest] == [7, 8, 9, 10] and older
    before, older = await store.messages("general", before_seq=3, limit=4)
    assert [m["seq"] for m in before] == [1, 2] and not older
    after, newer = await store.messages("general", after_seq=8, limit=4)
    assert [m["seq"] for m in after] == [9, 10] and not newer


async def test_a_stored_message_has_the_protocol_fields(store: Store) -> None:
    parts = [{"type": "markdown", "text": "*hi*"}]
    message, _ = await store.store_message("general", ALICE, "hi", parts, client_id="k")
    assert set(message) == {"id", "chat_id", "seq", "sender", "text", "parts", "client_id",
                            "reply_to", "created_at", "version", "edited_at", "deleted",
                            "reactions", "mentions"}
    assert message["sender"] == {"id": "alice", "name": "Alice", "kind": "user"}
    assert message["parts"] == parts and message["created_at"].endswith("Z")
    assert await store.user_by_token("alice-token") == ALICE
    assert await store.user_by_token("wrong") is None


async def test_each_created_message_is_told_before_any_read_can_show_it(store: Store) -> None:
    """`on_created` hears of a message as its commit returns: a read that shows the chat's
    `last_seq` never runs ahead of it (chat_activity's carried counts depend on that)."""
    told: list[int] = []
    store.on_created = lambda message: told.append(message["seq"])
    ahead: list[tuple[int, int]] = []

    async def read_while_sending() -> None:
        for _ in range(200):
            last_seq = (await store.members_markers("general")).last_seq
            if last_seq and (not told or told[-1] < last_seq):
                ahead.append((last_seq, told[-1] if told else 0))
            await asyncio.sleep(0)

    sends = [store.store_message("general", ALICE, f"m{number}", [], client_id=f"c{number}")
             for number in range(60)]
    await asyncio.gather(read_while_sending(), *sends)
    assert ahead == []
    assert told == list(range(1, 61))
    await store.store_message("general", ALICE, "m0", [], client_id="c0")  # a repeat
    assert told == list(range(1, 61))


async def test_a_one_statement_read_neither_takes_nor_waits_for_the_write_lock(
        store: Store, tmp_path: Path) -> None:
    """`members_markers` (behind every chat_activity) reads while another process holds
    the file's write lock, and a read through SQLAlchemy leaves no transaction open."""
    import sqlite3

    from sqlalchemy import select

    from chat_widget.server.schema import chats

    await store.store_message("general", ALICE, "one", [])
    other = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process, mid-write
    try:
        markers = await store.members_markers("general")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (markers.last_seq, markers.markers) == (1, {"alice": 0})
    last_seq = await store.db.read_statement(
        lambda conn: conn.execute(select(chats.c.last_seq)).scalar())
    assert last_seq == 1
    assert store.db._writer_conn is not None and not store.db._writer_conn.in_transaction()
    following, _ = await store.store_message("general", ALICE, "two", [])
    assert following["seq"] == 2
