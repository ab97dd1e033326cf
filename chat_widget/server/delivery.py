"""With several processes: each joined client of this one gets every message and every
change once, in order.

Messages and changes (protocol 1.1 `message_updated`) made on other processes
come through Redis pub/sub, which delivers at most once: whatever is published
while a subscription is down (a Redis restart, a network blip) is gone. The
database has everything, so this process keeps two ordered tracks for each
chat its clients joined, one of messages by `seq`, one of changes by
`version`, remembers the last position it handed them on each (`delivered`),
and:

- holds a message (or change) that arrives ahead of a missing one; if the
  missing one has not come within GAP_GRACE seconds, it reads the database
  (`messages` after the last seq, or the changes query after the last
  version);
- after every confirmed (re)subscription, reads from the database whatever is
  newer than `delivered`;
- every SAFETY_NET_SECONDS (every DOWN_POLL_SECONDS while Redis is down) reads
  the tracked chats' `last_seq` and `last_version` in one query, and fills
  from the database a track that was already behind at the previous look (so
  one still on its way through Redis is not read for nothing);
- hands a client that joined while a message or change raced past it (its
  join answer ends before `delivered`) the ones in between.

Changes differ from messages in one way: the changes query answers each
changed message once, at its latest version, so the versions a fill hands on
may skip some; those were superseded by a later change of the same message,
and the clients (which see the jump) ask `changes` themselves, as the
protocol says. Cost: per message or change, a dict lookup and an uncontended
lock; per interval, one indexed query over the tracked chats; reads only when
something was really missed. What comes twice (Redis and the database) is
dropped here, so clients see each once.
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
class _Track:
    """One ordered stream of a chat: its messages by `seq`, or its changes by `version`."""

    event: str
    key: str
    delivered: int
    seen_last: int
    held: dict[int, Message] = field(default_factory=dict)
    gap_fill: asyncio.Task[None] | None = None

    @property
    def contiguous(self) -> bool:
        """Messages have no gaps in `seq`; changes read back skip superseded versions."""
        return self.event == protocol.MESSAGE

    def position(self, message: Message) -> int:
        """Where `message` stands on this track: its `seq`, or its `version`."""
        return message["seq"] if self.contiguous else message["version"]


@dataclass
class _Chat:
    """What this process handed the clients of one chat."""

    messages: _Track
    changes: _Track
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    entering: int = 0

    @classmethod
    def at(cls, seq: int, version: int) -> _Chat:
        return cls(_Track(protocol.MESSAGE, "seq", seq, seq),
                   _Track(protocol.MESSAGE_UPDATED, "version", version, version))

    @property
    def tracks(self) -> tuple[_Track, _Track]:
        return self.messages, self.changes

    def track(self, event: str) -> _Track:
        return self.messages if event == protocol.MESSAGE else self.changes


_ROUTED = (protocol.MESSAGE, protocol.MESSAGE_UPDATED)


def chat_of_emit(emit: dict[str, Any]) -> tuple[str, str, Message] | None:
    """(event, chat id, message) when a pub/sub manager's emit is a chat's `message` or
    `message_updated`, else None."""
    room = emit.get("room")
    if (emit.get("event") not in _ROUTED or emit.get("namespace", "/") != "/"
            or not isinstance(room, str) or not room.startswith(room_of(""))):
        return None
    data = emit.get("data")
    message = protocol.as_message(data[0] if isinstance(data, list) and len(data) == 1 else data)
    if message is None:
        return None
    return emit["event"], room[len(room_of("")):], message


class OrderedDelivery:
    """Delivers each chat's messages and changes to this process's joined clients once and
    in order."""

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
        tasks = [*self._tasks, *(track.gap_fill for chat in self._chats.values()
                                 for track in chat.tracks if track.gap_fill)]
        if self._loop_task is not None:
            tasks.append(self._loop_task)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # --- the ways in -------------------------------------------------------------

    async def enter(self, sid: str, chat_id: str, snapshot_seq: int,
                    snapshot_version: int) -> None:
        """Put `sid` in the chat's room; its join answer ended at these seq and version."""
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat.at(snapshot_seq, snapshot_version)
        chat.entering += 1
        try:
            async with chat.lock:
                await self.sio.enter_room(sid, room_of(chat_id))
                for track, snapshot in zip(chat.tracks, (snapshot_seq, snapshot_version),
                                           strict=True):
                    if snapshot < track.delivered:
                        for message in await self._read(chat_id, track, snapshot):
                            await self._emit(track, message, sid)
        finally:
            chat.entering -= 1

    async def route(self, emit: dict[str, Any]) -> bool:
        """The pub/sub manager's hook: True when this delivered (or dropped) the emit."""
        found = chat_of_emit(emit)
        if found is None or found[1] not in self._chats:
            return False
        event, chat_id, message = found
        chat = self._chats[chat_id]
        track = chat.track(event)
        position = message.get(track.key)
        if not isinstance(position, int):
            return False  # a change without a version: from a server before protocol 1.1
        async with chat.lock:
            if position <= track.delivered or position in track.held:
                return True
            track.held[position] = message
            await self._hand_on(chat_id, track)
            if track.held and track.gap_fill is None:
                track.gap_fill = asyncio.get_running_loop().create_task(
                    self._fill_gap_later(chat_id, chat, track))
        return True

    def subscribed(self) -> None:
        """The Redis subscription is (again) live: fill in what it may have missed."""
        task = asyncio.get_running_loop().create_task(self._catch_up_all(after_grace=False))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- delivering ----------------------------------------------------------------

    async def _emit(self, track: _Track, message: Message, to: str) -> None:
        await self.sio.emit(track.event, message, to=to, ignore_queue=True)

    async def _hand_on(self, chat_id: str, track: _Track) -> None:
        """Emit the held ones that continue the unbroken run (chat lock held)."""
        while track.delivered + 1 in track.held:
            message = track.held.pop(track.delivered + 1)
            track.delivered += 1
            await self._emit(track, message, room_of(chat_id))

    async def _fill_gap_later(self, chat_id: str, chat: _Chat, track: _Track) -> None:
        try:
            await asyncio.sleep(GAP_GRACE)
            async with chat.lock:
                if track.held:
                    logger.debug("chat %s: %s %d missing after %.1f s; reading the database",
                                 chat_id, track.key, track.delivered + 1, GAP_GRACE)
                    try:
                        await self._fill_from_database(chat_id, track)
                    except Exception as error:
                        # Hand on what is here; clients ask for the hole themselves.
                        logger.warning("could not read chat %s to fill a gap after %s %d: %s",
                                       chat_id, track.key, track.delivered, error)
                        track.delivered = min(track.held) - 1
                        await self._hand_on(chat_id, track)
        finally:
            track.gap_fill = None

    async def _page_after(self, chat_id: str, track: _Track,
                          after: int) -> tuple[list[Message], bool]:
        if track.contiguous:
            return await self.store.messages(chat_id, after_seq=after, limit=PAGE)
        return await self.store.changes(chat_id, after, PAGE)

    async def _fill_from_database(self, chat_id: str, track: _Track) -> None:
        """Emit everything stored after `delivered`, then what was held (chat lock held)."""
        while True:
            page, has_more = await self._page_after(chat_id, track, track.delivered)
            for message in page:
                position = track.position(message)
                if position <= track.delivered:
                    continue
                if track.contiguous and position != track.delivered + 1:
                    break  # not expected (seq has no gaps); the next look goes on
                # A held change at or before this version is superseded, or this one.
                for stale in [held for held in track.held if held <= position]:
                    del track.held[stale]
                track.delivered = position
                await self._emit(track, message, room_of(chat_id))
            else:
                await self._hand_on(chat_id, track)
                if has_more and page:
                    continue
            return

    async def _read(self, chat_id: str, track: _Track, after: int) -> list[Message]:
        """What lies after `after` up to `delivered`, for a joiner that missed it."""
        found: list[Message] = []
        up_to = track.delivered
        while after < up_to:
            page, has_more = await self._page_after(chat_id, track, after)
            found += [m for m in page if track.position(m) <= up_to]
            if not page or not has_more:
                break
            after = track.position(page[-1])
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
        """Fill every tracked chat whose messages or changes are behind the database.

        `after_grace`: only tracks already behind at the previous look, so that
        one on its way through Redis is not read from the database too.
        """
        self._forget_empty_rooms()
        positions = await self.store.last_positions(list(self._chats))
        for chat_id, lasts in positions.items():
            chat = self._chats.get(chat_id)
            if chat is None:
                continue
            for track, last in zip(chat.tracks, lasts, strict=True):
                target = track.seen_last if after_grace else last
                track.seen_last = last
                if track.delivered < target:
                    async with chat.lock:
                        await self._fill_from_database(chat_id, track)

    def _forget_empty_rooms(self) -> None:
        """Stop tracking chats none of this process's clients is in any more."""
        manager = self.sio.manager
        for chat_id, chat in list(self._chats.items()):
            busy = any(track.gap_fill is not None for track in chat.tracks)
            if chat.entering or chat.lock.locked() or busy:
                continue
            if next(iter(manager.get_participants("/", room_of(chat_id))), None) is None:
                del self._chats[chat_id]
