"""Who is here, who is typing, what is unread (protocol 1.1), as one client knows it.

`LiveState` holds, per chat, the users present and typing and the user's
unread counts, from what the server said last: a join's ack (`present`, and
this server's `typing`), and the `presence`, `typing`, `read` and
`chat_activity` events. No I/O, and not thread-safe on its own: the session
calls it under the client's lock, and fires the listeners it answers.

Snapshots race with events: an event that arrived after a request went out is
newer than the request's answer, so `joined` and `chat_list` keep it over
the snapshot (each event is numbered as it arrives; a snapshot remembers the
number current when it was asked for).
"""

from __future__ import annotations

from typing import Any, cast

from ..protocol import Chat, ChatActivity, Message, User

READER_FIELDS = ("last_seq", "last_read_seq", "unread", "unread_mentions")


def _is_user(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("id"), str)


class LiveState:
    """Presence, typing and unread counts per chat."""

    def __init__(self) -> None:
        self._present: dict[str, list[User]] = {}
        self._typing: dict[str, dict[str, User]] = {}
        self._events = 0
        self._presence_at: dict[str, int] = {}  # chat_id -> number of its last presence event
        self._typing_at: dict[tuple[str, str], int] = {}  # (chat_id, user_id) -> the same
        self._activity: dict[str, tuple[int, ChatActivity]] = {}  # chat_id -> (number, payload)
        self._chat_list: list[Chat] | None = None

    def mark(self) -> int:
        """The current event number: pass it back with the answer of a request sent now."""
        return self._events

    # --- joins -----------------------------------------------------------------------

    def joined(self, chat_id: str, ack: dict[str, Any], asked_at: int) -> None:
        """A join's ack: present and typing users, unless an event since is newer."""
        if self._presence_at.get(chat_id, 0) <= asked_at:
            present = ack.get("present")
            if isinstance(present, list):
                self._present[chat_id] = [user for user in present if _is_user(user)]
        typing = ack.get("typing")
        if isinstance(typing, list):
            told = {user["id"]: user for user in typing if _is_user(user)}
            known = self._typing.get(chat_id, {})
            newer = {user_id for (chat, user_id), number in self._typing_at.items()
                     if chat == chat_id and number > asked_at}
            self._typing[chat_id] = {
                **{user_id: user for user_id, user in told.items() if user_id not in newer},
                **{user_id: user for user_id, user in known.items() if user_id in newer}}

    def forget(self, chat_id: str) -> None:
        """The chat was left: nobody is known to be there or typing."""
        self._present.pop(chat_id, None)
        self._typing.pop(chat_id, None)
        for key in [key for key in self._typing_at if key[0] == chat_id]:
            del self._typing_at[key]

    def present(self, chat_id: str | None) -> list[User]:
        return [dict(user) for user in self._present.get(chat_id or "", [])]  # type: ignore[misc]

    def typing_users(self, chat_id: str | None) -> list[User]:
        typing = self._typing.get(chat_id or "", {})
        return [cast(User, dict(typing[user_id])) for user_id in sorted(typing)]

    # --- events ----------------------------------------------------------------------

    def presence(self, payload: Any) -> tuple[str, list[User]] | None:
        """A `presence` event; (chat_id, users) to tell listeners, or None if malformed."""
        if not isinstance(payload, dict) or not isinstance(payload.get("chat_id"), str):
            return None
        users = payload.get("users")
        if not isinstance(users, list):
            return None
        chat_id = payload["chat_id"]
        self._events += 1
        self._presence_at[chat_id] = self._events
        self._present[chat_id] = [user for user in users if _is_user(user)]
        here = {user["id"] for user in self._present[chat_id]}
        typing = self._typing.get(chat_id, {})
        for user_id in [user_id for user_id in typing if user_id not in here]:
            del typing[user_id]  # gone users type no more (the server says so too)
        return chat_id, self.present(chat_id)

    def typing(self, payload: Any) -> tuple[str, User, bool] | None:
        """A `typing` event; (chat_id, user, typing) to tell listeners, or None."""
        if not isinstance(payload, dict) or not isinstance(payload.get("chat_id"), str):
            return None
        user, typing = payload.get("user"), payload.get("typing")
        if not isinstance(user, dict) or not _is_user(user) or not isinstance(typing, bool):
            return None
        self._events += 1
        self._typing_at[(payload["chat_id"], user["id"])] = self._events
        users = self._typing.setdefault(payload["chat_id"], {})
        if typing:
            users[user["id"]] = cast(User, user)
        else:
            users.pop(user["id"], None)
        return payload["chat_id"], cast(User, dict(user)), typing

    def activity(self, payload: Any, chats: dict[str, Chat]) -> ChatActivity | None:
        """A `chat_activity` event: the counts of `chats` (the joined ones) and of
        the chat list follow it. Returns the payload to tell listeners, or None."""
        if not isinstance(payload, dict) or not isinstance(payload.get("chat_id"), str) \
                or not all(isinstance(payload.get(name), int)
                           for name in ("last_seq", "unread", "unread_mentions")):
            return None
        activity = cast(ChatActivity, payload)
        self._events += 1
        self._activity[activity["chat_id"]] = (self._events, activity)
        for chat in [chats.get(activity["chat_id"]),
                     *(c for c in self._chat_list or [] if c["id"] == activity["chat_id"])]:
            if chat is not None:
                _apply(chat, activity)
        return cast(ChatActivity, dict(activity))

    def read(self, payload: Any) -> dict[str, Any] | None:
        """A `read` event (someone's marker moved); the payload for listeners, or None."""
        if not isinstance(payload, dict) or not isinstance(payload.get("chat_id"), str) \
                or not isinstance(payload.get("last_read_seq"), int):
            return None
        return dict(payload)

    # --- the chat list ------------------------------------------------------------------

    @property
    def chat_list(self) -> list[Chat] | None:
        """The chats with live counts, or None until fetched (or after a reconnect)."""
        if self._chat_list is None:
            return None
        return [cast(Chat, dict(chat)) for chat in self._chat_list]

    def take_chat_list(self, chats: list[Chat], asked_at: int) -> None:
        """`GET /api/chats` answered: keep it, with any activity newer than the request."""
        self._chat_list = [cast(Chat, dict(chat)) for chat in chats if isinstance(chat, dict)]
        for chat in self._chat_list:
            number, activity = self._activity.get(chat["id"], (-1, None))
            if activity is not None and number > asked_at:
                _apply(chat, activity)

    def stale(self) -> None:
        """Events may have been missed (a reconnect): fetch the chat list again when asked."""
        self._chat_list = None


def _apply(chat: Chat, activity: ChatActivity) -> None:
    for name in READER_FIELDS:
        if isinstance(activity.get(name), int):
            chat[name] = activity[name]  # type: ignore[literal-required]


def unread_mention(logs: dict[str, list[Message]], chats: dict[str, Chat],
                   me: str) -> Message | None:
    """The oldest message of the joined chats that mentions `me` and is still unread."""
    for chat_id in sorted(logs):
        chat = chats.get(chat_id)
        marker = chat.get("last_read_seq", 0) if chat is not None else 0
        for message in logs[chat_id]:
            if (message["seq"] > marker and me in (message.get("mentions") or [])
                    and message["sender"]["id"] != me and not message.get("deleted")):
                return message
    return None
