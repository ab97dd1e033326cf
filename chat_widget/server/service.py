"""The chat service: what the protocol means, independent of HTTP and Socket.IO.

Routes and event handlers are thin adapters over this class: each checks its
transport's framing, then calls one method here. Every refusal is a
`ChatError` carrying the protocol's error code.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from .. import protocol
from ..errors import ChatError
from ..protocol import Chat, Me, Message, MessageAuth, Page, Part
from . import changes, search
from .auth import MessageAuthSigner
from .files import resolve_file_parts
from .limits import RateLimiter
from .responders import Responder, ResponderRunner
from .store import Change, Store, User

logger = logging.getLogger(__name__)

Broadcast = Callable[[str, Mapping[str, Any], str], Awaitable[None]]


def bot_user(responder: str) -> User:
    """The bot that speaks for a responder (one given as module:function by its function)."""
    return User(f"bot:{responder}", responder.rpartition(":")[2], "bot")


class ChatService:
    """Checks, stores and fans out messages; asks responders for answers."""

    def __init__(self, store: Store, signer: MessageAuthSigner, broadcast: Broadcast,
                 rate_limiter: RateLimiter, responder_timeout: float = 60.0) -> None:
        self.store = store
        self.signer = signer
        self._broadcast = broadcast
        self.rate_limiter = rate_limiter
        self.responders = ResponderRunner(
            self._emit_delta, self._store_answer, self._emit_failure, responder_timeout)
        self._bots: dict[str, User] = {}

    # --- who and what ----------------------------------------------------------

    async def authenticate(self, token: Any) -> User:
        if not isinstance(token, str) or not token or len(token) > 1000:
            raise ChatError("a bearer token is required", code="unauthorized")
        user = await self.store.user_by_token(token)
        if user is None or user.kind != "user":
            raise ChatError("the token is not known to this server", code="unauthorized")
        return user

    async def me(self, user: User) -> Me:
        workspaces = await self.store.user_workspaces(user.id)
        return {"id": user.id, "name": user.name, "workspaces": workspaces}

    async def chats(self, user: User) -> list[Chat]:
        return await self.store.chats_for_user(user.id)

    async def open_chat(self, user: User, chat_id: Any, fresh: bool = False) -> Chat:
        """The chat, if it exists (`not_found`) and the user may open it (`forbidden`).

        `fresh` reads it from the database, for answers that show `last_seq`.
        """
        chat_id = protocol.require_text(chat_id, "chat_id")
        chat = await self.store.chat(chat_id, fresh=fresh)
        if chat is None:
            raise ChatError(f"there is no chat {chat_id!r}", code="not_found")
        if not await self.store.is_member(user.id, chat["workspace_id"]):
            raise ChatError("you are not a member of this chat's workspace", code="forbidden")
        return chat

    async def members(self, user: User, chat_id: Any) -> list[protocol.User]:
        """The chat's workspace's people, and the chat's bot if it has one."""
        chat = await self.open_chat(user, chat_id, fresh=True)
        people = await self.store.workspace_users(chat["workspace_id"])
        bots = [bot_user(chat["responder"])] if chat["responder"] else []
        return [member.as_sender() for member in [*people, *bots]]

    # --- reading -----------------------------------------------------------------

    async def history(self, user: User, chat_id: Any, before_seq: Any = None,
                      after_seq: Any = None, limit: Any = None) -> Page:
        chat = await self.open_chat(user, chat_id)
        before = protocol.optional_int(before_seq, "before_seq")
        after = protocol.optional_int(after_seq, "after_seq")
        page, has_more = await self.store.messages(
            chat["id"], before, after, protocol.history_limit(limit))
        return {"messages": page, "has_more": has_more}

    async def join(self, user: User, chat_id: Any, after_seq: Any = None,
                   after_version: Any = None) -> dict[str, Any]:
        """The chat, its latest messages (or those after `after_seq`), and, with
        `after_version`, the messages changed since (protocol 1.1)."""
        after = protocol.optional_int(after_seq, "after_seq")
        since = protocol.optional_int(after_version, "after_version")
        chat = await self.store.chat_for_reader(
            await self.open_chat(user, chat_id, fresh=True), user.id)
        limit = protocol.DEFAULT_HISTORY_LIMIT if after is None else protocol.JOIN_CATCH_UP_LIMIT
        page, has_more = await self.store.messages(chat["id"], after_seq=after, limit=limit)
        answer = {"chat": chat, "messages": page, "has_more": has_more}
        if since is not None:
            updated, more = await self.store.changes(
                chat["id"], since, protocol.JOIN_CATCH_UP_LIMIT)
            answer.update(updated=updated, has_more_updates=more)
        return answer

    async def changes(self, user: User, chat_id: Any, after_version: Any, limit: Any = None,
                      joined: set[str] | None = None) -> dict[str, Any]:
        """A page of the messages changed after `after_version` (the `changes` event
        passes the connection's joined chats; the HTTP route needs none)."""
        since = protocol.optional_int(after_version, "after_version")
        if since is None:
            raise ChatError("after_version is required", code="bad_request")
        page_limit = protocol.history_limit(limit)
        if joined is None:
            chat = await self.open_chat(user, chat_id)
        else:
            chat = await self.joined_chat(user, chat_id, joined)
        page, has_more = await self.store.changes(chat["id"], since, page_limit)
        return {"messages": page, "has_more": has_more}

    async def search(self, user: User, q: Any, chat_id: Any = None,
                     limit: Any = None) -> list[Message]:
        """Live messages holding every word of `q`, best first (protocol 1.1), in the
        chats the user may open, or in `chat_id` alone."""
        words = search.query_words(q)
        page_limit = search.search_limit(limit)
        if chat_id is not None:
            chat_id = (await self.open_chat(user, chat_id))["id"]
        try:
            await self.store.catch_up_search(user.id, chat_id)  # SQLite indexes in batches
        except ChatError as error:  # a full disk: a search still answers from what is indexed
            logger.warning("search without the newest messages: %s", error.message)
        return await self.store.db.read_pages(search.find_messages, words, user.id, chat_id,
                                              page_limit)

    # --- writing -----------------------------------------------------------------

    async def issue_auth(self, user: User, chat_id: Any) -> MessageAuth:
        chat = await self.open_chat(user, chat_id)
        auth, expires_at = self.signer.issue(user.id, chat["id"])
        return {"auth": auth, "chat_id": chat["id"], "expires_at": expires_at}

    async def joined_chat(self, user: User, chat_id: Any, joined: set[str]) -> Chat:
        """The chat, which this connection must have joined (`not_joined`)."""
        chat = await self.open_chat(user, chat_id)
        if chat["id"] not in joined:
            raise ChatError("join the chat first", code="not_joined")
        return chat

    async def send(self, user: User, payload: dict[str, Any], joined: set[str]) -> Message:
        """The protocol's `send_message`: validate, authorise, store once, broadcast."""
        chat_id = protocol.require_text(payload.get("chat_id"), "chat_id")
        text = protocol.message_text(payload.get("text"))
        parts = protocol.message_parts(payload.get("parts"))
        client_id = payload.get("client_id")
        if client_id is not None:
            client_id = protocol.require_text(
                client_id, "client_id", protocol.MAX_CLIENT_ID_LENGTH)
        protocol.check_message_size(payload)
        chat = await self.joined_chat(user, chat_id, joined)
        verified = self.signer.verify(payload.get("auth"), user.id, chat_id)
        parts = await resolve_file_parts(self.store, user.id, chat_id, parts)
        self.rate_limiter.check(user.id)
        message, created = await self.store.store_message(
            chat_id, user, text, parts, client_id=client_id,
            auth_nonce=verified.nonce, auth_expires_at=verified.expires_at)
        if created:
            await self._broadcast(protocol.MESSAGE, message, chat_id)
            if chat["responder"]:
                self.responders.answer(chat["responder"], message)
        return message

    # --- changing a stored message (protocol 1.1) ------------------------------------

    async def edit(self, user: User, payload: dict[str, Any], joined: set[str]) -> Message:
        """`edit_message`: the send's checks (content, join, a fresh authorization
        string, rate), then the new text in place. No responder answers an edit."""
        chat_id, message_id = self._target(payload)
        text = protocol.message_text(payload.get("text"))
        parts = payload.get("parts")
        parts = None if parts is None else protocol.message_parts(parts)
        protocol.check_message_size(payload)
        await self.joined_chat(user, chat_id, joined)
        verified = self.signer.verify(payload.get("auth"), user.id, chat_id)
        if parts is not None:
            parts = await resolve_file_parts(self.store, user.id, chat_id, parts)
        change = functools.partial(changes.edit, user_id=user.id, text=text, parts=parts)
        return await self._change(user, chat_id, message_id, change, verified.nonce,
                                  verified.expires_at)

    async def delete(self, user: User, payload: dict[str, Any],
                     joined: set[str]) -> Message:
        """`delete_message`: the sender turns the message into a tombstone."""
        chat_id, message_id = self._target(payload)
        await self.joined_chat(user, chat_id, joined)
        return await self._change(user, chat_id, message_id,
                                  functools.partial(changes.delete, user_id=user.id))

    async def react(self, user: User, payload: dict[str, Any], joined: set[str]) -> Message:
        """`react`: add or take back this user's emoji on a message."""
        chat_id, message_id = self._target(payload)
        emoji = protocol.reaction_emoji(payload.get("emoji"))
        on = protocol.require_bool(payload.get("on"), "on")
        await self.joined_chat(user, chat_id, joined)
        return await self._change(user, chat_id, message_id,
                                  functools.partial(changes.react, user_id=user.id,
                                                    emoji=emoji, on=on))

    @staticmethod
    def _target(payload: dict[str, Any]) -> tuple[str, str]:
        return (protocol.require_text(payload.get("chat_id"), "chat_id"),
                protocol.require_text(payload.get("id"), "id"))

    async def _change(self, user: User, chat_id: str, message_id: str, change: Change,
                      auth_nonce: str | None = None,
                      auth_expires_at: float = 0.0) -> Message:
        """Rate-check, store the change, and broadcast it if something changed."""
        self.rate_limiter.check(user.id)
        message, changed = await self.store.change_message(
            chat_id, message_id, change, auth_nonce, auth_expires_at)
        if changed:
            await self._broadcast(protocol.MESSAGE_UPDATED, message, chat_id)
        return message

    def register_responder(self, name: str, responder: Responder) -> None:
        self.responders.register(name, responder)

    # --- responder outcomes --------------------------------------------------------

    async def _bot(self, name: str) -> User:
        bot = self._bots.get(name)
        if bot is None:
            # A responder given as module:function is shown by its function's name.
            bot = bot_user(name)
            await self.store.ensure_user(bot.id, bot.name, None, "bot")
            self._bots[name] = bot
        return bot

    async def _emit_delta(self, question: Message, reply_id: str, index: int,
                          delta: str) -> None:
        await self._broadcast(protocol.MESSAGE_DELTA, {
            "chat_id": question["chat_id"], "id": reply_id, "reply_to": question["id"],
            "index": index, "delta": delta}, question["chat_id"])

    async def _store_answer(self, question: Message, name: str, reply_id: str,
                            result: Any) -> None:
        text, parts = answer_content(result)
        message, _ = await self.store.store_message(
            question["chat_id"], await self._bot(name), text, parts,
            reply_to=question["id"], message_id=reply_id)
        await self._broadcast(protocol.MESSAGE, message, question["chat_id"])

    async def _emit_failure(self, question: Message, code: str, message: str) -> None:
        await self._broadcast(protocol.REPLY_FAILED, {
            "chat_id": question["chat_id"], "reply_to": question["id"],
            "error": protocol.error_payload(code, message)}, question["chat_id"])


def answer_content(result: Any) -> tuple[str, list[Part]]:
    """Turn what a responder returned into checked (text, parts)."""
    if isinstance(result, str):
        return protocol.message_text(result), []
    if isinstance(result, dict):
        text = protocol.message_text(result.get("text", ""))
        return text, protocol.message_parts(result.get("parts"))
    if result is None:
        return "", []
    return protocol.message_text(str(result)), []
