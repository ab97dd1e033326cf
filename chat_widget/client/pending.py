"""One send's life: stored, then (in a chat with a responder) answered or given up.

The protocol's pending rule lives here as a small state machine the sender
drives under the client's lock: a send is awaiting its response from the moment it is
accepted until the ack (chat without responder) or until the bot's reply, a
`reply_failed`, the reply timeout, or a lost connection (chat with one). Every
path ends in `done`, so the flag cannot stick. The timeline records when each
step happened, for the widget to show. `EarlyOutcomes` keeps a reply or a
`reply_failed` that overtook the ack which tells the send its message id.

No I/O and not thread-safe on its own: the sender calls it under the client's lock.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from ..errors import ChatError
from ..protocol import Message


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

    @property
    def emitted(self) -> bool:
        """Whether `send_message` went out at least once (else the server never saw it)."""
        return any(event["kind"] == "emit" for event in self.timeline.events)

    def is_own(self, message: Message) -> bool:
        """Whether `message` is this send, stored (from the ack, broadcast or catch-up)."""
        return message.get("client_id") == self.client_id and message.get("chat_id") == self.chat_id

    def is_reply(self, message: Message) -> bool:
        """Whether `message` is the bot's answer to this send."""
        return (
            self.message is not None
            and message.get("reply_to") == self.message["id"]
            and message["sender"]["kind"] == "bot"
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


class EarlyOutcomes:
    """Replies and reply failures that came before our ack, by the message id they answer."""

    def __init__(self, kept: int = 16) -> None:
        self._kept = kept
        self._replies: OrderedDict[str, Message] = OrderedDict()
        self._failures: OrderedDict[str, ChatError] = OrderedDict()

    def replied(self, reply: Message) -> None:
        """Note a message if it is a bot's answer (to a message whose ack may be on its way)."""
        reply_to = reply.get("reply_to")
        if isinstance(reply_to, str) and reply["sender"]["kind"] == "bot":
            self._keep(self._replies, reply_to, reply)

    def failed(self, reply_to: str, error: ChatError) -> None:
        """Note a `reply_failed` for message `reply_to`."""
        self._keep(self._failures, reply_to, error)

    def take(self, message_id: str) -> tuple[Message | None, ChatError | None]:
        """The reply and the failure noted for `message_id` (each None if none), forgotten now."""
        return self._replies.pop(message_id, None), self._failures.pop(message_id, None)

    def _keep(self, kept: OrderedDict[str, Any], key: str, value: Any) -> None:
        kept[key] = value
        while len(kept) > self._kept:
            kept.popitem(last=False)
