"""One handler per Socket.IO event of the protocol.

Each handler answers through its acknowledgement: `{"ok": true, ...}` or
`{"ok": false, "error": {...}}`. Refusals carry the protocol's code; anything
unexpected is logged (never with tokens or authorization strings) and
answered `internal`, and the connection stays up.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import socketio

from .. import protocol
from ..errors import ChatError
from ..protocol import Message
from .activity import Activity
from .limits import ConnectionLimiter
from .membership_watch import MembershipWatch
from .rooms import room_of
from .service import ChatService

logger = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], Awaitable[Mapping[str, Any]]]
# Puts a connection in a chat's room: (sid, chat_id, and the last seq and the last
# version its join answer covered).
Enter = Callable[[str, str, int, int], Awaitable[None]]
# A service method that writes a message: (user, payload, chats joined) -> message.
Write = Callable[[Any, dict[str, Any], set[str]], Awaitable[Message]]


def acknowledged(handler: Handler) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Turn a handler's result or ChatError into the protocol's ack object."""

    @functools.wraps(handler)
    async def wrapper(sid: str, payload: Any = None, *_extra: Any) -> dict[str, Any]:
        try:
            result = await handler(sid, protocol.require_object(payload))
        except ChatError as error:
            logger.info("%s refused: %s", handler.__name__, error.code)
            return protocol.failed_ack(error.code, error.message, **error.details)
        except Exception:
            logger.exception("unexpected error in %s", handler.__name__)
            return protocol.failed_ack("internal", "the server could not handle this request")
        return {"ok": True, **result}

    return wrapper


def register_events(sio: socketio.AsyncServer, service: ChatService, activity: Activity,
                    connections: ConnectionLimiter, enter: Enter | None = None,
                    watch: MembershipWatch | None = None) -> None:
    """Attach the protocol's event handlers to a Socket.IO server.

    `enter` replaces the plain room entry on join (the several-process fan-out
    uses it to hand the joiner anything that raced past its join answer).
    `watch` is told of every join, leave and drop, and takes a connection out of
    a chat (as its `leave` would) once its user is no member of the workspace.
    """

    async def enter_room(sid: str, chat_id: str, _snapshot_seq: int,
                         _snapshot_version: int) -> None:
        await sio.enter_room(sid, room_of(chat_id))

    enter = enter or enter_room

    # Per-connection state lives in this process: the user and the chats joined.
    sessions: dict[str, tuple[Any, set[str]]] = {}

    def session(sid: str) -> tuple[Any, set[str]]:
        found = sessions.get(sid)
        if found is None:
            raise ChatError("this connection is not authenticated", code="unauthorized")
        return found

    async def leave_chat(sid: str, user: Any, joined: set[str], chat_id: str) -> None:
        joined.discard(chat_id)
        if watch is not None:
            watch.left(sid, chat_id)
        await sio.leave_room(sid, room_of(chat_id))
        await activity.left(sid, user, chat_id)

    async def no_member_now(sid: str, chat_id: str) -> None:
        found = sessions.get(sid)
        if found is not None and chat_id in found[1]:
            await leave_chat(sid, found[0], found[1], chat_id)

    if watch is not None:
        watch.leave = no_member_now

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            user = await service.authenticate(token)
            connections.open(user.id)
        except ChatError as error:
            logger.info("connection refused: %s", error.code)
            # The error packet's `data` is the protocol's Error object; its
            # `message` is the plain sentence socket.io clients show.
            raise socketio.exceptions.ConnectionRefusedError(
                error.message, protocol.error_payload(error.code, error.message)) from None
        sessions[sid] = (user, set())
        await activity.connected(sid, user)
        logger.info("%s connected (%s)", user.id, sid)

    @sio.event
    async def disconnect(sid: str, *_reason: Any) -> None:
        found = sessions.pop(sid, None)
        if watch is not None:
            watch.disconnected(sid)
        if found is not None:
            user, joined = found
            connections.close(user.id)
            logger.info("%s disconnected (%s)", user.id, sid)
            for chat_id in sorted(joined):
                try:
                    await activity.left(sid, user, chat_id)
                except Exception:
                    logger.exception("could not count %s out of chat %s", user.id, chat_id)

    @sio.on(protocol.JOIN)
    @acknowledged
    async def join(sid: str, payload: dict[str, Any]) -> Mapping[str, Any]:
        user, joined = session(sid)
        result = await service.join(user, payload.get("chat_id"), payload.get("after_seq"),
                                    payload.get("after_version"))
        chat_id = result["chat"]["id"]
        snapshot_seq = max([result["chat"]["last_seq"], *(m["seq"] for m in result["messages"])])
        # The chat was read before its messages: changes after its last_version may be
        # in the answer or not, so the joiner counts as having seen none of them.
        await enter(sid, chat_id, snapshot_seq, result["chat"]["last_version"])
        joined.add(chat_id)
        if watch is not None:
            watch.joined(sid, user.id, result["chat"]["workspace_id"], chat_id)
        return {**result, **await activity.joined(sid, user, chat_id)}

    @sio.on(protocol.LEAVE)
    @acknowledged
    async def leave(sid: str, payload: dict[str, Any]) -> Mapping[str, Any]:
        user, joined = session(sid)
        chat_id = protocol.require_text(payload.get("chat_id"), "chat_id")
        if chat_id not in joined:
            raise ChatError("this chat was not joined", code="not_joined")
        await leave_chat(sid, user, joined, chat_id)
        return {}

    @sio.on(protocol.HISTORY)
    @acknowledged
    async def history(sid: str, payload: dict[str, Any]) -> Mapping[str, Any]:
        user, _joined = session(sid)
        return await service.history(user, payload.get("chat_id"), payload.get("before_seq"),
                                     payload.get("after_seq"), payload.get("limit"))

    def answering_message(event: str, write: Write) -> Handler:
        """A handler for an event that writes one message and acks it as stored."""

        async def handler(sid: str, payload: dict[str, Any]) -> Mapping[str, Any]:
            user, joined = session(sid)
            return {"message": await write(user, payload, joined)}

        handler.__name__ = event
        return handler

    for event, write in ((protocol.SEND_MESSAGE, service.send),
                         (protocol.EDIT_MESSAGE, service.edit),
                         (protocol.DELETE_MESSAGE, service.delete),
                         (protocol.REACT, service.react)):
        sio.on(event, acknowledged(answering_message(event, write)))

    @sio.on(protocol.CHANGES)
    @acknowledged
    async def changes(sid: str, payload: dict[str, Any]) -> Mapping[str, Any]:
        user, joined = session(sid)
        return await service.changes(user, payload.get("chat_id"), payload.get("after_version"),
                                     payload.get("limit"), joined)

    @sio.on(protocol.TYPING)
    @acknowledged
    async def typing(sid: str, payload: dict[str, Any]) -> Mapping[str, Any]:
        user, joined = session(sid)
        await activity.typing(user, payload, joined)
        return {}

    @sio.on(protocol.MARK_READ)
    @acknowledged
    async def mark_read(sid: str, payload: dict[str, Any]) -> Mapping[str, Any]:
        user, joined = session(sid)
        return await activity.mark_read(user, payload, joined)

    @sio.on("*")
    async def unknown_event(event: str, sid: str, *_args: Any) -> dict[str, Any]:
        return protocol.failed_ack("bad_request", f"unknown event {event!r}")
