"""With several processes: each joined client of this one gets every message once, in seq order.

Messages sent on other processes come through Redis pub/sub, which delivers at
most once: whatever is published while a subscription is down (a Redis
restart, a network blip) is gone. The database has every message, so this
process remembers, for each chat its clients joined, the last `seq` it handed
them (`delivered`), and:

- holds a message that arrives ahead of a missing one; if the missing one has
  not come within GAP_GRACE seconds, it reads it from the database;
- after every confirmed (re)subscription, reads from the database whatever is
  newer than `delivered`;
- every SAFETY_NET_SECONDS (every DOWN_POLL_SECONDS while Redis is down) reads
  the tracked chats' `last_seq` in one query, and fills from the database a
  chat that was already behind at the previous look (so a message still on
  its way through Redis is not read for nothing);
- hands a client that joined while a message raced past it (its join snapshot
  ends before `delivered`) the messages in between.

Cost: per message, a dict lookup and an uncontended lock; per interval, one
indexed query over the tracked chats; message reads only when a message was
really missed. Messages that come twice (Redis and the database) are dropped
here, so clients see each once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import socketio

from .. import protocol
from ..protocol import Message
from .rooms import room_of
from .store import Store

logger = logging.getLogger(__name__)

GAP_GRACE = 0.5
SAFETY_NET_SECONDS = 5.0
DOWN_POLL_SECONDS = 1.0
PAGE = 500



@dataclass
class _Chat:
    """What this process handed the clients of one chat."""

    delivered: int
    seen_last_seq: int
    held: dict[int, Message] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    entering: int = 0
    gap_fill: asyncio.Task[None] | None = None


def chat_of_emit(emit: dict[str, Any]) -> tuple[str, Message] | None:
    """(chat id, message) when a pub/sub manager's emit is a chat's `message`, else None."""
    room = emit.get("room")
    if (emit.get("event") != protocol.MESSAGE or emit.get("namespace", "/") != "/"
            or not isinstance(room, str) or not room.startswith(room_of(""))):
        return None
    data = emit.get("data")
    message = protocol.as_message(data[0] if isinstance(data, list) and len(data) == 1 else data)
    if message is None:
        return None
    return room[len(room_of("")):], message


class OrderedDelivery:
    """Delivers each chat's messages to this process's joined clients once and in order."""

    def __init__(self, store: Store, sio: socketio.AsyncServer,
                 redis_live: Callable[[], bool]) -> None:
        self.store = store
        self.sio = sio
        self.redis_live = redis_live
        self._chats: dict[str, _Chat] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop_task = asyncio.get_running_loop().create_task(self._safety_net())

    async def close(self) -> None:
        tasks = [*self._tasks, *(c.gap_fill for c in self._chats.values() if c.gap_fill)]
        if self._loop_task is not None:
            tasks.append(self._loop_task)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # --- the ways in -------------------------------------------------------------

    async def enter(self, sid: str, chat_id: str, snapshot_seq: int) -> None:
        """Put `sid` in the chat's room; its join answer ended at `snapshot_seq`."""
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat(snapshot_seq, snapshot_seq)
        chat.entering += 1
        try:
            async with chat.lock:
                await self.sio.enter_room(sid, room_of(chat_id))
                if snapshot_seq < chat.delivered:
                    for message in await self._read(chat_id, snapshot_seq, chat.delivered):
                        await self._emit(message, sid)
        finally:
            chat.entering -= 1

    async def route(self, emit: dict[str, Any]) -> bool:
        """The pub/sub manager's hook: True when this delivered (or dropped) the emit."""
        found = chat_of_emit(emit)
        if found is None or found[0] not in self._chats:
            return False
        chat_id, message = found
        chat = self._chats[chat_id]
        async with chat.lock:
            seq = message["seq"]
            if seq <= chat.delivered or seq in chat.held:
                return True
            chat.held[seq] = message
            await self._hand_on(chat_id, chat)
            if chat.held and chat.gap_fill is None:
                chat.gap_fill = asyncio.get_running_loop().create_task(
                    self._fill_gap_later(chat_id, chat))
        return True

    def subscribed(self) -> None:
        """The Redis subscription is (again) live: fill in what it may have missed."""
        task = asyncio.get_running_loop().create_task(self._catch_up_all(after_grace=False))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- delivering ----------------------------------------------------------------

    async def _emit(self, message: Message, to: str) -> None:
        await self.sio.emit(protocol.MESSAGE, message, to=to, ignore_queue=True)

    async def _hand_on(self, chat_id: str, chat: _Chat) -> None:
        """Emit the held messages that continue the unbroken run (chat lock held)."""
        while chat.delivered + 1 in chat.held:
            message = chat.held.pop(chat.delivered + 1)
            chat.delivered += 1
            await self._emit(message, room_of(chat_id))

    async def _fill_gap_later(self, chat_id: str, chat: _Chat) -> None:
        try:
            await asyncio.sleep(GAP_GRACE)
            async with chat.lock:
                if chat.held:
                    logger.debug("chat %s: seq %d missing after %.1f s; reading the database",
                                 chat_id, chat.delivered + 1, GAP_GRACE)
                    try:
                        await self._fill_from_database(chat_id, chat)
                    except Exception as error:
                        # Hand on what is here; clients ask for the hole themselves.
                        logger.warning("could not read chat %s to fill a gap after seq %d: %s",
                                       chat_id, chat.delivered, error)
                        chat.delivered = min(chat.held) - 1
                        await self._hand_on(chat_id, chat)
        finally:
            chat.gap_fill = None

    async def _fill_from_database(self, chat_id: str, chat: _Chat) -> None:
        """Emit every stored message after `delivered`, then what was held (chat lock held)."""
        while True:
            page, has_more = await self.store.messages(chat_id, after_seq=chat.delivered,
                                                       limit=PAGE)
            for message in page:
                if message["seq"] != chat.delivered + 1:
                    break  # not expected (seq has no gaps); the next look goes on
                chat.held.pop(message["seq"], None)
                chat.delivered += 1
                await self._emit(message, room_of(chat_id))
            else:
                await self._hand_on(chat_id, chat)
                if has_more and page:
                    continue
            return

    async def _read(self, chat_id: str, after_seq: int, up_to: int) -> list[Message]:
        found: list[Message] = []
        while after_seq < up_to:
            page, has_more = await self.store.messages(chat_id, after_seq=after_seq, limit=PAGE)
            found += [m for m in page if m["seq"] <= up_to]
            if not page or not has_more:
                break
            after_seq = page[-1]["seq"]
        return found

    # --- the safety net ------------------------------------------------------------

    async def _safety_net(self) -> None:
        while True:
            live = self.redis_live()
            await asyncio.sleep(SAFETY_NET_SECONDS if live else DOWN_POLL_SECONDS)
            try:
                await self._catch_up_all(after_grace=self.redis_live())
            except Exception as error:
                logger.warning("the periodic catch-up from the database failed: %s", error)

    async def _catch_up_all(self, after_grace: bool) -> None:
        """Fill every tracked chat that is behind the database.

        `after_grace`: only chats already behind at the previous look, so that a
        message on its way through Redis is not read from the database too.
        """
        self._forget_empty_rooms()
        last_seqs = await self.store.last_seqs(list(self._chats))
        for chat_id, last_seq in last_seqs.items():
            chat = self._chats.get(chat_id)
            if chat is None:
                continue
            target = chat.seen_last_seq if after_grace else last_seq
            chat.seen_last_seq = last_seq
            if chat.delivered < target:
                async with chat.lock:
                    await self._fill_from_database(chat_id, chat)

    def _forget_empty_rooms(self) -> None:
        """Stop tracking chats none of this process's clients is in any more."""
        manager = self.sio.manager
        for chat_id, chat in list(self._chats.items()):
            if chat.entering or chat.lock.locked() or chat.gap_fill is not None:
                continue
            if next(iter(manager.get_participants("/", room_of(chat_id))), None) is None:
                del self._chats[chat_id]
