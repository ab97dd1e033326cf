"""Redis presence keeps each user's connections and the users present per chat, in step with
every join, leave, drop and process death, and answers what the memory implementation answers.

Two `RedisPresence` objects stand for two server processes, on a redis-server
of the test's own; `LocalPresence` is the reference a single process uses.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bench.private_redis import PrivateRedis
from chat_widget.server.presence import LocalPresence
from chat_widget.server.redis_presence import RedisPresence
from chat_widget.server.store import User

PREFIX = "presence-counts:live"
USERS = [User(name, name, "user") for name in ("alice", "bob", "carol")]
CHATS = ["general", "random"]


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with PrivateRedis(tmp_path) as server:
        yield server.url


def presence_keys(url: str) -> list[str]:
    """Every key of the chats' presence (not the processes' heartbeats)."""
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        return sorted(key for kind in ("chat", "users", "sids")
                      for key in client.keys(f"{PREFIX}:{kind}:*"))
    finally:
        client.close()


async def test_joins_and_leaves_answer_what_memory_presence_answers(redis_url: str) -> None:
    """Random joins, repeated joins, leaves and leaves of what never joined, over two
    processes: every answer, present list and connection list equals the reference's."""
    processes = [RedisPresence(redis_url, PREFIX, f"process-{i}") for i in range(2)]
    reference = LocalPresence()
    # Each connection belongs to one user and one process, as a socket.io sid does.
    sids = {f"sid-{i}": (USERS[i % len(USERS)], processes[i % 2]) for i in range(9)}
    rng = random.Random(16)
    try:
        for _ in range(300):
            sid = rng.choice(sorted(sids))
            user, process = sids[sid]
            chat = rng.choice(CHATS)
            if rng.random() < 0.55:
                got, want = await process.enter(chat, sid, user), await reference.enter(
                    chat, sid, user)
            else:
                got, want = await process.exit(chat, sid, user), await reference.exit(
                    chat, sid, user)
            assert got == want
            for other in processes:
                assert await other.users(chat) == await reference.users(chat)
                for someone in USERS:
                    assert sorted(await other.connections(chat, someone.id)) == sorted(
                        await reference.connections(chat, someone.id))
        for sid, (user, process) in sids.items():
            for chat in CHATS:
                assert await process.exit(chat, sid, user) == await reference.exit(
                    chat, sid, user)
        assert presence_keys(redis_url) == []  # nothing kept once everyone left
    finally:
        for process in processes:
            await process.close()
        await reference.close()


async def test_a_dead_process_is_counted_out_once_and_written_back_when_it_returns(
        redis_url: str) -> None:
    survivor = RedisPresence(redis_url, PREFIX, "survivor")
    dying = RedisPresence(redis_url, PREFIX, "dying")
    told: list[tuple[str, list[str]]] = []
    ended: list[tuple[str, str]] = []

    async def presence_changed(chat_id: str, users: list) -> None:
        told.append((chat_id, [user["id"] for user in users]))

    async def typing_ended(chat_id: str, user: User) -> None:
        ended.append((chat_id, user.id))

    survivor.presence_changed, survivor.typing_ended = presence_changed, typing_ended
    alice, bob = USERS[0], USERS[1]
    await survivor.start()
    await dying.start()
    try:
        await survivor.enter("general", "s1", alice)
        await dying.enter("general", "d1", alice)
        await dying.enter("general", "d2", bob)
        assert (await dying.enter("general", "d3", bob)).changed is False
        await dying.enter("random", "d4", bob)
        assert await dying.start_typing("general", bob)

        # Its heartbeat stops (SIGKILL) and its key lapses, as ALIVE_SECONDS later it would.
        assert dying._heartbeat is not None
        dying._heartbeat.cancel()
        client = redis.Redis.from_url(redis_url)
        client.delete(f"{PREFIX}:alive:dying")
        client.close()
        for _ in range(100):
            if len(told) == 2:
                break
            await asyncio.sleep(0.1)
        assert sorted(told) == [("general", ["alice"]), ("random", [])]
        assert ended == [("general", "bob")]
        assert [user["id"] for user in await survivor.users("general")] == ["alice"]
        assert await survivor.connections("general", "alice") == ["s1"]
        assert await survivor.connections("general", "bob") == []
        assert presence_keys(redis_url) == [
            f"{PREFIX}:chat:general", f'{PREFIX}:sids:["general", "alice"]',
            f"{PREFIX}:users:general"]

        # Counted out twice, or its late leave: nothing more changes.
        await survivor._reap("dying")
        late = await dying.exit("general", "d3", bob)
        assert (late.changed, late.user_gone) == (False, False)
        assert [user["id"] for user in late.users] == ["alice"]
        assert len(told) == 2

        # It was alive after all: its next beat writes its connections back.
        await dying._beat()
        assert [user["id"] for user in await survivor.users("general")] == ["alice", "bob"]
        assert sorted(await survivor.connections("general", "alice")) == ["d1", "s1"]
        assert await survivor.connections("general", "bob") == ["d2"]
        assert [user["id"] for user in await survivor.users("random")] == ["bob"]
        await dying.close()  # a clean stop takes its connections out again
        assert [user["id"] for user in await survivor.users("general")] == ["alice"]
        assert await survivor.users("random") == []
    finally:
        await survivor.close()
