"""Who is here and who is typing (protocol 1.1): one interface, kept in this process's memory.

A user is present in a chat while any of its connections has joined it; a
user types in a chat until it says it stopped, `TYPING_LAPSE` seconds pass
without a repeated `typing: true`, a message of its own is stored there, or
its last connection joined there goes. Nothing here touches the database.

`Presence` is what the rest of the server sees; `LocalPresence` keeps it in
memory, which is the whole truth for a single process. Several processes
share `redis_presence.RedisPresence` instead. Each answers, for every change,
whether something others should hear of happened (the set of present users
changed, a broadcast of `typing` is due), so the caller emits only then.
When a typing state ends by itself (a lapse, a dead process's users), the
implementation calls `typing_ended`; when a dead process takes users away,
`presence_changed`.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from .. import protocol
from .store import User

# `typing: true` lapses this long after the last one (the protocol's 6 s).
TYPING_LAPSE = 6.0
# Repeated `typing: true` is broadcast at most this often per user and chat.
TYPING_REPEAT_SECONDS = 1.0

TypingEnded = Callable[[str, User], Coroutine[Any, Any, None]]
PresenceChanged = Callable[[str, list[protocol.User]], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Change:
    """The outcome of a connection joining or leaving a chat."""

    users: list[protocol.User]
    """The chat's present users after the change, ordered by id."""
    changed: bool
    """Whether the set of present users changed (then `presence` goes out)."""
    user_gone: bool = False
    """On leaving: that user has no connection joined to the chat any more."""


def present_users(users: Iterable[User]) -> list[protocol.User]:
    """Each user once, as the protocol's User, ordered by id."""
    unique = {user.id: user for user in users}
    return [unique[user_id].as_sender() for user_id in sorted(unique)]


async def _ignore_typing_end(_chat_id: str, _user: User) -> None:
    return None


async def _ignore_presence(_chat_id: str, _users: list[protocol.User]) -> None:
    return None


class Presence(ABC):
    """Presence and typing state, as the event handlers use it."""

    def __init__(self) -> None:
        self.typing_ended: TypingEnded = _ignore_typing_end
        """Called when a typing state ends without a request (a lapse, a dead process)."""
        self.presence_changed: PresenceChanged = _ignore_presence
        """Called when users leave a chat without a request (their process died)."""

    @abstractmethod
    async def start(self) -> None:
        """Begin any background work (heartbeats, lapse timers)."""

    @abstractmethod
    async def close(self) -> None:
        """Stop background work and give up this process's state."""

    @abstractmethod
    async def enter(self, chat_id: str, sid: str, user: User) -> Change:
        """Connection `sid` of `user` joined `chat_id`."""

    @abstractmethod
    async def exit(self, chat_id: str, sid: str, user: User) -> Change:
        """Connection `sid` of `user` left `chat_id` (or dropped)."""

    @abstractmethod
    async def users(self, chat_id: str) -> list[protocol.User]:
        """The users present in `chat_id` now, ordered by id."""

    @abstractmethod
    async def connections(self, chat_id: str, user_id: str) -> list[str]:
        """The sids of `user_id`'s connections joined to `chat_id` (in any process)."""

    @abstractmethod
    async def start_typing(self, chat_id: str, user: User) -> bool:
        """`user` types in `chat_id` (for TYPING_LAPSE more seconds); True: broadcast it."""

    @abstractmethod
    async def stop_typing(self, chat_id: str, user_id: str) -> bool:
        """`user_id` stopped typing; True when it was typing (then `typing: false` goes out)."""

    @abstractmethod
    async def typing_users(self, chat_id: str) -> list[protocol.User]:
        """The users typing in `chat_id` now, ordered by id."""


@dataclass
class _Typing:
    user: User
    sent_at: float
    lapse: asyncio.TimerHandle


class LocalPresence(Presence):
    """Presence and typing in this process's memory: the truth when it is the only process."""

    def __init__(self) -> None:
        super().__init__()
        self._joined: dict[str, dict[str, User]] = {}  # chat_id -> sid -> user
        self._typing: dict[tuple[str, str], _Typing] = {}  # (chat_id, user_id) -> state
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        for state in self._typing.values():
            state.lapse.cancel()
        self._typing.clear()
        for task in list(self._tasks):
            task.cancel()

    async def enter(self, chat_id: str, sid: str, user: User) -> Change:
        joined = self._joined.setdefault(chat_id, {})
        was_present = any(other.id == user.id for other in joined.values())
        joined[sid] = user
        return Change(present_users(joined.values()), changed=not was_present)

    async def exit(self, chat_id: str, sid: str, user: User) -> Change:
        joined = self._joined.get(chat_id, {})
        left = joined.pop(sid, None) is not None
        still_here = any(other.id == user.id for other in joined.values())
        if not joined:
            self._joined.pop(chat_id, None)
        gone = left and not still_here
        return Change(present_users(joined.values()), changed=gone, user_gone=gone)

    async def users(self, chat_id: str) -> list[protocol.User]:
        return present_users(self._joined.get(chat_id, {}).values())

    async def connections(self, chat_id: str, user_id: str) -> list[str]:
        return [sid for sid, user in self._joined.get(chat_id, {}).items() if user.id == user_id]

    async def start_typing(self, chat_id: str, user: User) -> bool:
        key = (chat_id, user.id)
        now = time.monotonic()
        state = self._typing.get(key)
        lapse = asyncio.get_running_loop().call_later(TYPING_LAPSE, self._lapse, key)
        if state is not None:
            state.lapse.cancel()
            state.lapse = lapse
            if now - state.sent_at < TYPING_REPEAT_SECONDS:
                return False
            state.sent_at = now
            return True
        self._typing[key] = _Typing(user, now, lapse)
        return True

    async def stop_typing(self, chat_id: str, user_id: str) -> bool:
        state = self._typing.pop((chat_id, user_id), None)
        if state is None:
            return False
        state.lapse.cancel()
        return True

    async def typing_users(self, chat_id: str) -> list[protocol.User]:
        return present_users(state.user for (typing_chat, _), state in self._typing.items()
                             if typing_chat == chat_id)

    def _lapse(self, key: tuple[str, str]) -> None:
        state = self._typing.pop(key, None)
        if state is not None:
            task = asyncio.get_running_loop().create_task(self.typing_ended(key[0], state.user))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
