"""Presence and typing shared by every server process, kept in Redis with expiry.

Keys, all under `prefix` (the Redis channel's name plus ":live", so
deployments and tests sharing one Redis never meet):

- `{prefix}:chat:{chat_id}`: hash, sid -> the User (JSON) of each connection
  joined to the chat, whichever process holds it;
- `{prefix}:sids:["{chat_id}", "{user_id}"]`: set of that user's sids joined
  to the chat (gone with the last one: the user is present while it exists);
- `{prefix}:users:{chat_id}`: hash, user id -> User (JSON) of each user
  present, so the present list costs the users present, not the connections;
- `{prefix}:typing:{chat_id}`: hash, user id -> {user, deadline, sent, owner}
  (milliseconds; `owner` is the process whose lapse timer ends it); the key
  expires by itself shortly after the last entry's deadline;
- `{prefix}:process:{process_id}`: set of [chat_id, sid, user_id] this
  process added, so another can take them out if this one dies;
- `{prefix}:alive:{process_id}`: this process's heartbeat, refreshed every
  HEARTBEAT_SECONDS, expiring ALIVE_SECONDS after the last refresh;
- `{prefix}:processes`: set of the process ids that have joined anything.

Each change that must be judged against the whole set (was the user already
here? was it typing and for how long?) runs as one Lua script, so two
processes never both decide. The scripts keep the three presence keys in
step, and none reads a whole chat's connections: a join or a leave costs
O(1) in the chat's connections and its answer O(users present), so thousands
of connections of a few users join in linear time. A process whose heartbeat
key has expired is dead (SIGKILL, power cut): the first other process to see
it takes a short lock, removes its connections, and sends the `presence` (and
`typing: false`) that follow, within ALIVE_SECONDS + HEARTBEAT_SECONDS of the
death.

Redis being down must not stop chatting: a failing call is logged and the
answer falls back to what this process knows; when the heartbeat finds this
process was given up for dead meanwhile, it writes its connections back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from .. import protocol
from .presence import TYPING_LAPSE, TYPING_REPEAT_SECONDS, Change, Presence, present_users
from .store import User

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0
ALIVE_SECONDS = 5.0
REAP_LOCK_SECONDS = 10.0
LAPSE_SLACK = 0.05  # the lapse timer fires this much after the deadline
FAILURE_LOG_SECONDS = 5.0

# KEYS: chat hash, process set, users hash, the user's sids set;
# ARGV: sid, User JSON, user id, process member. Answers {was present, users present}.
_ENTER = """
local was = redis.call('EXISTS', KEYS[4])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[2])
return {was, redis.call('HVALS', KEYS[3])}
"""
# The same keys; ARGV: sid, user id, process member.
# Answers {sid was joined, user still present, users present}.
_EXIT = """
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[3])
redis.call('SREM', KEYS[4], ARGV[1])
local still = redis.call('EXISTS', KEYS[4])
if still == 0 then redis.call('HDEL', KEYS[3], ARGV[2]) end
return {removed, still, redis.call('HVALS', KEYS[3])}
"""
_TYPING_ON = """
local now = tonumber(ARGV[2])
local sent, send = now, 1
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local state = cjson.decode(current)
  if state.deadline > now and now - state.sent < tonumber(ARGV[4]) then
    send, sent = 0, state.sent
  end
end
local lapse = tonumber(ARGV[5])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({user = cjson.decode(ARGV[3]),
  deadline = now + lapse, sent = sent, owner = ARGV[6]}))
redis.call('PEXPIRE', KEYS[1], 2 * lapse + 10000)
return send
"""
_LAPSE = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current or cjson.decode(current).deadline > tonumber(ARGV[2]) then return 0 end
return redis.call('HDEL', KEYS[1], ARGV[1])
"""
_DROP_OWNED_TYPING = """
local dropped = {}
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local state = cjson.decode(entries[i + 1])
  if state.owner == ARGV[1] then
    redis.call('HDEL', KEYS[1], entries[i])
    table.insert(dropped, cjson.encode(state.user))
  end
end
return dropped
"""


def _user(value: str | bytes) -> User:
    data = json.loads(value)
    return User(data["id"], data["name"], data["kind"])


def _gone(answer: list[Any]) -> bool:
    """Whether an `_EXIT` answer took the user's last connection out of the chat."""
    removed, still, _values = answer
    return bool(int(removed)) and not int(still)


def _left(answer: list[Any]) -> Change:
    """The Change of one `_EXIT` answer."""
    gone = _gone(answer)
    return Change(present_users(map(_user, answer[2])), changed=gone, user_gone=gone)


def _now_ms() -> int:
    return int(time.time() * 1000)


class RedisPresence(Presence):
    """Presence and typing for several processes, one truth in Redis."""

    def __init__(self, url: str, prefix: str, process_id: str) -> None:
        super().__init__()
        self.prefix = prefix
        self.process_id = process_id
        # One retry on a fresh connection: after Redis restarts, every connection pooled
        # before fails once ("closed by server"), and a join answered from this process
        # alone would leave out the users of the others. Redis really down fails fast.
        self._redis = Redis.from_url(url, decode_responses=True, socket_connect_timeout=2.0,
                                     socket_timeout=2.0, retry=Retry(NoBackoff(), 1))
        self._enter = self._redis.register_script(_ENTER)
        self._exit = self._redis.register_script(_EXIT)
        self._typing_on = self._redis.register_script(_TYPING_ON)
        self._lapse_script = self._redis.register_script(_LAPSE)
        self._drop_owned = self._redis.register_script(_DROP_OWNED_TYPING)
        self._mine: dict[tuple[str, str], User] = {}  # (chat_id, sid) -> user, this process's
        self._lapses: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._heartbeat: asyncio.Task[None] | None = None
        self._failed_logged_at = 0.0

    # --- keys ----------------------------------------------------------------------

    def _chat_key(self, chat_id: str) -> str:
        return f"{self.prefix}:chat:{chat_id}"

    def _users_key(self, chat_id: str) -> str:
        return f"{self.prefix}:users:{chat_id}"

    def _sids_key(self, chat_id: str, user_id: str) -> str:
        # Both ids may hold any character: a JSON pair keeps (a:b, c) apart from (a, b:c).
        return f"{self.prefix}:sids:{json.dumps([chat_id, user_id])}"

    def _presence_keys(self, chat_id: str, user_id: str, process_id: str) -> list[str]:
        """The keys `_ENTER` and `_EXIT` keep in step, in their order."""
        return [self._chat_key(chat_id), self._process_key(process_id),
                self._users_key(chat_id), self._sids_key(chat_id, user_id)]

    def _typing_key(self, chat_id: str) -> str:
        return f"{self.prefix}:typing:{chat_id}"

    def _process_key(self, process_id: str) -> str:
        return f"{self.prefix}:process:{process_id}"

    def _alive_key(self, process_id: str) -> str:
        return f"{self.prefix}:alive:{process_id}"

    @property
    def _processes_key(self) -> str:
        return f"{self.prefix}:processes"

    def _member(self, chat_id: str, sid: str, user_id: str) -> str:
        return json.dumps([chat_id, sid, user_id])

    # --- start and stop ------------------------------------------------------------

    async def start(self) -> None:
        await self._beat(first=True)
        self._heartbeat = asyncio.get_running_loop().create_task(self._heartbeats())

    async def close(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        for handle in self._lapses.values():
            handle.cancel()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(RedisError, OSError):
            await self._reap(self.process_id)
            await self._redis.delete(self._alive_key(self.process_id))
        await self._redis.aclose()

    # --- presence ---------------------------------------------------------------------

    async def enter(self, chat_id: str, sid: str, user: User) -> Change:
        self._mine[(chat_id, sid)] = user
        try:
            was, values = await self._join(chat_id, sid, user)
        except RedisError as error:
            self._failed("joining", error)
            return Change(self._local_users(chat_id), changed=False)
        return Change(present_users(map(_user, values)), changed=not int(was))

    async def exit(self, chat_id: str, sid: str, user: User) -> Change:
        self._mine.pop((chat_id, sid), None)
        try:
            return await self._remove(chat_id, sid, user.id, self.process_id)
        except RedisError as error:
            self._failed("leaving", error)
            return Change(self._local_users(chat_id), changed=False)

    def _join(self, chat_id: str, sid: str, user: User, client: Any = None) -> Any:
        """Run `_ENTER` for this process's connection (on `client`: a pipeline's turn)."""
        return self._enter(keys=self._presence_keys(chat_id, user.id, self.process_id),
                           args=[sid, json.dumps(user.as_sender()), user.id,
                                 self._member(chat_id, sid, user.id)], client=client)

    def _leave(self, chat_id: str, sid: str, user_id: str, process_id: str,
               client: Any = None) -> Any:
        """Run `_EXIT` for a connection of `process_id` (on `client`: a pipeline's turn)."""
        return self._exit(keys=self._presence_keys(chat_id, user_id, process_id),
                          args=[sid, user_id, self._member(chat_id, sid, user_id)],
                          client=client)

    async def _remove(self, chat_id: str, sid: str, user_id: str, process_id: str) -> Change:
        return _left(await self._leave(chat_id, sid, user_id, process_id))

    async def users(self, chat_id: str) -> list[protocol.User]:
        try:
            return present_users(map(_user, await self._redis.hvals(self._users_key(chat_id))))
        except RedisError as error:
            self._failed("reading presence", error)
            return self._local_users(chat_id)

    async def connections(self, chat_id: str, user_id: str) -> list[str]:
        try:
            return sorted(map(str, await self._redis.smembers(self._sids_key(chat_id, user_id))))
        except RedisError as error:
            self._failed("reading presence", error)
            return [sid for (chat, sid), user in self._mine.items()
                    if chat == chat_id and user.id == user_id]

    def _local_users(self, chat_id: str) -> list[protocol.User]:
        return present_users(user for (chat, _sid), user in self._mine.items() if chat == chat_id)

    # --- typing -----------------------------------------------------------------------

    async def start_typing(self, chat_id: str, user: User) -> bool:
        try:
            send = await self._typing_on(
                keys=[self._typing_key(chat_id)],
                args=[user.id, _now_ms(), json.dumps(user.as_sender()),
                      int(TYPING_REPEAT_SECONDS * 1000), int(TYPING_LAPSE * 1000),
                      self.process_id])
        except RedisError as error:
            self._failed("typing", error)
            return False
        key = (chat_id, user.id)
        previous = self._lapses.pop(key, None)
        if previous is not None:
            previous.cancel()
        self._lapses[key] = asyncio.get_running_loop().call_later(
            TYPING_LAPSE + LAPSE_SLACK, self._spawn_lapse, chat_id, user)
        return bool(int(send))

    async def stop_typing(self, chat_id: str, user_id: str) -> bool:
        handle = self._lapses.pop((chat_id, user_id), None)
        if handle is not None:
            handle.cancel()
        try:
            return bool(await self._redis.hdel(self._typing_key(chat_id), user_id))
        except RedisError as error:
            self._failed("typing", error)
            return False

    async def typing_users(self, chat_id: str) -> list[protocol.User]:
        try:
            entries = await self._redis.hvals(self._typing_key(chat_id))
        except RedisError as error:
            self._failed("reading typing", error)
            return []
        now = _now_ms()
        states = [json.loads(entry) for entry in entries]
        return present_users(User(**state["user"]) for state in states
                             if state["deadline"] > now)

    def _spawn_lapse(self, chat_id: str, user: User) -> None:
        self._lapses.pop((chat_id, user.id), None)
        self._spawn(self._lapse(chat_id, user))

    async def _lapse(self, chat_id: str, user: User) -> None:
        if await self._lapse_script(keys=[self._typing_key(chat_id)], args=[user.id, _now_ms()]):
            await self.typing_ended(chat_id, user)

    # --- heartbeat and the dead ---------------------------------------------------------

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self._beat()
                await self._reap_the_dead()
            except RedisError as error:
                self._failed("the presence heartbeat", error)
            except Exception:
                logger.exception("the presence heartbeat failed")

    async def _beat(self, first: bool = False) -> None:
        """Refresh this process's heartbeat; rewrite its connections if it was reaped."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(self._alive_key(self.process_id), "1", px=int(ALIVE_SECONDS * 1000),
                     get=True)
            pipe.sadd(self._processes_key, self.process_id)
            previous, _added = await pipe.execute()
        if previous is None and not first and self._mine:
            logger.warning("this process was counted out of presence (Redis unreachable "
                           "for a while); writing its %d joined connections back",
                           len(self._mine))
            async with self._redis.pipeline(transaction=False) as pipe:
                for (chat_id, sid), user in list(self._mine.items()):
                    await self._join(chat_id, sid, user, client=pipe)
                await pipe.execute()

    async def _reap_the_dead(self) -> None:
        for member in await self._redis.smembers(self._processes_key):
            process_id = str(member)
            if process_id == self.process_id or await self._redis.exists(
                    self._alive_key(process_id)):
                continue
            if await self._redis.set(f"{self.prefix}:reaping:{process_id}", self.process_id,
                                     nx=True, px=int(REAP_LOCK_SECONDS * 1000)):
                logger.info("server process %s stopped beating; its users leave presence",
                            process_id)
                await self._reap(process_id)

    async def _reap(self, process_id: str) -> None:
        """Take a process's connections out of presence, and tell each chat what changed."""
        by_chat: dict[str, list[tuple[str, str]]] = {}
        for member in await self._redis.smembers(self._process_key(process_id)):
            chat_id, sid, user_id = json.loads(member)
            by_chat.setdefault(chat_id, []).append((sid, user_id))
        for chat_id, connections in by_chat.items():
            async with self._redis.pipeline(transaction=False) as pipe:
                for sid, user_id in connections:
                    await self._leave(chat_id, sid, user_id, process_id, client=pipe)
                answers = await pipe.execute()
            gone = {user_id for (_sid, user_id), answer in zip(connections, answers, strict=True)
                    if _gone(answer)}
            ended = {_user(value) for value in await self._drop_owned(
                keys=[self._typing_key(chat_id)], args=[process_id])}
            for user_id in gone:
                typing = await self._redis.hget(self._typing_key(chat_id), user_id)
                if typing and await self._redis.hdel(self._typing_key(chat_id), user_id):
                    ended.add(User(**json.loads(typing)["user"]))
            for user in sorted(ended, key=lambda user: user.id):
                await self.typing_ended(chat_id, user)
            if gone:
                await self.presence_changed(chat_id, await self.users(chat_id))
        await self._redis.delete(self._process_key(process_id))
        await self._redis.srem(self._processes_key, process_id)

    # --- helpers -------------------------------------------------------------------------

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _failed(self, doing: str, error: BaseException) -> None:
        now = time.monotonic()
        if now - self._failed_logged_at > FAILURE_LOG_SECONDS:
            self._failed_logged_at = now
            logger.warning("presence in Redis: %s failed (%s); answering from this process",
                           doing, error)
