"""The widget's mirror of protocol 1.1's live state: who is here, who types, what is unread.

A mixin of ChatWidget. Its traits hold what the front end draws (present
users, users typing, the user's chats with their unread and mention counts,
the shown chat's members and read marker). The ChatClient keeps that state
(client/awareness.py); its callbacks only tell the widget to copy it again.
The front end tells the kernel that the user types and which messages were
seen (custom messages `typing` and `read`, with no answer: both are hints,
soon repeated); a worker thread makes the calls, so a slow server never holds
the kernel's shell thread.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import traitlets

from . import protocol
from .client import ChatClient
from .errors import ChatError

DRAWN_CHAT_FIELDS = ("id", "title", "unread", "unread_mentions")
"""What the view draws of each entry of `chat_list` (the switcher and its badges)."""


def _plain(items: Any) -> list[dict[str, Any]]:
    """Protocol objects as plain dicts (a trait holds copies, never the client's own)."""
    return [dict(item) for item in items]


def drawn_chats(chats: Any) -> list[tuple[Any, ...]] | None:
    """`chat_list` as far as the view draws it: a change outside this is not sent to it."""
    if not isinstance(chats, list):  # not a value yet
        return None
    return [tuple(chat.get(name) for name in DRAWN_CHAT_FIELDS) for chat in chats]


class LiveTraits(traitlets.HasTraits):
    """Presence, typing, unread counts and members as synced traits (see docs/widget.md)."""

    present = traitlets.List(
        traitlets.Dict(), help="Users with a connection joined to the shown chat (you included)."
    ).tag(sync=True)
    typing_users = traitlets.List(
        traitlets.Dict(), help="The other users typing in the shown chat now."
    ).tag(sync=True)
    chat_list = traitlets.List(
        traitlets.Dict(),
        help="The user's chats with last_seq, last_read_seq, unread and unread_mentions (live). "
        "The views get it when what they draw changes (titles and counts): your own message "
        "moves only last_seq, which stays in the kernel until then.",
    ).tag(sync=True)
    member_list = traitlets.List(
        traitlets.Dict(), help="The shown chat's members, offered after `@` in the input."
    ).tag(sync=True)
    last_read_seq = traitlets.Int(
        0, help="The user's read marker in the shown chat (the highest seq marked read)."
    ).tag(sync=True)

    # ChatWidget's
    client: ChatClient
    chat_id: str
    user_id: str

    def _start_live(self) -> list[Any]:
        """The worker, and the client callbacks that keep the traits current (their removers)."""
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
        chat: dict[str, Any] = dict(self.client.chat or {})
        self.last_read_seq = int(chat.get("last_read_seq") or 0)
        self.present = _plain(self.client.present)
        self.typing_users = _plain(self.client.typing_users)
        self._hints.submit(self._load_members, self.chat_id)

    # -- client callbacks (the client's callback thread) ---------------------

    def _on_presence(self, chat_id: str, _users: list[protocol.User]) -> None:
        if chat_id == self.chat_id:
            self.present = _plain(self.client.present)

    def _on_typing(self, chat_id: str, _user: protocol.User, _typing: bool) -> None:
        if chat_id == self.chat_id:
            self.typing_users = _plain(self.client.typing_users)

    def _on_activity(self, payload: protocol.ChatActivity) -> None:
        self._load_chats()  # the client's list, kept current by this very event
        marker = payload.get("last_read_seq")
        if payload.get("chat_id") == self.chat_id and isinstance(marker, int):
            self.last_read_seq = max(self.last_read_seq, marker)

    def _on_read(self, payload: protocol.Read) -> None:
        if payload.get("user_id") == self.user_id and payload.get("chat_id") == self.chat_id:
            self.last_read_seq = max(self.last_read_seq, int(payload.get("last_read_seq") or 0))

    # -- front-end hints (the shell thread hands them to the worker) ---------

    def _live_message(self, kind: Any, content: dict[str, Any]) -> bool:
        """`typing` and `read` from the front end; False for any other message."""
        chat_id = content.get("chat_id")
        if kind == "typing":
            typed_in = chat_id if isinstance(chat_id, str) else self.chat_id
            self._hints.submit(self._set_typing, typed_in, content.get("typing") is True)
        elif kind == "read":
            seq = content.get("seq")
            if isinstance(chat_id, str) and isinstance(seq, int) and not isinstance(seq, bool):
                self._hints.submit(self._mark_read, chat_id, seq)
        else:
            return False
        return True

    def _end_typing(self, chat_id: Any) -> None:
        """The typing a view's send ended, when the send did not store (which would have)."""
        if isinstance(chat_id, str) and chat_id:
            self._hints.submit(self._set_typing, chat_id, False)

    def _live_views_need(self, change: Any) -> bool:
        """Whether the views need this change of a trait: not a chat list that draws the same."""
        if change["name"] == "chat_list":
            return drawn_chats(change["old"]) != drawn_chats(change["new"])
        return True

    def _set_typing(self, chat_id: str, typing: bool) -> None:
        with contextlib.suppress(ChatError):  # a hint: the next keystroke says it again
            if typing:  # a send is likely: its authorization string is fetched meanwhile
                self.client.prepare_send(chat_id)
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
            self.chat_list = _plain(self.client.chats())

    def _load_members(self, chat_id: str) -> None:
        with contextlib.suppress(ChatError):
            members = _plain(self.client.members(chat_id))
            if chat_id == self.chat_id:
                self.member_list = members
