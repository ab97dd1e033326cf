"""Who is here, who is typing, what was read (protocol 1.1): the events around the messages.

The event handlers call this for joins, leaves and drops (`presence`),
`typing` and `mark_read` (`read`), and the service tells it of every stored
message (`chat_activity` to every member of the workspace, and the end of
the sender's typing). State lives behind `Presence` (this process's memory,
or Redis shared by every process); read markers live in the database.

`chat_activity` carries per-user unread counts for all members of the
workspace (`member_counts.ActivityCounts`: carried forward from the last
event's where nothing else moved, else read in one query). Every stored
message gets its own event, as the protocol says. One task per chat tells
of its messages in seq order; those that arrived together (a group commit's)
share one read of the counts, each event with the counts up to its own
message, so a member's counts never go backwards.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import socketio

from .. import protocol
from ..errors import ChatError
from ..protocol import Message
from .member_counts import ActivityCounts
from .presence import Presence
from .rooms import room_of, user_room
from .service import ChatService
from .store import User
from .unread import MemberCounts

logger = logging.getLogger(__name__)


class Activity:
    """Presence, typing, read markers and chat activity, as broadcasts over Socket.IO."""

    def __init__(self, sio: socketio.AsyncServer, service: ChatService, presence: Presence,
                 chat_activity: bool = True) -> None:
        self.sio = sio
        self.service = service
        self.presence = presence
        self.chat_activity = chat_activity
        self.counts = ActivityCounts(service.store)
        # Told at the commit, in seq order, before any read can show the message.
        service.store.on_created = self.message_stored
        self._waiting: dict[str, list[Message]] = {}  # chat_id -> messages not yet told of
        self._telling: dict[str, asyncio.Task[None]] = {}  # chat_id -> the task telling them
        self._tasks: set[asyncio.Task[None]] = set()
        presence.typing_ended = self._typing_ended
        presence.presence_changed = self._presence_changed

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.presence.close()

    # --- connections and joins ---------------------------------------------------

    async def connected(self, sid: str, user: User) -> None:
        """Every connection sits in its user's room: `chat_activity` reaches it joined or not."""
        await self.sio.enter_room(sid, user_room(user.id))

    async def joined(self, sid: str, user: User, chat_id: str) -> dict[str, Any]:
        """Count the connection present; the join's ack adds `present` (and `typing`)."""
        change = await self.presence.enter(chat_id, sid, user)
        if change.changed:
            await self._emit_presence(chat_id, change.users)
        typing = [other for other in await self.presence.typing_users(chat_id)
                  if other["id"] != user.id]  # as `typing` events skip the user's own
        return {"present": change.users, "typing": typing}

    async def left(self, sid: str, user: User, chat_id: str) -> None:
        """The connection left the chat or dropped: maybe the user is gone, and its typing."""
        change = await self.presence.exit(chat_id, sid, user)
        if change.user_gone and await self.presence.stop_typing(chat_id, user.id):
            await self._emit_typing(chat_id, user, False)
        if change.changed:
            await self._emit_presence(chat_id, change.users)

    # --- typing ------------------------------------------------------------------

    async def typing(self, user: User, payload: dict[str, Any], joined: set[str]) -> None:
        """`typing`: start (repeatable; broadcast at most once a second) or stop."""
        chat_id = protocol.require_text(payload.get("chat_id"), "chat_id")
        typing = protocol.require_bool(payload.get("typing"), "typing")
        if chat_id not in joined:  # a joined chat was checked at its join: no database here
            await self.service.joined_chat(user, chat_id, joined)  # raises the precise refusal
        if typing:
            if await self.presence.start_typing(chat_id, user):
                await self._emit_typing(chat_id, user, True)
        elif await self.presence.stop_typing(chat_id, user.id):
            await self._emit_typing(chat_id, user, False)

    async def _typing_ended(self, chat_id: str, user: User) -> None:
        await self._emit_typing(chat_id, user, False)

    async def _emit_typing(self, chat_id: str, user: User, typing: bool) -> None:
        own = await self.presence.connections(chat_id, user.id)
        await self.sio.emit(protocol.TYPING, {"chat_id": chat_id, "user": user.as_sender(),
                                              "typing": typing},
                            room=room_of(chat_id), skip_sid=own or None)

    async def _emit_presence(self, chat_id: str, users: list[protocol.User]) -> None:
        await self.sio.emit(protocol.PRESENCE, {"chat_id": chat_id, "users": users},
                            room=room_of(chat_id))

    async def _presence_changed(self, chat_id: str, users: list[protocol.User]) -> None:
        await self._emit_presence(chat_id, users)

    # --- read markers ----------------------------------------------------------------

    async def mark_read(self, user: User, payload: dict[str, Any],
                        joined: set[str]) -> dict[str, Any]:
        """`mark_read`: forward only; a move is told to the room (`read`) and to every
        connection of the user (`chat_activity`)."""
        chat_id = protocol.require_text(payload.get("chat_id"), "chat_id")
        seq = protocol.optional_int(payload.get("seq"), "seq")
        if seq is None:
            raise ChatError("seq is required", code="bad_request")
        await self.service.joined_chat(user, chat_id, joined)
        marker, moved = await self.service.store.mark_read(chat_id, user.id, seq)
        if moved:
            await self.sio.emit(protocol.READ, {"chat_id": chat_id, "user_id": user.id,
                                                "last_read_seq": marker},
                                room=room_of(chat_id))
            chat = await self.service.store.chat_for_reader(
                await self.service.open_chat(user, chat_id, fresh=True), user.id)
            await self._emit_activity_to(user.id, chat_id, chat["last_seq"], chat)
        return {"last_read_seq": marker}

    # --- chat activity -------------------------------------------------------------------

    def message_stored(self, message: Message) -> None:
        """A new message: its sender stops typing, the workspace hears of the activity.

        Called as the commit that created it returns (`Store.on_created`), so in
        seq order: told after its broadcast instead, a send whose broadcast had to
        wait (a receiver's queue) let a later send's event go first. Each chat's
        messages wait in a list that one task per chat works through
        (`_tell_chat`); messages that arrive while it is busy (a group commit's,
        or a burst's) are taken together, so their events share one read of the
        counts, and go out in seq order, one event per message.
        """
        if self.chat_activity:
            self.counts.stored(message)
        chat_id = message["chat_id"]
        self._waiting.setdefault(chat_id, []).append(message)
        if chat_id not in self._telling:
            self._telling[chat_id] = self._spawn(self._tell_chat(chat_id))

    async def _tell_chat(self, chat_id: str) -> None:
        # One pass of the loop first: the senders woken by the same commit
        # broadcast their messages before their events go out.
        await asyncio.sleep(0)
        try:
            while waiting := self._waiting.pop(chat_id, None):
                try:
                    await self._tell(chat_id, sorted(waiting, key=lambda m: m["seq"]))
                except Exception:
                    logger.exception("telling the chat's members of new messages failed")
        finally:
            del self._telling[chat_id]
            self.counts.idle(chat_id)  # an idle chat keeps none of its messages

    async def _tell(self, chat_id: str, messages: list[Message]) -> None:
        for message in messages:
            sender = message["sender"]
            if sender["kind"] == "user" and await self.presence.stop_typing(chat_id,
                                                                            sender["id"]):
                await self._emit_typing(chat_id, User(sender["id"], sender["name"],
                                                      sender["kind"]), False)
        if self.chat_activity:
            steps = await self.counts.for_each(chat_id, [m["seq"] for m in messages])
            for counts in steps:
                await self._emit_activity(chat_id, counts)

    async def _emit_activity(self, chat_id: str, counts: MemberCounts) -> None:
        """One `chat_activity` per member, with its own counts: one batch for the manager
        (over Redis, one pub/sub message for the workspace, not one per member)."""
        await self.sio.manager.emit_each(protocol.CHAT_ACTIVITY, [
            (user_room(user_id), _activity(chat_id, counts.last_seq, fields))
            for user_id, fields in counts.members.items()])

    async def _emit_activity_to(self, user_id: str, chat_id: str, last_seq: int,
                                fields: Any) -> None:
        await self.sio.emit(protocol.CHAT_ACTIVITY, _activity(chat_id, last_seq, fields),
                            room=user_room(user_id))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self._logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @staticmethod
    async def _logged(work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:
            logger.exception("telling the chat's members of a new message failed")


def _activity(chat_id: str, last_seq: int, fields: Any) -> dict[str, Any]:
    """A `chat_activity` payload: the chat's last seq and one member's counts."""
    return {"chat_id": chat_id, "last_seq": last_seq, "unread": fields["unread"],
            "unread_mentions": fields["unread_mentions"],
            "last_read_seq": fields["last_read_seq"]}
