"""One send's life: stored, then (in a chat with a responder) answered or given up.

The protocol's pending rule lives here as a small state machine the client
drives under its lock: a send is awaiting its response from the moment it is
accepted until the ack (chat without responder) or until the bot's reply, a
`reply_failed`, the reply timeout, or a lost connection (chat with one). Every
path ends in `done`, so the flag cannot stick. The timeline records when each
step happened, for the widget to show.

Not thread-safe on its own: the client's lock guards every call.
"""

from __future__ import annotations

import time
from typing import Any

from .errors import ChatError

Message = dict[str, Any]


class Timeline:
    """Timestamps of one send's steps, as dicts ready for `on_event` listeners."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self.started = time.monotonic()
        self.events: list[dict[str, Any]] = []

    def record(self, kind: str) -> dict[str, Any]:
        """Note that step `kind` happened now; returns the event dict."""
        event = {
            "kind": kind,
            "client_id": self.client_id,
            "t": time.time(),
            "elapsed_ms": round((time.monotonic() - self.started) * 1000.0, 3),
        }
        self.events.append(event)
        return event


class PendingSend:
    """The state of one send, from `send()` accepting it to its response."""

    def __init__(self, client_id: str, chat_id: str, needs_reply: bool) -> None:
        self.client_id = client_id
        self.chat_id = chat_id
        self.needs_reply = needs_reply
        self.message: Message | None = None
        self.reply: Message | None = None
        self.error: ChatError | None = None
        self.done = False
        self.timeline = Timeline(client_id)

    @property
    def awaiting(self) -> bool:
        """The protocol's pending flag for this send."""
        return not self.done

    def is_own(self, message: Message) -> bool:
        """Whether `message` is this send, stored (from the ack, broadcast or catch-up)."""
        return message.get("client_id") == self.client_id and message.get("chat_id") == self.chat_id

    def is_reply(self, message: Message) -> bool:
        """Whether `message` is the bot's answer to this send."""
        sender = message.get("sender") or {}
        return (
            self.message is not None
            and message.get("reply_to") == self.message["id"]
            and sender.get("kind") == "bot"
        )

    def stored(self, message: Message) -> bool:
        """The server stored the message; True the first time. Ends the wait without responder."""
        if self.message is not None:
            return False
        self.message = message
        if not self.needs_reply:
            self.done = True
        return True

    def replied(self, reply: Message) -> bool:
        """The bot answered; True if this ended the wait."""
        if self.done or not self.needs_reply:
            return False
        self.reply = reply
        self.done = True
        return True

    def failed(self, error: ChatError) -> bool:
        """The wait ended without an answer (send error, reply_failed, timeout, disconnect)."""
        if self.done:
            return False
        self.error = error
        self.done = True
        return True
