"""ChatWidget: a ChatClient shown in the notebook, as an anywidget.

The client owns the connection and the message list; the widget mirrors only
what the front end needs. Small state (connection, chat, pending flag, last
error) is a synced trait. Messages are not: each new one goes to the front end
as one custom message, so appending the 10,000th costs the bytes of that
message alone, and each view asks for its first page (and older pages) itself.
docs/widget.md lists every custom message.

Kernel messages: each one costs the Jupyter server CPU and queues before the
next, so a send's own path sends as few as it can (docs/widget.md, "What one
send costs"): its timeline steps ride on its outcome (`sent`, `send_failed`),
its own broadcast is not pushed again once `sent` carried it (whichever came
first is pushed as `sent`), the pending flag reaches the views with the
outcome rather than flipping on and off during the send, and a trait change
the views would not draw (see `_views_need`) is told to Python only. A send
the server stores while its request is still being handled skips `sending`:
its `sent` answers the request (`_ANSWER_WAIT`).

Threads: client callbacks arrive on the client's callback thread and change
traits and send comm messages from there (ipywidgets' comm sends are safe from
any thread; nothing here prints). Sends asked for by the front end run on a
worker thread, so the comm handler returns within `_ANSWER_WAIT` and the front
end can tell a busy kernel (no answer to its request) from a slow server.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from . import active, protocol
from .client import ChatClient
from .content import MessageContent
from .errors import ChatError, plain_error
from .protocol import MAX_TEXT_BYTES, Message
from .widget_files import FileRequests
from .widget_live import LiveTraits

PAGE_SIZE = 50
"""Messages per page: the first page a view shows, and each older page."""

_EVENTS_KEPT = 300  # timeline events a newly rendered view can still show
_FAILED_KEPT = 20  # failed sends kept (with their retry button) for new views
_NOT_RETRYABLE = frozenset({"bad_request", "too_large"})  # the content itself can't go
_RECONNECT_WAIT = 30.0  # seconds a typed message waits for a reconnect before it fails
_CHANGES = frozenset({"edit", "delete", "react"})  # view requests that change a stored message
_ANSWERED_KEPT = 64  # local ids whose `sent` went out: their own broadcast is not pushed again
_LATE_EVENTS_WAIT = 0.05  # seconds the steps after an outcome wait for each other, to go as one

_ANSWER_WAIT = 0.03
"""Seconds the comm handler waits for a view's send to be stored before it says `sending`.

The Jupyter server spends CPU on each kernel message and relays them one by
one, so the `sent` the view waits for is slower the more messages go before
it. A send stored within this wait is answered by its `sent` alone while the
request is still being handled (busy, sent, idle: the shape of a bare echo);
a slower one (a slow server, a reconnect, a send queued behind another) gets
`sending` when the wait runs out, and `sent` later. Short enough that the
kernel's shell thread is never held for long, and far below the 1.5 s after
which a view says the kernel is busy (js/view.js, ACK_TIMEOUT_MS); long enough
for a send on a loaded machine (`ChatClient.send` takes a few ms).
"""


def _asset(name: str) -> Path:
    """A file of the bundled front end (chat_widget/static/, built from js/ by `npm run build`)."""
    path = Path(__file__).resolve().parent / "static" / name
    if not path.is_file():
        raise FileNotFoundError(
            f"the widget's front end is not built ({path} is missing): "
            "run `npm ci && npm run build` in the project folder, or reinstall the package")
    return path


class ChatWidget(LiveTraits, FileRequests, anywidget.AnyWidget):
    """One user's chat in a notebook cell: messages, an input box, and the pending flag.

    `ChatWidget(url, token, chat_id)` connects and joins at once (a refusal
    raises the server's error). Without `token` it is found as `ChatClient`
    finds it (`CHAT_WIDGET_TOKEN`, the file of `chat-widget login`, a
    password prompt): it stays in the kernel, never in a trait or a message
    to the front end. Setting `chat_id` switches chat. `send`,
    `wait_for_reply`, `messages`, `on_message` and `close` work as on the
    ChatClient underneath (`widget.client`).
    """

    _esm = _asset("widget.js")  # its stylesheet is inside: the view draws in a shadow root

    connected = traitlets.Bool(
        False, help="True while sends and joins can go out (the client's status is connected)."
    ).tag(sync=True)
    chat_id = traitlets.Unicode(
        "", help="The chat shown and sent to; setting it joins that chat."
    ).tag(sync=True)
    awaiting_response = traitlets.Bool(
        False, help="True while the last message sent awaits its response (the pending flag)."
    ).tag(sync=True)
    status = traitlets.Enum(
        ["connecting", "connected", "reconnecting", "disconnected"], default_value="connecting",
        help="The connection: connecting, connected, reconnecting or disconnected.",
    ).tag(sync=True)
    error = traitlets.Unicode(
        "", help="The last error in plain words; cleared by the next success."
    ).tag(sync=True)
    user_id = traitlets.Unicode(
        "", help="The signed-in user's id: the front end sets this user's messages apart."
    ).tag(sync=True)
    user_name = traitlets.Unicode("", help="The signed-in user's display name.").tag(sync=True)
    max_text_bytes = traitlets.Int(
        MAX_TEXT_BYTES, help="The protocol's limit on a message's text: the view shows it as typed."
    ).tag(sync=True)

    def __init__(self, url: str, token: str | None = None, chat_id: str = "general",
                 reply_timeout: float = 120.0, **kwargs: Any) -> None:
        self._ready = False  # the chat_id validator joins only after construction
        self._lock = threading.RLock()  # orders "read client state, then push" sequences
        self._outbox: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._events: deque[dict[str, Any]] = deque(maxlen=_EVENTS_KEPT)
        self._in_flight: str | None = None  # the local id (= client_id) being sent
        self._held_events: list[dict[str, Any]] = []  # its timeline so far, for its outcome
        self._answered: OrderedDict[str, None] = OrderedDict()  # local ids pushed as `sent`
        # local id -> its `sending`, held while the comm handler waits for the outcome
        self._held_sending: dict[str, tuple[dict[str, Any], threading.Event]] = {}
        self._views_awaiting = False  # the pending flag as the views last received it
        self._late_events: list[dict[str, Any]] = []  # steps after their send's outcome
        self._late_timer: threading.Timer | None = None
        self._link_up = threading.Event()  # set while the client's status is "connected"
        self._sends = ThreadPoolExecutor(1, thread_name_prefix="chat-widget-send")
        self._loads = ThreadPoolExecutor(1, thread_name_prefix="chat-widget-load")
        self.client = ChatClient(url, token, reply_timeout=reply_timeout)  # connects
        try:
            me = self.client.me()
            self.client.join(chat_id)
        except BaseException:
            self._shutdown_client()
            raise
        super().__init__(chat_id=chat_id, user_id=str(me.get("id", "")),
                         user_name=str(me.get("name", "")), **kwargs)
        self._removers = [
            self.client.on_status(self._on_status),
            self.client.on_awaiting_response(self._on_awaiting_response),
            self.client.on_message(self._on_message),
            self.client.on_message_updated(self._on_message_updated),
            self.client.on_delta(self._on_delta),
            self.client.on_reply_failed(self._on_reply_failed),
            self.client.on_event(self._on_event),
        ]
        self._start_files()
        self._removers += self._start_live()
        self.on_msg(self._on_front_end_message)
        self._ready = True
        self._on_status(self.client.status, self.client.last_error)
        self._on_awaiting_response(self.client.awaiting_response)
        active.remember(self)  # the chat `%%chat` sends to, until a newer one

    # -- the ChatClient API, with the front end kept in step ----------------

    def send(self, content: Any, chat_id: str | None = None, *,
             client_id: str | None = None, as_file: str | None = None) -> Message:
        """Send a chat message (text, a DataFrame, a figure...) and return it as stored.

        This replaces ipywidgets' `Widget.send(content, buffers)` (a custom
        front-end message), because in a chat "send" means a chat message. A
        call in ipywidgets' form, with a list of buffers second (anywidget's
        `experimental.command` replies so), still goes to the front end
        only: nothing of ipywidgets or anywidget can post into the chat. This
        widget's own front-end messages go through `_push`. Content is
        converted first, once, so what cannot go fails before it shows as
        sending. `client_id` is the idempotency key, as on `ChatClient.send`:
        reuse a failed send's to retry it at most once.
        """
        if not isinstance(chat_id, (str, type(None))):  # ipywidgets' (content, buffers)
            self._push(content, list(chat_id))
            return None  # that caller expects nothing back
        try:
            message_content = self.client.content_for(content, chat_id or self.chat_id, as_file)
        except ChatError as error:
            self.error = plain_error(error)
            raise
        return self._deliver(client_id or f"py-{uuid.uuid4().hex}", message_content,
                             message_content.text, chat_id)

    def wait_for_reply(self, timeout: float | None = None) -> Message:
        """Wait for the responder's answer to the last message sent (see ChatClient)."""
        try:
            reply = self.client.wait_for_reply(timeout)
        except ChatError as error:
            self.error = plain_error(error)
            raise
        finally:
            # The flag's callback may still be on its way: read the client's own.
            self.awaiting_response = self.client.awaiting_response
        self.error = ""
        return reply

    def upload(self, path_or_bytes: str | os.PathLike[str] | bytes, name: str | None = None,
               *, mime: str | None = None, chat_id: str | None = None) -> protocol.File:
        """Upload a file to the shown chat (or `chat_id`); see `ChatClient.upload`."""
        return self.client.upload(path_or_bytes, name, mime=mime, chat_id=chat_id)

    def download(self, file_part_or_id: Any,
                 to: str | os.PathLike[str] | None = None) -> bytes | Path:
        """A file's bytes, or saved to `to`; see `ChatClient.download`."""
        return self.client.download(file_part_or_id, to)

    def file_link(self, file_part_or_id: Any) -> str:
        """A URL fetching the file without a token for a few minutes (`ChatClient.file_link`)."""
        return self.client.file_link(file_part_or_id)

    def search(self, q: str, chat_id: str | None = None, limit: int = 20) -> list[Message]:
        """Messages holding every word of `q`, best first; see `ChatClient.search`."""
        return self.client.search(q, chat_id, limit)

    @property
    def messages(self) -> list[Message]:
        """The shown chat's messages known so far, in `seq` order (as `ChatClient.messages`)."""
        return self.client.messages

    def on_message(self, callback: Callable[[Message], Any]) -> Callable[[], None]:
        """Call `callback(message)` per new message, on the client's thread; returns a remover."""
        return self.client.on_message(callback)

    def on_message_updated(self, callback: Callable[[Message], Any]) -> Callable[[], None]:
        """Call `callback(message)` per change (edit, delete, reaction), as `ChatClient` does."""
        return self.client.on_message_updated(callback)

    def edit(self, message_id: str, content: Any, *, chat_id: str | None = None) -> Message:
        """Replace the content of one of your messages and return it (see `ChatClient.edit`)."""
        return self.client.edit(message_id, content, chat_id=chat_id)

    def delete(self, message_id: str, *, chat_id: str | None = None) -> Message:
        """Delete one of your messages and return its tombstone (see `ChatClient.delete`)."""
        return self.client.delete(message_id, chat_id=chat_id)

    def react(self, message_id: str, emoji: str, on: bool = True, *,
              chat_id: str | None = None) -> Message:
        """Add (or with `on=False` take back) your emoji on a message (see `ChatClient.react`)."""
        return self.client.react(message_id, emoji, on, chat_id=chat_id)

    # Protocol 1.1 awareness: as on ChatClient (client/awareness.py), delegated.

    # `present` and `typing_users` are synced traits here (widget_live.py).

    def set_typing(self, typing: bool, chat_id: str | None = None) -> None:
        """Say you are typing, or stopped (as `ChatClient.set_typing`)."""
        self.client.set_typing(typing, chat_id)

    def mark_read(self, seq: int | None = None, chat_id: str | None = None) -> int:
        """Move your read marker forward; returns it (as `ChatClient.mark_read`)."""
        return self.client.mark_read(seq, chat_id)

    def chats(self) -> list[protocol.Chat]:
        """Your chats with live unread counts (as `ChatClient.chats`)."""
        return self.client.chats()

    def members(self, chat_id: str | None = None) -> list[protocol.User]:
        """The chat's workspace's users and its bot (as `ChatClient.members`)."""
        return self.client.members(chat_id)

    def wait_for_mention(self, timeout: float | None = None) -> Message:
        """Wait for an unread message that mentions you (as `ChatClient.wait_for_mention`)."""
        return self.client.wait_for_mention(timeout)

    def on_presence(
        self, callback: Callable[[str, list[protocol.User]], Any]
    ) -> Callable[[], None]:
        """Call `callback(chat_id, users)` when presence changes; returns a remover."""
        return self.client.on_presence(callback)

    def on_typing(
        self, callback: Callable[[str, protocol.User, bool], Any]
    ) -> Callable[[], None]:
        """Call `callback(chat_id, user, typing)` when someone types; returns a remover."""
        return self.client.on_typing(callback)

    def on_activity(
        self, callback: Callable[[protocol.ChatActivity], Any]
    ) -> Callable[[], None]:
        """Call `callback(payload)` per `chat_activity`; returns a remover."""
        return self.client.on_activity(callback)

    def on_read(self, callback: Callable[[protocol.Read], Any]) -> Callable[[], None]:
        """Call `callback(payload)` when a read marker moves; returns a remover."""
        return self.client.on_read(callback)

    def timeline(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Recent send steps (auth fetch, emit, ack, broadcast, reply), oldest first.

        Each is {"kind", "client_id", "t", "elapsed_ms"}; pass a stored message's
        `client_id` for that one send. The front end's "events" panel shows the same.
        """
        with self._lock:
            return [dict(event) for event in self._events
                    if client_id is None or event["client_id"] == client_id]

    def close(self) -> None:
        """Disconnect for good, then close the widget (its views go away)."""
        for remove in getattr(self, "_removers", []):
            remove()
        self._removers = []
        if getattr(self, "client", None) is not None:  # ipywidgets also calls this from __del__
            self._shutdown_client()
        super().close()

    def _shutdown_client(self) -> None:
        with self._lock:
            if self._late_timer is not None:
                self._late_timer.cancel()
        self._sends.shutdown(wait=False, cancel_futures=True)
        self._loads.shutdown(wait=False, cancel_futures=True)
        self._stop_live()
        self._stop_files()
        self.client.close()

    # -- switching chat -----------------------------------------------------

    @traitlets.validate("chat_id")
    def _join_chat(self, proposal: traitlets.Bunch) -> str:
        """Join the new chat before the trait changes, so a refusal leaves the old one shown."""
        chat_id = str(proposal["value"])
        if self._ready and chat_id != self.client.chat_id:
            try:
                self.client.join(chat_id)
            except ChatError as error:
                self.error = plain_error(error)
                raise
            self.error = ""
        return chat_id

    @traitlets.observe("chat_id")
    def _chat_switched(self, change: traitlets.Bunch) -> None:
        if self._ready:
            self._live_chat_switched()
            self._push_snapshot(None)

    # -- client callbacks (the client's callback thread) ---------------------

    def _on_status(self, status: str, error: ChatError | None) -> None:
        if status == "connected":
            self._link_up.set()
        else:
            self._link_up.clear()
        with self.hold_sync():
            self.status = status
            self.connected = status == "connected"
            if error is not None:
                self.error = plain_error(error)
            elif status == "connected":
                self.error = ""

    def _on_awaiting_response(self, _awaiting: bool) -> None:
        with self._lock:  # ordered with a send's end (`_end_flight`)
            # The client's current flag, not the (possibly stale) value fired.
            self.awaiting_response = self.client.awaiting_response

    # -- what reaches the views ----------------------------------------------

    def notify_change(self, change: traitlets.Bunch) -> None:
        """ipywidgets syncs a synced trait's change here; one the views need not get skips that.

        Python's observers hear every change either way.
        """
        if change.get("type") == "change" and not self._views_need(change):
            traitlets.HasTraits.notify_change(self, change)  # observers, not ipywidgets' sync
            return
        if change.get("name") == "awaiting_response" and self.comm is not None:
            self._views_awaiting = bool(change["new"])
        super().notify_change(change)

    def _views_need(self, change: traitlets.Bunch) -> bool:
        """Whether the views need this trait change now.

        Not the pending flag while a send of this widget is in flight: it goes
        with the outcome (`_end_flight`), so a chat without a responder does
        not flash "waiting" on and off for each send.
        """
        if change["name"] == "awaiting_response" and self._in_flight is not None:
            return False
        return self._live_views_need(change)

    def _on_message(self, message: Message) -> None:
        with self._lock:
            if message.get("chat_id") != self.chat_id:
                return
            client_id = message.get("client_id")
            if self._in_flight is not None and client_id == self._in_flight:
                self._push_sent(self._in_flight, message)  # its broadcast beat the ack
            elif client_id not in self._answered:  # else the views have it from `sent`
                self._push({"type": "message", "message": message})

    def _on_message_updated(self, message: Message) -> None:
        with self._lock:  # ordered with snapshots, as new messages are
            if message.get("chat_id") == self.chat_id:
                self._push({"type": "message_updated", "message": message})

    def _on_delta(self, payload: protocol.MessageDelta) -> None:
        if payload.get("chat_id") == self.chat_id:
            self._push({"type": "delta", "delta": payload})

    def _on_reply_failed(self, payload: protocol.ReplyFailed) -> None:
        error = payload.get("error") or {}
        self.error = plain_error(ChatError(str(error.get("message") or "no reply came")))
        if payload.get("chat_id") == self.chat_id:
            self._push({"type": "reply_failed", "reply_failed": payload})

    def _on_event(self, event: dict[str, Any]) -> None:
        """A send's step: with its outcome while it is in flight, else with the steps near it.

        The client's callbacks run on their own thread, so steps taken before
        the ack can still come in after `sent` went; those, and the later ones
        (the second of ack and broadcast, the reply), go together as one
        `events` push `_LATE_EVENTS_WAIT` after the first of them.
        """
        with self._lock:
            self._events.append(event)
            if self._in_flight is not None and event.get("client_id") == self._in_flight:
                self._held_events.append(event)
                return
            self._late_events.append(event)
            if self._late_timer is None:
                self._late_timer = threading.Timer(_LATE_EVENTS_WAIT, self._push_late_events)
                self._late_timer.daemon = True
                self._late_timer.start()

    def _push_late_events(self) -> None:
        with self._lock:
            events, self._late_events = self._late_events, []
            if events:
                self._push({"type": "events", "events": events})
            self._late_timer = None  # after the push: a test may wait for this

    # -- sending -----------------------------------------------------------

    def _announce(self, local_id: str, text: str, chat_id: str,
                  request_id: str | None) -> dict[str, Any]:
        """Put a send in the outbox and tell the views it is on its way (lock held)."""
        entry = self._enter_outbox(local_id, text, chat_id)
        self._push(self._sending(local_id, text, chat_id, request_id))
        return entry

    def _enter_outbox(self, local_id: str, text: str, chat_id: str) -> dict[str, Any]:
        """The send's outbox entry (lock held): a view that renders now shows it as sending."""
        entry = {"local_id": local_id, "text": text, "chat_id": chat_id, "state": "sending",
                 "error": None}
        self._outbox[local_id] = entry
        self._outbox.move_to_end(local_id)
        return entry

    @staticmethod
    def _sending(local_id: str, text: str, chat_id: str,
                 request_id: str | None) -> dict[str, Any]:
        """The push that tells every view of a send on its way (and answers its request)."""
        return {"type": "sending", "request_id": request_id, "local_id": local_id,
                "text": text, "chat_id": chat_id}

    def _hold_sending(self, local_id: str, text: str, chat_id: str,
                      request_id: str | None) -> threading.Event:
        """A view's send into the outbox, its `sending` held back (lock held).

        The returned event is set once the request is answered: by `sent`
        (`_push_sent`), or by the `sending` pushed after all (`_push_held_sending`).
        """
        self._enter_outbox(local_id, text, chat_id)
        answered = threading.Event()
        self._held_sending[local_id] = (self._sending(local_id, text, chat_id, request_id),
                                        answered)
        return answered

    def _push_held_sending(self, local_id: str) -> None:
        """Say `sending` now if it was held back (lock held)."""
        held = self._held_sending.pop(local_id, None)
        if held is not None:
            sending, answered = held
            self._push(sending)
            answered.set()

    def _deliver(self, local_id: str, content: str | MessageContent, text: str,
                 chat_id: str | None = None) -> Message:
        """One send with its outbox entry: sending, then stored or failed (and raised)."""
        target = chat_id or self.chat_id
        with self._lock:
            entry = self._outbox.get(local_id) or self._announce(local_id, text, target, None)
            entry.update(state="sending", error=None)
            self._answered.pop(local_id, None)  # sent again (the same client_id): answered anew
            self._in_flight = local_id
            self._held_events = []
        try:
            # The local id is the idempotency key: a retry of a failed send
            # stores at most once, and the broadcast is matched to this entry.
            message = self.client.send(content, chat_id=target, client_id=local_id)
        except ChatError as error:
            with self._lock:
                self._push_held_sending(local_id)  # every view learns of the send, then its failure
                entry.update(state="failed", error={"code": error.code,
                                                    "message": plain_error(error)})
                events = self._end_flight(local_id)
                self._forget_old_failures()
                self._push({"type": "send_failed", "local_id": local_id, "error": entry["error"],
                            "retryable": error.code not in _NOT_RETRYABLE, "events": events})
                if error.code in _NOT_RETRYABLE:
                    del self._outbox[local_id]
            self.error = plain_error(error)
            raise
        with self._lock:
            self._push_sent(local_id, message)
        self.error = ""
        return message

    def _push_sent(self, local_id: str, message: Message) -> None:
        """The send is stored: `sent` to the views, once (at its ack or its broadcast; lock held).

        The pending flag goes just before it (the view's Send button stays
        disabled across the two in a chat with a responder), and the send's
        timeline so far rides along. When its `sending` is still held, `sent`
        carries the request id instead: it is the request's answer.
        """
        if local_id in self._answered:
            return
        self._answered[local_id] = None
        while len(self._answered) > _ANSWERED_KEPT:
            self._answered.popitem(last=False)
        self._outbox.pop(local_id, None)
        events = self._end_flight(local_id)
        sent = {"type": "sent", "local_id": local_id, "message": message, "events": events}
        held = self._held_sending.pop(local_id, None)
        if held is not None:
            sending, answered = held
            sent["request_id"] = sending["request_id"]
        self._push(sent)
        if held is not None:
            answered.set()  # after the push: the comm handler returns (idle) behind `sent`

    def _end_flight(self, local_id: str) -> list[dict[str, Any]]:
        """The send is over for the views: the pending flag as it is now, and its held events."""
        self.awaiting_response = self.client.awaiting_response  # still held from the views
        if self._in_flight == local_id:
            self._in_flight = None
        if self.awaiting_response != self._views_awaiting:
            self.send_state("awaiting_response")
            self._views_awaiting = self.awaiting_response
        events, self._held_events = self._held_events, []
        return events

    def _forget_old_failures(self) -> None:
        failed = [key for key, entry in self._outbox.items() if entry["state"] == "failed"]
        for key in failed[:-_FAILED_KEPT]:
            del self._outbox[key]

    def _send_for_front_end(self, local_id: str, text: str, stop_typing: Any = None) -> None:
        """Worker thread: a send the front end asked for; the outcome goes back as messages.

        While the client reconnects by itself (a restarting server, or a cell
        that held the GIL past the heartbeat, so the server dropped the link),
        what the person typed waits for the link, shown as sending, rather
        than failing at once. `stop_typing` is the chat whose typing the send
        ends: a stored message ends it at the server (protocol 1.1), so only a
        failed send says so here, and the send does not queue behind that call.
        """
        if self.client.status == "reconnecting":
            self._link_up.wait(_RECONNECT_WAIT)
        try:
            self._deliver(local_id, self._prepared_content(local_id, text), text)
        except ChatError:  # reported as send_failed, and in `error`
            self._end_typing(stop_typing)

    def _change_for_front_end(self, kind: str, request_id: str | None,
                              content: dict[str, Any]) -> None:
        """Worker thread: an edit, delete or reaction a view asked for, in order with sends.

        Every view hears the outcome: `changed` with the message as stored, or
        `change_failed` with the reason in one sentence (the asking view shows
        it at the message). Every view also gets the server's `message_updated`.
        """
        message_id = str(content.get("id") or "")
        chat_id = str(content.get("chat_id") or self.chat_id)
        answer: dict[str, Any] = {"request_id": request_id, "action": kind, "id": message_id}
        try:
            if kind == "edit":
                message = self.client.edit(
                    message_id, self._text_edit(message_id, str(content.get("text") or "")),
                    chat_id=chat_id)
            elif kind == "delete":
                message = self.client.delete(message_id, chat_id=chat_id)
            else:
                # `on` goes as the view sent it: the server refuses a non-boolean (bad_request).
                message = self.client.react(message_id, str(content.get("emoji") or ""),
                                            on=content.get("on", True), chat_id=chat_id)
        except ChatError as error:
            self.error = plain_error(error)
            self._push({"type": "change_failed", **answer,
                        "error": {"code": error.code, "message": plain_error(error)}})
            return
        self.error = ""
        self._push({"type": "changed", **answer, "message": message})

    def _text_edit(self, message_id: str, text: str) -> dict[str, Any] | str:
        """What an edit typed in a view stores: the new text, and the message's parts as they are.

        The view edits text only; an edit's content replaces parts too (as a
        send would store it), so the parts go along unchanged.
        """
        with self._lock:
            current = next((m for m in self.client.messages if m["id"] == message_id), None)
        if current is None or not current.get("parts"):
            return text
        return {"text": text, "parts": current["parts"]}

    # -- front-end messages (the kernel's shell thread) ----------------------

    def _on_front_end_message(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        """Answer at once (a send within `_ANSWER_WAIT`): to a view, silence means a busy kernel.

        The work goes to worker threads.
        """
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        request_id = content.get("request_id")
        if kind == "sync":
            self._push_snapshot(request_id)
        elif kind == "send":
            self._take_send(request_id, content)
        elif kind == "older":
            self._push({"type": "received", "request_id": request_id})
            self._loads.submit(self._load_older, request_id, content.get("before_seq"))
        elif kind in _CHANGES:
            self._push({"type": "received", "request_id": request_id})
            self._sends.submit(self._change_for_front_end, str(kind), request_id, content)
        elif not self._live_message(kind, content):
            self._files_message(kind, request_id, content, buffers)

    def _take_send(self, request_id: Any, content: dict[str, Any]) -> None:
        """A view's send: to the worker, answered by `sent` if stored within `_ANSWER_WAIT`.

        Else (a slow server, a reconnect, a send queued behind another) the
        answer is `sending` when the wait runs out, as it would have been at
        once: every view shows the send, and `sent` or `send_failed` follows.
        """
        local_id = str(content.get("local_id") or f"js-{uuid.uuid4().hex}")
        text = str(content.get("text") or "")
        with self._lock:
            answered = self._hold_sending(local_id, text, self.chat_id, request_id)
        self._sends.submit(self._send_for_front_end, local_id, text, content.get("stop_typing"))
        if not answered.wait(_ANSWER_WAIT):
            with self._lock:
                self._push_held_sending(local_id)

    def _push_snapshot(self, request_id: str | None) -> None:
        """The state a view starts from: the latest page, the outbox, recent events."""
        with self._lock:
            messages = self.client.messages[-PAGE_SIZE:] if self.client.chat_id else []
            self._push({
                "type": "snapshot",
                "request_id": request_id,
                "chat_id": self.chat_id,
                "last_read_seq": self.last_read_seq,
                "messages": messages,
                "has_more": bool(messages) and messages[0]["seq"] > 1,
                "outbox": [dict(entry) for entry in self._outbox.values()
                           if entry["chat_id"] == self.chat_id],
                "events": list(self._events),
            })

    def _load_older(self, request_id: str | None, before_seq: Any) -> None:
        """Worker thread: the page before `before_seq` ("scroll up loads older")."""
        chat_id = self.chat_id
        answer: dict[str, Any] = {"type": "older", "request_id": request_id, "chat_id": chat_id}
        try:
            page = self.client.history(chat_id, before_seq=int(before_seq), limit=PAGE_SIZE)
        except (ChatError, TypeError, ValueError) as error:
            answer.update(messages=[], has_more=True, error=plain_error(error))
        else:
            answer.update(messages=page["messages"], has_more=page["has_more"])
        self._push(answer)

    def _push(self, content: Any, buffers: list[Any] | None = None) -> None:
        """One custom message to every view (ipywidgets' `Widget.send`, which `send` shadows)."""
        super().send(content, buffers)
