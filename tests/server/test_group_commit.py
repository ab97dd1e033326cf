"""Group commit (server/group_commit.py): sends arriving together share one transaction.

On SQLite and on PostgreSQL, sends submitted in the same pass of the event
loop go into one commit, and still: `seq` runs 1..N in the order they came,
a failing send (spent nonce, chat gone) fails alone with its own code while
the others commit, and a `client_id` repeated within a group or across
groups is stored once. The server-level check sends from many clients at
once through a real server.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine, event

from chat_widget.errors import ChatError
from chat_widget.server.store import Store, User
from tests.helpers import RawClient

ALICE = User("alice", "Alice", "user")
BOB = User("bob", "Bob", "user")
FAR = 1e12  # an expiry far ahead


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    opened = Store(db_url)
    await opened.open()
    await opened.add_workspace("demo")
    for user in (ALICE, BOB):
        await opened.ensure_user(user.id, user.name, f"{user.id}-token", "user")
        await opened.add_member("demo", user.id)
    for chat_id in ("general", "random"):
        await opened.add_chat(chat_id, "demo")
    yield opened
    await opened.close()


def commits(store: Store) -> list[int]:
    """A list that gains one entry per transaction committed by `store`'s writer."""
    db = store.db
    engine: Engine = db._writer if db.dialect == "sqlite" else db._async_engine.sync_engine
    seen: list[int] = []
    event.listen(engine, "commit", lambda _conn: seen.append(1))
    return seen


async def together(*sends: object) -> list[object]:
    """Run the sends at once; each one's outcome, an exception included."""
    return await asyncio.gather(*sends, return_exceptions=True)  # type: ignore[arg-type]


async def test_sends_arriving_together_share_a_commit_and_keep_their_order(
        store: Store) -> None:
    committed = commits(store)
    outcomes = await together(*(
        store.store_message("general", ALICE if n % 2 else BOB, f"m{n}", [],
                            client_id=f"c{n}", auth_nonce=f"n{n}", auth_expires_at=FAR)
        for n in range(40)))
    assert len(committed) < 40
    assert [message["seq"] for message, _ in outcomes] == list(range(1, 41))  # type: ignore[misc]
    assert [message["text"] for message, _ in outcomes] == [  # type: ignore[misc]
        f"m{n}" for n in range(40)]
    page, _ = await store.messages("general", limit=100)
    assert [message["text"] for message in page] == [f"m{n}" for n in range(40)]
    assert (await store.chat("general", fresh=True))["last_seq"] == 40  # type: ignore[index]


async def test_a_send_submitted_a_few_loop_passes_later_joins_the_same_commit(
        store: Store) -> None:
    # In a server a send reaches the store passes after its frame was read (a task
    # per event, the handler's checks): sends read together arrive staggered.
    committed = commits(store)
    first = asyncio.ensure_future(store.store_message("general", ALICE, "early", []))
    for _ in range(2):
        await asyncio.sleep(0)
    late, _ = await store.store_message("general", BOB, "a pass behind", [])
    early, _ = await first
    assert len(committed) == 1
    assert (early["seq"], late["seq"]) == (1, 2)


async def test_a_spent_nonce_fails_alone_and_takes_no_seq(store: Store) -> None:
    await store.store_message("general", ALICE, "first", [], auth_nonce="spent",
                              auth_expires_at=FAR)
    committed = commits(store)
    outcomes = await together(
        store.store_message("general", ALICE, "a", [], auth_nonce="x1", auth_expires_at=FAR),
        store.store_message("general", ALICE, "old", [], auth_nonce="spent",
                            auth_expires_at=FAR),
        store.store_message("general", BOB, "b", [], auth_nonce="x2", auth_expires_at=FAR),
        store.store_message("general", BOB, "twice", [], auth_nonce="x2",
                            auth_expires_at=FAR),
        store.store_message("general", ALICE, "c", [], auth_nonce="x3", auth_expires_at=FAR))
    assert len(committed) == 1
    for failed in (outcomes[1], outcomes[3]):
        assert isinstance(failed, ChatError) and failed.code == "auth_reused"
    stored = [outcomes[0], outcomes[2], outcomes[4]]
    assert [message["seq"] for message, _ in stored] == [2, 3, 4]  # type: ignore[index]
    page, _ = await store.messages("general")
    assert [message["text"] for message in page] == ["first", "a", "b", "c"]


async def test_a_client_id_repeated_in_and_across_groups_is_stored_once(store: Store) -> None:
    earlier, _ = await store.store_message("general", ALICE, "kept", [], client_id="old")
    outcomes = await together(
        store.store_message("general", ALICE, "new", [], client_id="k", auth_nonce="a1",
                            auth_expires_at=FAR),
        store.store_message("general", ALICE, "new", [], client_id="k", auth_nonce="a2",
                            auth_expires_at=FAR),
        store.store_message("general", BOB, "bob's own k", [], client_id="k"),
        store.store_message("general", ALICE, "kept again", [], client_id="old"),
        store.store_message("general", ALICE, "new", [], client_id="k"))
    first, again, bobs, repeat_of_earlier, third = outcomes
    assert first[1] and not again[1] and not third[1]  # type: ignore[index]
    assert again[0] == first[0] == third[0]  # type: ignore[index]
    assert bobs[1] and bobs[0]["sender"]["id"] == "bob"  # type: ignore[index]
    assert repeat_of_earlier == (earlier, False)
    page, _ = await store.messages("general")
    assert [message["text"] for message in page] == ["kept", "new", "bob's own k"]
    assert [message["seq"] for message in page] == [1, 2, 3]
    # Each repeat spent its own fresh nonce, as a lone repeat does.
    with pytest.raises(ChatError) as caught:
        await store.store_message("general", ALICE, "x", [], auth_nonce="a2",
                                  auth_expires_at=FAR)
    assert caught.value.code == "auth_reused"


async def test_a_send_to_a_missing_chat_fails_alone_and_keeps_its_nonce(store: Store) -> None:
    outcomes = await together(
        store.store_message("general", ALICE, "here", [], auth_nonce="g1",
                            auth_expires_at=FAR),
        store.store_message("gone", ALICE, "nowhere", [], auth_nonce="lost",
                            auth_expires_at=FAR, client_id="c"),
        store.store_message("gone", ALICE, "nowhere", [], client_id="c"),
        store.store_message("random", BOB, "there", [], auth_nonce="r1",
                            auth_expires_at=FAR))
    for failed in outcomes[1:3]:
        assert isinstance(failed, ChatError) and failed.code == "not_found"
    assert outcomes[0][0]["seq"] == 1 and outcomes[3][0]["seq"] == 1  # type: ignore[index]
    # The failed send's nonce was given back, as its rolled-back transaction would.
    message, created = await store.store_message("general", ALICE, "later", [],
                                                 auth_nonce="lost", auth_expires_at=FAR)
    assert created and message["seq"] == 2


def test_many_clients_sending_at_once_through_the_server(store_server) -> None:
    clients = [RawClient(store_server, store_server.tokens[name])
               for name in ("alice", "bob") * 4]
    for client in clients:
        client.join("general")
    acks: list[dict] = []
    lock = threading.Lock()

    def send_many(client: RawClient) -> None:
        for n in range(10):
            client_id = uuid.uuid4().hex
            first = client.send("general", f"{n}", client_id=client_id)
            again = client.send("general", f"{n}", client_id=client_id)
            assert first["ok"] and again["ok"], (first, again)
            assert again["message"] == first["message"]
            with lock:
                acks.append(first)

    threads = [threading.Thread(target=send_many, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=100)
    seqs = sorted(ack["message"]["seq"] for ack in acks)
    assert seqs == list(range(seqs[0], seqs[0] + 8 * 10))  # each once, no gap
    for client in clients:
        client.close()
