"""ChatClient's protocol 1.1 awareness: who is here, who is typing, what was read.

A mixin of `ChatClient` (session.py), kept apart so the session module stays
about chats and messages. Its state is `LiveState` (live.py, no I/O); the
calls go out through the session's connection and HTTP side, under the
client's one lock, and what the server says comes in through the four event
handlers at the end, which the session registers with its connection.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from .. import protocol
from ..errors import ChatError, NotConnectedError
from ..protocol import Chat, Message
from .connection import Connection
from .http import HttpApi
from .live import LiveState, unread_mention
from .message_log import MessageLog
from .threads import Listeners


class Awareness:
    """Presence, typing, read markers and unread counts on a ChatClient."""

    # The session's state this part reads and changes (set by ChatClient.__init__).
    _changed: threading.Condition
    _connection: Connection
    _http: HttpApi
    _listeners: Listeners
    _chats: dict[str, Chat]
    _logs: dict[str, MessageLog]
    _chat_id: str | None
    _live: LiveState
    _me_id: str | None

    def _resolve_chat(self, chat_id: str | None) -> str:
        raise NotImplementedError  # ChatClient's

    # -- state ------------------------------------------------------------

    @property
    def present(self) -> list[protocol.User]:
        """The users with a connection joined to the session's chat now (you included)."""
        with self._changed:
            return self._live.present(self._chat_id)

    @property
    def typing_users(self) -> list[protocol.User]:
        """The other users typing in the session's chat now."""
        with self._changed:
            return self._live.typing_users(self._chat_id)

    # -- listeners ----------------------------------------------------------

    def on_presence(
        self, callback: Callable[[str, list[protocol.User]], Any]
    ) -> Callable[[], None]:
        """Call `callback(chat_id, users)` whenever who is present in a joined chat changes."""
        return self._listeners.add("presence", callback)

    def on_typing(
        self, callback: Callable[[str, protocol.User, bool], Any]
    ) -> Callable[[], None]:
        """Call `callback(chat_id, user, typing)` when another user starts or stops typing."""
        return self._listeners.add("typing", callback)

    def on_activity(
        self, callback: Callable[[protocol.ChatActivity], Any]
    ) -> Callable[[], None]:
        """Call `callback(payload)` for each `chat_activity`: a chat's last seq and your
        unread counts there, for every chat of your workspaces, joined or not."""
        return self._listeners.add("activity", callback)

    def on_read(self, callback: Callable[[protocol.Read], Any]) -> Callable[[], None]:
        """Call `callback(payload)` when someone's read marker moves in a joined chat."""
        return self._listeners.add("read", callback)

    # -- requests -----------------------------------------------------------

    def set_typing(self, typing: bool, chat_id: str | None = None) -> None:
        """Tell the chat's other users you are typing (repeat about every 3 s) or stopped.

        The server ends it by itself 6 s after the last `set_typing(True)`, and
        when your message is stored there.
        """
        with self._changed:
            chat_id = self._resolve_chat(chat_id)
            self._connection.call(protocol.TYPING, {"chat_id": chat_id, "typing": bool(typing)})

    def mark_read(self, seq: int | None = None, chat_id: str | None = None) -> int:
        """Move your read marker to `seq` (default: the latest message the client has)
        and return the marker; it never moves back. A `seq` beyond the chat's last
        raises `ChatError` (bad_request)."""
        with self._changed:
            chat_id = self._resolve_chat(chat_id)
            if seq is None:
                log = self._logs.get(chat_id)
                held = log.messages() if log else []
                seq = held[-1]["seq"] if held else 0
            ack = self._connection.call(protocol.MARK_READ, {"chat_id": chat_id, "seq": seq})
            marker = int(ack.get("last_read_seq") or 0)
            chat = self._chats.get(chat_id)
            if chat is not None:
                chat["last_read_seq"] = max(marker, chat.get("last_read_seq", 0))
            return marker

    def chats(self) -> list[Chat]:
        """Your chats with `last_read_seq`, `unread` and `unread_mentions`, kept up to
        date by `chat_activity` (fetched from `GET /api/chats` the first time, and
        again after a reconnect)."""
        with self._changed:
            known = self._live.chat_list
            asked_at = self._live.mark()
        if known is not None:
            return known
        fetched = self._http.chats()
        with self._changed:
            self._live.take_chat_list(fetched, asked_at)
            return self._live.chat_list or []

    def members(self, chat_id: str | None = None) -> list[protocol.User]:
        """The users of the chat's workspace, and its bot if it has one."""
        with self._changed:
            chat_id = chat_id or self._chat_id
        if chat_id is None:
            raise ChatError("no chat yet: join() one or pass chat_id", code="bad_request")
        return self._http.members(chat_id)

    def wait_for_mention(self, timeout: float | None = None) -> Message:
        """Wait for a message of a joined chat that mentions you (`@your_id`) and return it:
        the oldest one still unread (after your read marker), or the next to arrive.

        Raises `ChatError` (code timeout) when `timeout` seconds pass first.
        """
        me = self._my_id()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while True:
                logs = {chat_id: log.messages() for chat_id, log in self._logs.items()}
                found = unread_mention(logs, self._chats, me)
                if found is not None:
                    break
                if self._connection.closed:
                    raise NotConnectedError("this client was closed")
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise ChatError(f"no message mentioned you within {timeout:g} s",
                                    code="timeout")
                self._changed.wait(remaining)
        self._listeners.drain()
        return found

    def _my_id(self) -> str:
        if self._me_id is None:
            self._me_id = self._http.me()["id"]
        return self._me_id

    # -- server events (on Socket.IO threads) ---------------------------------

    def _on_presence_event(self, payload: Any) -> None:
        with self._changed:
            if isinstance(payload, dict) and payload.get("chat_id") in self._chats:
                found = self._live.presence(payload)
                if found is not None:
                    self._listeners.fire("presence", *found)

    def _on_typing_event(self, payload: Any) -> None:
        with self._changed:
            if isinstance(payload, dict) and payload.get("chat_id") in self._chats:
                found = self._live.typing(payload)
                if found is not None:
                    self._listeners.fire("typing", *found)

    def _on_read_event(self, payload: Any) -> None:
        with self._changed:
            found = self._live.read(payload)
            if found is not None and found["chat_id"] in self._chats:
                self._listeners.fire("read", found)

    def _on_activity_event(self, payload: Any) -> None:
        with self._changed:
            found = self._live.activity(payload, self._chats)
            if found is not None:
                self._listeners.fire("activity", found)
                self._changed.notify_all()
