"""Sending one message at a time: the protocol's five steps, retries, the pending flag;
and changing a stored message with the same steps.

`Sender.send` takes the steps in order: (1) not connected raises
`NotConnectedError`; (2) an earlier message still awaiting its response
raises `ResponsePendingError`; (3) the chat, the session's unless named, must
be joined; then the content is converted to text and parts (once: content
converted before is passed through); (4) a fresh authorization string is
fetched (`http.AuthSupply`); (5) `send_message` is emitted and its ack
awaited. If the ack is lost (the connection drops, or no answer in time) it
waits for the connection and tries again with the same `client_id` and a new
authorization string, which the server answers with the stored message
without broadcasting it twice. The message can also turn up first as a
broadcast or in a reconnect's catch-up: the session reports each message new
to it (`matched`), and any of the three settles the send. `send` returns the
stored message, and the session puts it into its log.

`Sender.change` (protocol 1.1: edit, delete, react) takes the same steps
that apply, through the same code: connected, a joined chat, for an edit a
fresh authorization string (fetched ahead or not, refused-prefetch retry
included), the ack, and the same retries while the ack is lost.

State changes happen under the connection's lock (`Connection.changed`).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, cast

from .. import protocol
from ..content import MessageContent, to_content
from ..errors import (
    ChatError,
    NotConnectedError,
    ReplyFailedError,
    ReplyTimeoutError,
    ResponsePendingError,
)
from ..protocol import Message
from .connection import Connection, checked, logged
from .http import AUTH_CODES, AuthSupply
from .pending import EarlyOutcomes, PendingSend
from .threads import Listeners

_RECENT_SENDS = 16  # sends whose timeline still collects a late "broadcast" or "reply"


class Sender:
    """The five send steps, their retries, and the awaiting-response state."""

    def __init__(
        self,
        connection: Connection,
        auth: AuthSupply,
        listeners: Listeners,
        *,
        reply_timeout: float,
        send_timeout: float,
    ) -> None:
        self.reply_timeout = reply_timeout
        self.send_timeout = send_timeout
        self.last: PendingSend | None = None
        self._connection = connection
        self._auth = auth
        self._changed = connection.changed
        self._listeners = listeners
        self._recent: OrderedDict[str, PendingSend] = OrderedDict()
        self._early = EarlyOutcomes(_RECENT_SENDS)
        self._reply_timer: threading.Timer | None = None

    @property
    def awaiting(self) -> bool:
        return self.last is not None and self.last.awaiting

    def send(
        self,
        content: Any,
        chat_id: str | None,
        chat: protocol.Chat | None,
        client_id: str | None = None,
    ) -> Message:
        """The five steps for `content` to `chat_id` (`chat`: as joined, None if not)."""
        with self._changed:
            self._connection.require_connected()  # 1
            if self.awaiting:  # 2
                raise ResponsePendingError("the previous message is still awaiting its response")
            chat_id, joined = self._joined(chat_id, chat, "sending to it")  # 3
            message_content = to_content(content)
            pending = self._begin(chat_id, joined.get("responder") is not None, client_id)
        return self._deliver(pending, message_content)  # 4 and 5

    @staticmethod
    def _joined(
        chat_id: str | None, chat: protocol.Chat | None, doing: str
    ) -> tuple[str, protocol.Chat]:
        """Step 3: the chat named (or the session's) must be one the client joined."""
        if chat_id is None:
            raise ChatError("no chat yet: join() one or pass chat_id", code="bad_request")
        if chat is None:
            raise ChatError(f"join chat {chat_id!r} before {doing}", code="not_joined")
        return chat_id, chat

    def wait_for_reply(self, timeout: float | None) -> Message:
        """Wait for the answer to the last send; raise what ended it otherwise."""
        with self._changed:
            pending = self.last
            if pending is None:
                raise ChatError("nothing was sent yet", code="bad_request")
            if not pending.needs_reply:
                raise ChatError(
                    "this chat has no responder: no reply will come", code="bad_request"
                )
            if not self._changed.wait_for(lambda: pending.done, timeout):
                raise ReplyTimeoutError(f"no reply within {timeout:g} s (still waiting)")
            if pending.reply is not None:
                return pending.reply
            raise pending.error or ChatError("no reply", code="internal")

    def _begin(self, chat_id: str, needs_reply: bool, client_id: str | None) -> PendingSend:
        """Accept a new send: it awaits its response from now on."""
        pending = PendingSend(client_id or uuid.uuid4().hex, chat_id, needs_reply)
        self.last = pending
        self._recent[pending.client_id] = pending
        while len(self._recent) > _RECENT_SENDS:
            self._recent.popitem(last=False)
        self._connection.report(None)
        if needs_reply:
            self._reply_timer = threading.Timer(
                self.reply_timeout, logged(self._reply_timed_out), args=(pending,)
            )
            self._reply_timer.daemon = True
            self._reply_timer.start()
        self._listeners.fire("awaiting_response", True)
        return pending

    def change(
        self,
        event: str,
        chat_id: str | None,
        chat: protocol.Chat | None,
        fields: dict[str, Any],
        *,
        authorized: bool,
    ) -> Message:
        """Edit, delete or react (protocol 1.1): the send's steps that apply, retried alike.

        Steps 1 and 3 as for a send (the pending flag is not involved: a change
        gets no answer), step 4 only for an edit (`authorized`), then step 5:
        emit `event` with the chat, `fields` and the string, and await the
        ack. A lost ack is repeated: the same change again changes nothing
        and answers the message as it stands.
        """
        with self._changed:
            self._connection.require_connected()  # 1
            chat_id, _joined = self._joined(chat_id, chat, "changing a message in it")  # 3
        payload = {"chat_id": chat_id, **fields}

        def attempt(_deadline: float) -> Message | None:
            if not authorized:
                return self._emit_change(event, payload)
            return self._authorized(
                chat_id, lambda auth: self._emit_change(event, {**payload, "auth": auth})
            )

        message = self._retried(attempt, lambda: False)
        if authorized:
            self._auth.refill(chat_id)
        return message

    def _deliver(self, pending: PendingSend, content: MessageContent) -> Message:
        """Steps 4 and 5; again with the same client_id while the ack is lost."""
        payload: protocol.SendMessage = {"chat_id": pending.chat_id, "text": content.text}
        if content.parts:
            payload["parts"] = content.parts
        payload["client_id"] = pending.client_id
        try:
            return self._retried(
                lambda deadline: self._attempt(pending, payload, deadline),
                lambda: pending.message is not None,
            )
        except BaseException as exc:  # KeyboardInterrupt too: the flag must not stick
            failure = exc if isinstance(exc, ChatError) else ChatError(repr(exc), code="internal")
            self._settle(pending, failure=failure)
            raise

    def _retried(
        self, attempt: Callable[[float], Message | None], done: Callable[[], bool]
    ) -> Message:
        """Run `attempt(deadline)` until it answers the stored message or `send_timeout` passes.

        An attempt answers None (or raises NotConnectedError) when its ack was
        lost; `done()` tells that the message turned up another way meanwhile.
        """
        deadline = time.monotonic() + self.send_timeout
        pause = 0.1
        while True:
            try:
                message = attempt(deadline)
            except NotConnectedError:
                message = None
            if message is not None:
                return message
            if not self._wait_to_retry(done, deadline, pause):
                raise self._undelivered()
            pause = min(pause * 2, 2.0)

    # -- what the session reports ---------------------------------------------

    def seen_broadcast(self, message: Message) -> None:
        """A `message` event arrived: if it is one of our sends, note it on its timeline."""
        with self._changed:
            for sent in self._recent.values():
                if sent.is_own(message):
                    self._record(sent, "broadcast")

    def matched(self, message: Message) -> None:
        """A message new to the client: is it one of our sends, or the answer to one?"""
        with self._changed:
            for sent in self._recent.values():
                if sent.is_own(message):
                    self._settle(sent, message=message)
                elif sent.is_reply(message):
                    self._record(sent, "reply")
                    self._settle(sent, reply=message)
            last = self.last
            if last is not None and last.message is None and last.awaiting:
                self._early.replied(message)  # it may answer the message our ack will name

    def reply_failed(self, reply_to: Any, error: ChatError) -> None:
        """A `reply_failed` arrived; it may beat the ack that tells our message's id."""
        with self._changed:
            pending = self.last
            if pending is None or not isinstance(reply_to, str):
                return
            if pending.message is not None:
                if pending.message["id"] == reply_to:
                    self._settle(pending, failure=error, report=True)
            elif pending.awaiting:
                self._early.failed(reply_to, error)

    def connection_lost(self, error: ChatError) -> None:
        """A stored message's answer may never come over a lost connection: stop waiting.

        A send still before its ack keeps the flag: it retries, then ends either way.
        """
        with self._changed:
            if self.last is not None and self.last.message is not None:
                self._settle(self.last, failure=error)

    def close(self) -> None:
        self.connection_lost(NotConnectedError("the client was closed", code="disconnected"))
        if self._reply_timer is not None:
            self._reply_timer.cancel()

    # -- settling ------------------------------------------------------------

    def _settle(
        self,
        pending: PendingSend,
        *,
        message: Message | None = None,
        reply: Message | None = None,
        failure: ChatError | None = None,
        report: bool = False,
    ) -> None:
        """Apply one outcome to a send; when its wait ends, tell the listeners."""
        with self._changed:
            was_awaiting = pending.awaiting
            changed = False
            if message is not None and pending.stored(message):
                changed = True
                early_reply, early_failure = self._early.take(message["id"])
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
                self._connection.report(pending.error)
            self._listeners.fire("awaiting_response", False)

    # -- the steps ---------------------------------------------------------

    def _attempt(
        self, pending: PendingSend, payload: protocol.SendMessage, deadline: float
    ) -> Message | None:
        """One try: step 4, a fresh authorization string, then step 5, emit and wait for the ack.

        None: no ack came on a live connection (the caller retries).
        """
        return self._authorized(
            pending.chat_id,
            lambda auth: self._attempt_with(pending, payload, deadline, auth),
            lambda kind: self._record(pending, kind),
        )

    def _authorized(
        self,
        chat_id: str,
        attempt: Callable[[str], Message | None],
        record: Callable[[str], None] | None = None,
    ) -> Message | None:
        """Step 4, then `attempt(auth)`; `record(kind)` notes the fetch on a send's timeline.

        A string fetched ahead that the server refuses (it restarted, say) is
        replaced by a fresh fetch, once.
        """
        auth, prefetched = self._auth_for(chat_id, record)
        try:
            return attempt(auth)
        except ChatError as error:
            if error.code not in AUTH_CODES or not prefetched:
                raise
        auth, _prefetched = self._auth_for(chat_id, record)
        return attempt(auth)

    def _auth_for(
        self, chat_id: str, record: Callable[[str], None] | None
    ) -> tuple[str, bool]:
        """Step 4: the authorization string for this attempt, and whether it was fetched ahead."""
        if record is not None:
            with self._changed:
                record("auth_fetch_start")
        auth, prefetched = self._auth.take(chat_id)
        if record is not None:
            with self._changed:
                record("auth_fetched")
        return auth, prefetched

    def _attempt_with(
        self, pending: PendingSend, payload: protocol.SendMessage, deadline: float, auth: str
    ) -> Message | None:
        with self._changed:
            if pending.message is not None:
                return pending.message
            ack = self._connection.emit(  # step 5
                protocol.SEND_MESSAGE,
                {**payload, "auth": auth},
                on_ack=lambda answer: self._acked(pending, answer),
            )
            self._record(pending, "emit")
            self._changed.wait_for(
                lambda: pending.message is not None or ack.done or self._connection.lost(ack),
                max(0.0, min(self._connection.request_timeout, deadline - time.monotonic())),
            )
            if pending.message is not None:
                self._auth.refill(pending.chat_id)
                return pending.message
            if ack.done:
                checked(ack.payload)
                raise ChatError("the server's ack carried no message", code="internal")
            if self._connection.lost(ack):
                raise NotConnectedError(
                    "the connection was lost before the ack", code="disconnected"
                )
            return None

    def _emit_change(self, event: str, payload: dict[str, Any]) -> Message | None:
        """Step 5 of a change: the stored message, or None when no ack came in time."""
        try:
            ack = self._connection.call(event, payload)
        except ChatError as error:
            if error.code == "timeout":
                return None
            raise
        message = protocol.as_message(ack.get("message"))
        if message is None:
            raise ChatError("the server's ack carried no message", code="internal")
        return message

    def _acked(self, pending: PendingSend, answer: Any) -> None:
        """The ack, on a Socket.IO thread (lock held): the stored message counts at once."""
        self._record(pending, "ack")
        if (
            isinstance(answer, dict)
            and answer.get("ok")
            and isinstance(answer.get("message"), dict)
        ):
            self._settle(pending, message=cast(Message, answer["message"]))

    def _wait_to_retry(self, done: Callable[[], bool], deadline: float, pause: float) -> bool:
        """Pause (a dead server takes a moment to notice), then wait for the connection."""
        connection = self._connection
        with self._changed:
            self._changed.wait_for(lambda: connection.closed or done(), pause)
            self._changed.wait_for(
                lambda: connection.closed or done() or connection.connected,
                max(0.0, deadline - time.monotonic()),
            )
            if connection.closed:
                return False
            in_time = connection.connected and time.monotonic() < deadline
            return done() or in_time

    def _undelivered(self) -> ChatError:
        if self._connection.closed:
            return NotConnectedError("the client was closed while sending", code="disconnected")
        if not self._connection.connected:
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
            self._settle(pending, failure=error, report=True)

    def _record(self, pending: PendingSend, kind: str) -> None:
        with self._changed:
            self._listeners.fire("event", pending.timeline.record(kind))


def reply_failed_error(payload: dict[str, Any]) -> ReplyFailedError:
    """The error a `reply_failed` payload carries, as a ReplyFailedError with its code."""
    found = payload.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    return ReplyFailedError(
        str(error.get("message") or "the responder could not answer"),
        code=str(error.get("code") or "internal"),
    )
