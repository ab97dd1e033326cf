"""Unread counts (server/unread.py) agree with their definition after any mix of work.

The counts are computed from `last_seq - marker` less the reader's own and the
deleted messages after the marker (so they cost what those cost, not the
chat's length). This checks them against PROTOCOL.md's words, counted
message by message over everything stored: after a seeded random mix of
sends by three people, mentions, edits that change them, deletions and read
markers moving, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import functools
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from chat_widget.server import changes
from chat_widget.server.store import Store, User

PEOPLE = [User(name, name.title(), "user") for name in ("alice", "bob", "carol")]


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    opened = Store(db_url)
    await opened.open()
    await opened.add_workspace("demo")
    for person in PEOPLE:
        await opened.ensure_user(person.id, person.name, f"{person.id}-token", "user")
        await opened.add_member("demo", person.id)
    for chat_id in ("general", "side", "quiet"):
        await opened.add_chat(chat_id, "demo")
    yield opened
    await opened.close()


async def _random_work(store: Store, rounds: int, rng: random.Random) -> None:
    """Sends (some mentioning), edits, deletions and read markers, in a seeded order."""
    for _ in range(rounds):
        chat_id = rng.choice(["general", "general", "side"])
        person = rng.choice(PEOPLE)
        action = rng.random()
        page, _ = await store.messages(chat_id, limit=500)
        own_live = [m for m in page if m["sender"]["id"] == person.id and not m["deleted"]]
        if action < 0.55 or not page:
            named = rng.sample([p.id for p in PEOPLE], rng.randint(0, 2))
            await store.store_message(chat_id, person, " ".join(f"@{n}" for n in named) or "hi",
                                      [])
        elif action < 0.65 and own_live:
            named = rng.sample([p.id for p in PEOPLE], rng.randint(0, 2))
            edit = functools.partial(changes.edit, user_id=person.id,
                                     text=" ".join(f"@{n}" for n in named) or "edited",
                                     parts=None)
            await store.change_message(chat_id, rng.choice(own_live)["id"], edit)
        elif action < 0.8 and own_live:
            await store.change_message(chat_id, rng.choice(own_live)["id"],
                                       functools.partial(changes.delete, user_id=person.id))
        else:
            await store.mark_read(chat_id, person.id, rng.randint(0, page[-1]["seq"]))


async def _by_definition(store: Store, chat_id: str, user_id: str) -> dict[str, Any]:
    """PROTOCOL.md's words, message by message: after the marker, sent by others, live;
    of those, the ones that mention the user."""
    marker = (await store.mark_read(chat_id, user_id, 0))[0]  # never moves back: a read
    page, _ = await store.messages(chat_id, after_seq=marker, limit=500)
    unread = [m for m in page if m["sender"]["id"] != user_id and not m["deleted"]]
    return {"last_read_seq": marker, "unread": len(unread),
            "unread_mentions": sum(user_id in m["mentions"] for m in unread)}


@pytest.mark.parametrize("seed", [1, 2])
async def test_counts_match_the_definition_after_a_random_mix(store: Store, seed: int) -> None:
    rng = random.Random(seed)
    for checkpoint in range(3):
        await _random_work(store, 40, rng)
        for chat_id in ("general", "side", "quiet"):
            chat = await store.chat(chat_id, fresh=True)
            assert chat is not None
            counts = await store.members_fields(chat_id)
            assert counts.last_seq == chat["last_seq"]
            for person in PEOPLE:
                expected = await _by_definition(store, chat_id, person.id)
                assert counts.members[person.id] == expected, (checkpoint, chat_id, person.id)
                reader: dict[str, Any] = dict(await store.chat_for_reader(chat, person.id))
                assert {key: reader[key] for key in expected} == expected
    # The mix did what it should to be a test: some deleted, some mentioned, some read.
    page, _ = await store.messages("general", limit=500)
    assert any(m["deleted"] for m in page) and any(m["mentions"] for m in page)
    counts = await store.members_fields("general")
    assert any(counts.members[person.id]["last_read_seq"] for person in PEOPLE)


async def test_a_chat_the_user_cannot_see_or_that_does_not_exist_counts_nothing(
        store: Store) -> None:
    await store.store_message("general", PEOPLE[1], "@alice", [])
    from chat_widget.server.unread import reader_fields

    fields = await store.db.run(reader_fields, "alice", ["general", "nowhere"])
    assert fields == {"general": {"last_read_seq": 0, "unread": 1, "unread_mentions": 1},
                      "nowhere": {"last_read_seq": 0, "unread": 0, "unread_mentions": 0}}
