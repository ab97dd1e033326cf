"""Sending one message at a time: authorization, emit, ack, retry, and the pending flag.

A send fetches a fresh authorization string, emits `send_message` and waits
for the ack. If the ack is lost (the connection drops, or no answer in time)
it waits for the connection and tries again with the same `client_id` and a
new authorization string, which the server answers with the stored message
without broadcasting it twice. The message can also turn up first as a
broadcast or in a reconnect's catch-up: any of the three settles the send.

Every method marked "lock held" runs under the client's one lock.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from . import protocol
from ._auth_supply import AUTH_CODES, AuthSupply
from ._link import SocketLink, checked, logged
from ._listeners import Listeners
from ._message_log import Message
from ._pending import PendingSend
from .errors import (
    ChatError,
    NotConnectedError,
    ReplyFailedError,
    ReplyTimeoutError,
    ResponsePendingError,
)

_RECENT_SENDS = 16  # sends whose timeline still collects a late "broadcast" or "reply"


class Sender:
    """The send steps 4 and 5, their retries, and the awaiting-response state."""

    def __init__(
        self,
        link: SocketLink,
        auth: AuthSupply,
        changed: threading.Condition,
        listeners: Listeners,
        *,
        reply_timeout: float,
        send_timeout: float,
        find_reply: Callable[[str, str], Message | None],
        ingest: Callable[[Message], None],
    ) -> None:
        self.reply_timeout = reply_timeout
        self.send_timeout = send_timeout
        self.last: PendingSend | None = None
        self._link = link
        self._auth = auth
        self._changed = changed
        self._listeners = listeners
        self._find_reply = find_reply
        self._ingest = ingest
        self._recent: OrderedDict[str, PendingSend] = OrderedDict()
        self._early_failures: OrderedDict[str, ChatError] = OrderedDict()
        self._reply_timer: threading.Timer | None = None

    @property
    def awaiting(self) -> bool:
        return self.last is not None and self.last.awaiting

    def require_free(self) -> None:
        """Raise ResponsePendingError while the last message awaits its response."""
        if self.awaiting:
            raise ResponsePendingError("the previous message is still awaiting its response")

    def begin(self, chat_id: str, needs_reply: bool, client_id: str | None = None) -> PendingSend:
        """Accept a new send (lock held), or raise ResponsePendingError."""
        self.require_free()
        pending = PendingSend(client_id or uuid.uuid4().hex, chat_id, needs_reply)
        self.last = pending
        self._recent[pending.client_id] = pending
        while len(self._recent) > _RECENT_SENDS:
            self._recent.popitem(last=False)
        self._link.report(None)
        if needs_reply:
            self._reply_timer = threading.Timer(
                self.reply_timeout, logged(self._reply_timed_out), args=(pending,)
            )
            self._reply_timer.daemon = True
            self._reply_timer.start()
        self._listeners.fire("awaiting_response", True)
        return pending

    def deliver(self, pending: PendingSend, text: str, parts: list[dict[str, Any]]) -> Message:
        """Fetch auth, emit, await the ack; again with the same client_id while the ack is lost."""
        payload: dict[str, Any] = {"chat_id": pending.chat_id, "text": text}
        if parts:
            payload["parts"] = parts
        payload["client_id"] = pending.client_id
        deadline = time.monotonic() + self.send_timeout
        pause = 0.1
        try:
            while True:
                try:
                    message = self._attempt(pending, payload, deadline)
                except NotConnectedError:
                    message = None
                if message is not None:
                    return message
                if not self._wait_to_retry(pending, deadline, pause):
                    raise self._undelivered()
                pause = min(pause * 2, 2.0)
        except BaseException as exc:  # KeyboardInterrupt too: the flag must not stick
            failure = exc if isinstance(exc, ChatError) else ChatError(repr(exc), code="internal")
            with self._changed:
                self.settle(pending, failure=failure)
            raise

    def wait_for_reply(self, timeout: float | None) -> Message:
        """Wait (lock held) for the answer to the last send; raise what ended it otherwise."""
        pending = self.last
        if pending is None:
            raise ChatError("nothing was sent yet", code="bad_request")
        if not pending.needs_reply:
            raise ChatError("this chat has no responder: no reply will come", code="bad_request")
        if not self._changed.wait_for(lambda: pending.done, timeout):
            raise ReplyTimeoutError(f"no reply within {timeout:g} s (still waiting)")
        if pending.reply is not None:
            return pending.reply
        raise pending.error or ChatError("no reply", code="internal")

    # -- what the client reports (lock held) -------------------------------

    def seen_broadcast(self, message: Message) -> None:
        """A `message` event arrived: if it is one of our sends, note it on its timeline."""
        for sent in self._recent.values():
            if sent.is_own(message):
                self._record(sent, "broadcast")

    def matched(self, message: Message) -> None:
        """A message new to the client: is it one of our sends, or the answer to one?"""
        for sent in self._recent.values():
            if sent.is_own(message):
                self.settle(sent, message=message)
            elif sent.is_reply(message):
                self._record(sent, "reply")
                self.settle(sent, reply=message)

    def reply_failed(self, reply_to: Any, error: ChatError) -> None:
        """A `reply_failed` arrived; it may beat the ack that tells our message's id."""
        pending = self.last
        if pending is None or not isinstance(reply_to, str):
            return
        if pending.message is not None:
            if pending.message["id"] == reply_to:
                self.settle(pending, failure=error, report=True)
        elif pending.awaiting:
            self._early_failures[reply_to] = error
            while len(self._early_failures) > _RECENT_SENDS:
                self._early_failures.popitem(last=False)

    def connection_lost(self, error: ChatError) -> None:
        """A stored message's answer may never come over a lost connection: stop waiting.

        A send still before its ack keeps the flag: it retries, then ends either way.
        """
        if self.last is not None and self.last.message is not None:
            self.settle(self.last, failure=error)

    def close(self) -> None:
        self.connection_lost(NotConnectedError("the client was closed", code="disconnected"))
        if self._reply_timer is not None:
            self._reply_timer.cancel()

    def settle(
        self,
        pending: PendingSend,
        *,
        message: Message | None = None,
        reply: Message | None = None,
        failure: ChatError | None = None,
        report: bool = False,
    ) -> None:
        """Apply one outcome to a send; when its wait ends, tell the listeners."""
        was_awaiting = pending.awaiting
        changed = False
        if message is not None and pending.stored(message):
            changed = True
            early_reply = self._find_reply(pending.chat_id, message["id"])
            early_failure = self._early_failures.pop(message["id"], None)
            if early_reply is not None:
                self._record(pending, "reply")
                pending.replied(early_reply)
            elif early_failure is not None:
                pending.failed(early_failure)
                report = True
        if reply is not None:
            changed = pending.replied(reply) or changed
        if failure is not None:
            changed = pending.failed(failure) or changed
        if changed:
            self._changed.notify_all()  # a send waiting for its ack may be done already
        if not (was_awaiting and pending.done) or pending is not self.last:
            return
        if self._reply_timer is not None:
            self._reply_timer.cancel()
        if report and pending.error is not None:
            self._link.report(pending.error)
        self._listeners.fire("awaiting_response", False)

    # -- the steps ---------------------------------------------------------

    def _attempt(
        self, pending: PendingSend, payload: dict[str, Any], deadline: float
    ) -> Message | None:
        """One try: an authorization string, emit, wait. None: no ack on a live connection."""
        try:
            return self._attempt_with(pending, payload, deadline, *self._auth_for(pending))
        except ChatError as error:
            if error.code not in AUTH_CODES or not error.details.get("prefetched"):
                raise
        # A string fetched ahead was refused (the server restarted, say): fetch anew.
        return self._attempt_with(pending, payload, deadline, *self._auth_for(pending))

    def _auth_for(self, pending: PendingSend) -> tuple[str, bool]:
        with self._changed:
            self._record(pending, "auth_fetch_start")
        auth, prefetched = self._auth.take(pending.chat_id)
        with self._changed:
            self._record(pending, "auth_fetched")
        return auth, prefetched

    def _attempt_with(
        self, pending: PendingSend, payload: dict[str, Any], deadline: float, auth: str,
        prefetched: bool,
    ) -> Message | None:
        with self._changed:
            if pending.message is not None:
                return pending.message
            ack = self._link.emit(
                protocol.SEND_MESSAGE,
                {**payload, "auth": auth},
                on_ack=lambda answer: self._acked(pending, answer),
            )
            self._record(pending, "emit")
            self._changed.wait_for(
                lambda: pending.message is not None or ack.done or self._link.lost(ack),
                max(0.0, min(self._link.request_timeout, deadline - time.monotonic())),
            )
            if pending.message is not None:
                self._auth.refill(pending.chat_id)
                return pending.message
            if ack.done:
                try:
                    checked(ack.payload)
                except ChatError as error:
                    error.details["prefetched"] = prefetched
                    raise
                raise ChatError("the server's ack carried no message", code="internal")
            if self._link.lost(ack):
                raise NotConnectedError(
                    "the connection was lost before the ack", code="disconnected"
                )
            return None

    def _acked(self, pending: PendingSend, answer: Any) -> None:
        """The ack, on a Socket.IO thread (lock held): the stored message counts at once."""
        self._record(pending, "ack")
        if (
            isinstance(answer, dict)
            and answer.get("ok")
            and isinstance(answer.get("message"), dict)
        ):
            self.settle(pending, message=answer["message"])
            self._ingest(answer["message"])

    def _wait_to_retry(self, pending: PendingSend, deadline: float, pause: float) -> bool:
        """Pause (a dead server takes a moment to notice), then wait for the connection."""
        link = self._link
        with self._changed:
            self._changed.wait_for(lambda: link.closed or pending.message is not None, pause)
            self._changed.wait_for(
                lambda: link.closed or pending.message is not None or link.connected,
                max(0.0, deadline - time.monotonic()),
            )
            if link.closed:
                return False
            return pending.message is not None or (link.connected and time.monotonic() < deadline)

    def _undelivered(self) -> ChatError:
        if self._link.closed:
            return NotConnectedError("the client was closed while sending", code="disconnected")
        if not self._link.connected:
            return NotConnectedError(
                "the connection was lost while sending; if the server stored the message "
                "it will show once the connection is back",
                code="disconnected",
            )
        return ChatError(
            f"the server did not confirm the message within {self.send_timeout:g} s",
            code="timeout",
        )

    def _reply_timed_out(self, pending: PendingSend) -> None:
        with self._changed:
            error = ReplyTimeoutError(f"no reply within {self.reply_timeout:g} s")
            self.settle(pending, failure=error, report=True)

    def _record(self, pending: PendingSend, kind: str) -> None:
        with self._changed:
            self._listeners.fire("event", pending.timeline.record(kind))


def reply_failed_error(payload: dict[str, Any]) -> ReplyFailedError:
    """The error a `reply_failed` payload carries, as a ReplyFailedError with its code."""
    error = payload.get("error") if isinstance(payload.get("error"), dict) else {}
    return ReplyFailedError(
        str(error.get("message") or "the responder could not answer"),
        code=str(error.get("code") or "internal"),
    )
