"""The widget's mirror of protocol 1.1's live state: who is here, who types, what is unread.

A mixin of ChatWidget. Its traits hold what the front end draws (present
users, users typing, the user's chats with their unread and mention counts,
the shown chat's members and read marker); the ChatClient's callbacks keep
them current. The front end tells the kernel that the user types and which
messages were seen (custom messages `typing` and `read`, no answer: both are
hints, repeated soon anyway); worker threads make the calls, so a slow server
never holds the kernel's shell thread.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import traitlets

from . import protocol
from .client import ChatClient
from .errors import ChatError


class LiveState(traitlets.HasTraits):
    """Presence, typing, unread counts and members, as synced traits (see docs/widget.md)."""

    present = traitlets.List(
        traitlets.Dict(), help="Users with a connection joined to the shown chat (protocol User)."
    ).tag(sync=True)
    typing = traitlets.List(
        traitlets.Dict(), help="Other users typing in the shown chat now (protocol User)."
    ).tag(sync=True)
    chats = traitlets.List(
        traitlets.Dict(),
        help="The user's chats: id, title, last_seq, last_read_seq, unread, unread_mentions.",
    ).tag(sync=True)
    members = traitlets.List(
        traitlets.Dict(), help="The shown chat's members, offered after `@` in the input."
    ).tag(sync=True)
    last_read_seq = traitlets.Int(
        0, help="The user's read marker in the shown chat (the highest seq marked read)."
    ).tag(sync=True)

    client: ChatClient
    chat_id: str
    user_id: str

    def _start_live(self) -> list[Any]:
        """Work threads, and the client callbacks that keep the traits current (their removers)."""
        self._live_lock = threading.Lock()
        self._typing_by_chat: dict[str, dict[str, protocol.User]] = {}
        self._hints = ThreadPoolExecutor(1, thread_name_prefix="chat-widget-hints")
        removers = [
            self.client.on_presence(self._on_presence),
            self.client.on_typing(self._on_typing),
            self.client.on_activity(self._on_activity),
            self.client.on_read(self._on_read),
        ]
        self._hints.submit(self._load_chats)
        self._live_chat_switched()
        return removers

    def _stop_live(self) -> None:
        if hasattr(self, "_hints"):
            self._hints.shutdown(wait=False, cancel_futures=True)

    def _live_chat_switched(self) -> None:
        """The shown chat changed (or the widget started): its marker, people and members."""
        chat = self.client.chat or {}
        with self.hold_sync():  # type: ignore[attr-defined]  # a Widget's
            self.last_read_seq = int(chat.get("last_read_seq") or 0)
            self.present = list(self.client.present)
            with self._live_lock:
                self._typing_by_chat[self.chat_id] = {
                    user["id"]: user for user in self.client.typing_users}
            self._draw_typing()
        self._hints.submit(self._load_members, self.chat_id)

    # -- client callbacks (the client's callback thread) ---------------------

    def _on_presence(self, chat_id: str, users: list[protocol.User]) -> None:
        if chat_id == self.chat_id:
            self.present = list(users)

    def _on_typing(self, chat_id: str, user: protocol.User, typing: bool) -> None:
        with self._live_lock:
            typing_here = self._typing_by_chat.setdefault(chat_id, {})
            if typing:
                typing_here[user["id"]] = user
            else:
                typing_here.pop(user["id"], None)
        if chat_id == self.chat_id:
            self._draw_typing()

    def _draw_typing(self) -> None:
        with self._live_lock:
            users = list(self._typing_by_chat.get(self.chat_id, {}).values())
        self.typing = [user for user in users if user["id"] != self.user_id]

    def _on_activity(self, payload: protocol.ChatActivity) -> None:
        """A chat's counts moved: that entry of `chats` changes (a new list, so views redraw)."""
        chat_id = payload.get("chat_id")
        known = any(chat.get("id") == chat_id for chat in self.chats)
        if not known:
            self._hints.submit(self._load_chats)  # a chat this widget has not listed yet
            return
        counts = {key: payload[key] for key in  # type: ignore[literal-required]
                  ("last_seq", "unread", "unread_mentions", "last_read_seq") if key in payload}
        self.chats = [{**chat, **counts} if chat.get("id") == chat_id else chat
                      for chat in self.chats]
        if chat_id == self.chat_id and "last_read_seq" in counts:
            self.last_read_seq = max(self.last_read_seq, int(counts["last_read_seq"]))

    def _on_read(self, payload: protocol.Read) -> None:
        if payload.get("user_id") == self.user_id and payload.get("chat_id") == self.chat_id:
            self.last_read_seq = max(self.last_read_seq, int(payload.get("last_read_seq") or 0))

    # -- front-end hints (the shell thread hands them to a worker) -----------

    def _live_message(self, kind: Any, content: dict[str, Any]) -> bool:
        """`typing` and `read` from the front end; False for any other message."""
        if kind == "typing":
            self._hints.submit(self._set_typing, self.chat_id, content.get("typing") is True)
        elif kind == "read":
            chat_id, seq = content.get("chat_id"), content.get("seq")
            if isinstance(chat_id, str) and isinstance(seq, int) and not isinstance(seq, bool):
                self._hints.submit(self._mark_read, chat_id, seq)
        else:
            return False
        return True

    def _set_typing(self, chat_id: str, typing: bool) -> None:
        with contextlib.suppress(ChatError):  # a hint: the next keystroke says it again
            self.client.set_typing(typing, chat_id=chat_id)

    def _mark_read(self, chat_id: str, seq: int) -> None:
        try:
            marker = self.client.mark_read(seq, chat_id=chat_id)
        except ChatError:
            return  # the view reports again once it sees more; the marker only moves forward
        if chat_id == self.chat_id:
            self.last_read_seq = max(self.last_read_seq, marker)

    def _load_chats(self) -> None:
        with contextlib.suppress(ChatError):
            self.chats = [dict(chat) for chat in self.client.chats()]

    def _load_members(self, chat_id: str) -> None:
        with contextlib.suppress(ChatError):
            members = [dict(user) for user in self.client.members(chat_id)]
            if chat_id == self.chat_id:
                self.members = members
