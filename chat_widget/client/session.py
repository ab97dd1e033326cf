"""ChatClient: one user's live session with a chat server, usable from a notebook.

A python-socketio client (websocket transport only) runs on background
threads, so messages keep arriving while a cell is busy. Nothing here
installs signal handlers or touches an asyncio loop, so the kernel's own loop
is never blocked; user callbacks run on a thread of their own
(`threads.Listeners`), in the order the state changed.

The session keeps the chats: which are joined, the session's chat (joined
last, where `send` goes by default), and one `MessageLog` per chat. Calls go
one way, down: the session uses the sender (`sending.py`: the five steps of a
send), which uses the connection (`connection.py`: the socket) and the HTTP
side (`http.py`). What the connection hears comes back up only through the
handlers this module registers with it, in `__init__`:

- a `message` event goes to `_on_message_event`, then `_ingest`: the log keeps
  it (once, by `seq`), the sender is told of each message new to the client
  (it may settle a send or its reply), the messages now in unbroken `seq`
  order go to `on_message` listeners, and a hole in `seq` is filled from
  history shortly after (`_fill_gap_soon`);
- a `message_updated` event (protocol 1.1: an edit, a delete, a reaction), a
  `changes` page and the ack of the client's own change go to
  `_ingest_changes`: the log applies them in `version` order, replacing the
  message in place, the changes to messages already shown go to
  `on_message_updated` listeners, and a hole in `version` is filled with
  `changes` shortly after (the same `_fill_gap_soon`);
- `presence`, `typing`, `read` and `chat_activity` go to the handlers of
  `Awareness` (awareness.py, the protocol 1.1 part of the public API that
  this class inherits), which keep `LiveState` (live.py); a join's ack gives
  it the present and typing users;
- a lost connection ends the wait for a stored message's reply
  (`Sender.connection_lost`); after a reconnect every joined chat is rejoined
  from the last seq and version seen (`_resume`), so each message is shown
  once and in order, and each change is applied once and in order.

One lock orders every state change: the connection's condition `changed`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from .. import active, protocol
from ..content import MessageContent, to_content
from ..credentials import resolve_token
from ..errors import ChatError, NotConnectedError
from ..protocol import Chat, Message
from .awareness import Awareness
from .connection import LOST, RECONNECTED, Connection, ServerList, Status
from .files import FileApi
from .http import AuthSupply, HttpApi
from .live import LiveState
from .message_log import MessageLog
from .sending import Sender, reply_failed_error
from .threads import Listeners, SerialExecutor

__all__ = ["ChatClient", "Message", "Status"]

_GAP_GRACE = 0.1  # packets are handled on separate threads: a hole often closes by itself
_DROPPED_CHAT_CODES = ("forbidden", "not_found", "unauthorized")


class ChatClient(Awareness):
    """A chat session: connect, join a chat, send and receive messages in `seq` order;
    edit, delete and react to them, and hear each change in `version` order.

    `url` is a server URL, or several of one deployment: the client moves to
    the next when the one in use dies, and catches up there with `after_seq`.
    `reply_timeout` bounds the wait for a responder's answer, `send_timeout`
    a whole send (retries included), `request_timeout` each HTTP request and
    each acknowledgement. The reconnection delays set the backoff between
    attempts (doubling from the first up to the max). `prefetch_auth` fetches
    the authorization string for the next send in the background after each
    send, taking the HTTP round trip off the next send's path (off by
    default: then each send fetches its own, as its fourth step).

    Without `token`, it comes from `CHAT_WIDGET_TOKEN`, else the file
    `chat-widget login URL` writes, else a password prompt where one can be
    answered (`credentials.resolve_token`); none of them raises
    `AuthorizationError` naming the three.

    Like `ChatWidget`, it connects on construction: a refused token raises
    `AuthorizationError`, an unreachable server `NotConnectedError`, a
    malformed URL `InvalidURLError`, each before the constructor returns.
    `connect=False` leaves that to `connect()`, for registering `on_status`
    first. `with ChatClient(...) as client:` closes it at the end of the block.
    """

    def __init__(
        self,
        url: str | Sequence[str],
        token: str | None = None,
        reply_timeout: float = 120.0,
        *,
        send_timeout: float = 30.0,
        request_timeout: float = 10.0,
        reconnection_delay: float = 0.5,
        reconnection_delay_max: float = 5.0,
        prefetch_auth: bool = False,
        connect: bool = True,
    ) -> None:
        self._servers = ServerList(url)
        token = resolve_token(self._servers.urls, token)
        self._chats: dict[str, Chat] = {}
        self._logs: dict[str, MessageLog] = {}
        self._chat_id: str | None = None
        self._gap_fills: set[str] = set()
        self._live = LiveState()
        self._me_id: str | None = None
        self._listeners = Listeners()
        self._chores = SerialExecutor("chat-client-chores")
        self._http = HttpApi(self._servers, token, request_timeout)
        self._files = FileApi(self._http)
        self._connection = Connection(
            self._servers,
            token,
            self._listeners,
            self._chores,
            request_timeout=request_timeout,
            reconnection_delay=reconnection_delay,
            reconnection_delay_max=reconnection_delay_max,
        )
        self._changed = self._connection.changed
        self._http.on_unreachable = self._connection.link_failed
        self._auth = AuthSupply(self._http, self._chores, prefetch_auth)
        self._sender = Sender(
            self._connection,
            self._auth,
            self._listeners,
            reply_timeout=reply_timeout,
            send_timeout=send_timeout,
        )
        self._connection.on(protocol.MESSAGE, self._on_message_event)
        self._connection.on(protocol.MESSAGE_DELTA, self._on_delta_event)
        self._connection.on(protocol.REPLY_FAILED, self._on_reply_failed_event)
        self._connection.on(protocol.MESSAGE_UPDATED, self._on_message_updated_event)
        self._connection.on(protocol.PRESENCE, self._on_presence_event)
        self._connection.on(protocol.TYPING, self._on_typing_event)
        self._connection.on(protocol.READ, self._on_read_event)
        self._connection.on(protocol.CHAT_ACTIVITY, self._on_activity_event)
        self._connection.on(LOST, self._sender.connection_lost)
        self._connection.on(RECONNECTED, self._resume)
        if connect:
            try:
                self.connect()
            except BaseException:
                self.close()
                raise
        active.remember(self)  # the chat `%%chat` sends to, until a newer one

    # -- state ------------------------------------------------------------

    @property
    def url(self) -> str:
        """The server URL in use now (one of those given; the next is tried if it dies)."""
        return self._servers.current

    @property
    def status(self) -> Status:
        """One of "connecting", "connected", "reconnecting", "disconnected"."""
        return self._connection.status

    @property
    def last_error(self) -> ChatError | None:
        """Why the connection or the last response went wrong; None while all is well."""
        return self._connection.last_error

    @property
    def connected(self) -> bool:
        """Whether joins and sends can go out now (after a reconnect: once chats are rejoined)."""
        return self._connection.connected

    @property
    def chat_id(self) -> str | None:
        """The session's chat: the one joined last, where `send` goes by default."""
        return self._chat_id

    @property
    def chat(self) -> Chat | None:
        """The session chat as the server described it: id, title, responder, ..."""
        with self._changed:
            chat = self._chats.get(self._chat_id) if self._chat_id else None
            return cast(Chat, dict(chat)) if chat else None

    @property
    def messages(self) -> list[Message]:
        """The session chat's messages in `seq` order, each once and as it now stands."""
        with self._changed:
            log = self._logs.get(self._chat_id) if self._chat_id else None
            return log.messages() if log else []

    @property
    def awaiting_response(self) -> bool:
        """The protocol's pending flag: the last message still awaits its response."""
        with self._changed:
            return self._sender.awaiting

    @property
    def reply_timeout(self) -> float:
        """Seconds a send waits for a responder's answer before giving up."""
        return self._sender.reply_timeout

    # -- listeners ----------------------------------------------------------

    def on_status(self, callback: Callable[[Status, ChatError | None], Any]) -> Callable[[], None]:
        """Call `callback(status, last_error)` whenever either changes; returns a remover."""
        return self._listeners.add("status", callback)

    def on_message(self, callback: Callable[[Message], Any]) -> Callable[[], None]:
        """Call `callback(message)` once per new message, in `seq` order per chat."""
        return self._listeners.add("message", callback)

    def on_message_updated(self, callback: Callable[[Message], Any]) -> Callable[[], None]:
        """Call `callback(message)` once per change (edit, delete, reaction), in `version` order.

        `message` is the changed message as it now stands, already in
        `messages`. A change to a message not yet shown comes with that
        message through `on_message` instead.
        """
        return self._listeners.add("message_updated", callback)

    def on_delta(self, callback: Callable[[protocol.MessageDelta], Any]) -> Callable[[], None]:
        """Call `callback(payload)` for each `message_delta` (a piece of a reply being written)."""
        return self._listeners.add("delta", callback)

    def on_reply_failed(
        self, callback: Callable[[protocol.ReplyFailed], Any]
    ) -> Callable[[], None]:
        """Call `callback(payload)` for each `reply_failed` in a joined chat."""
        return self._listeners.add("reply_failed", callback)

    def on_event(self, callback: Callable[[dict[str, Any]], Any]) -> Callable[[], None]:
        """Call `callback(event)` for each step of a send: the timeline the widget shows.

        `event` is {"kind", "client_id", "t" (time.time()), "elapsed_ms" (since
        the send started)}; kinds: auth_fetch_start, auth_fetched, emit, ack,
        broadcast, reply (a retry repeats the first three).
        """
        return self._listeners.add("event", callback)

    def on_awaiting_response(self, callback: Callable[[bool], Any]) -> Callable[[], None]:
        """Call `callback(awaiting)` whenever `awaiting_response` changes."""
        return self._listeners.add("awaiting_response", callback)

    # -- connection -----------------------------------------------------------

    def connect(self) -> None:
        """Connect and return once usable; nothing to do if already connected.

        A refusal raises the server's error (`AuthorizationError`, code
        unauthorized, for a bad token), an unreachable server
        `NotConnectedError`; either leaves status "disconnected", `last_error` set.
        """
        self._connection.connect()

    def close(self) -> None:
        """Disconnect for good and stop the background threads; safe to call twice."""
        with self._changed:
            if self._connection.closed:
                return
            self._sender.close()
        self._connection.close()
        self._chores.stop()
        self._http.close()
        self._listeners.stop()

    def __enter__(self) -> ChatClient:
        self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- chats ------------------------------------------------------------

    def join(self, chat_id: str) -> list[Message]:
        """Join `chat_id`, make it the session's chat, and return its recent messages.

        A refusal raises `ChatError` with the protocol's code (`forbidden`,
        `not_found`, ...).
        """
        with self._changed:
            self._connection.require_connected()
            log = self._logs.get(chat_id)
            created = log is None
            if log is None:
                # Made before the emit, so messages that beat the ack wait in it.
                log = self._logs[chat_id] = MessageLog()
            asked_at = self._live.mark()
            try:
                ack = self._connection.call(protocol.JOIN, {"chat_id": chat_id})
            except ChatError:
                if created and chat_id not in self._chats:
                    self._logs.pop(chat_id, None)
                raise
            snapshot: list[Message] = ack.get("messages") or []
            self._chats[chat_id] = ack["chat"]
            self._live.joined(chat_id, ack, asked_at)
            if not log.started:
                log.start(snapshot, _last_version(ack["chat"]))
            self._ingest(chat_id, snapshot)
            self._chat_id = chat_id
            return list(snapshot)

    def leave(self, chat_id: str | None = None) -> None:
        """Stop receiving `chat_id` (default: the session's chat) and forget its messages."""
        with self._changed:
            chat_id = self._resolve_chat(chat_id)
            self._connection.call(protocol.LEAVE, {"chat_id": chat_id})
            self._forget_chat(chat_id)

    def history(
        self,
        chat_id: str | None = None,
        before_seq: int | None = None,
        limit: int = protocol.DEFAULT_HISTORY_LIMIT,
    ) -> protocol.Page:
        """Load older messages: {"messages" (ascending seq), "has_more"}.

        Without `before_seq` it continues before the oldest message held, so
        repeated calls page back ("scroll up loads older"). The loaded messages
        join `messages`; only messages new to the client reach `on_message`.
        """
        with self._changed:
            chat_id = self._resolve_chat(chat_id)
            log = self._logs.get(chat_id)
            if before_seq is None and log is not None:
                before_seq = log.oldest_seq
            payload: dict[str, Any] = {"chat_id": chat_id, "limit": limit}
            if before_seq is not None:
                payload["before_seq"] = before_seq
            ack = self._connection.call(protocol.HISTORY, payload)
            page = ack.get("messages") or []
            self._ingest(chat_id, page)
            return {"messages": list(page), "has_more": bool(ack.get("has_more"))}

    # -- sending ----------------------------------------------------------

    def send(self, content: Any, chat_id: str | None = None, *,
             client_id: str | None = None, as_file: str | None = None) -> Message:
        """Send `content` and return the stored message.

        Text is markdown; a DataFrame, a figure, an image, any object with a
        rich repr, or a list mixing them become the protocol's parts
        (docs/rich_messages.md); a dict with "text"/"parts" goes as it is. A
        `pathlib.Path` is uploaded and sent as a file part; `as_file="csv"` or
        `"parquet"` sends a DataFrame's table with the whole frame attached as
        a file (`content_for`).

        The protocol's steps, in order (`Sender.send`): not connected raises
        `NotConnectedError`; an earlier message still awaiting its response
        raises `ResponsePendingError`; the chat defaults to the session's; a
        fresh authorization string is fetched over HTTP (a refusal raises
        `AuthorizationError`); `send_message` is emitted and its ack awaited. A
        lost ack is retried with the same `client_id` for up to `send_timeout`.
        `client_id` (the idempotency key; fresh by default) lets a caller that
        retries a failed send reuse the key, so it is stored at most once.
        """
        with self._changed:
            chat_id = chat_id or self._chat_id
            chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat_id is not None and (as_file is not None or isinstance(content, os.PathLike)):
            content = self.content_for(content, chat_id, as_file)
        message = self._sender.send(content, chat_id, chat, client_id)
        self._ingest(message["chat_id"], [message])  # a broadcast may have brought it first
        return message

    def prepare_send(self, chat_id: str | None = None) -> None:
        """Fetch the authorization string for the next send to `chat_id` (default: the
        session's chat) in the background, unless one is waiting.

        For a caller that knows a send is coming (the widget, while someone
        types): the send then takes its fourth step from what was fetched, and
        its HTTP round trip is off the send's path. The send's steps and checks
        are the same; a string refused, or too near its expiry, is replaced by a
        fresh fetch then.
        """
        self._auth.fetch_ahead(self._resolve_chat(chat_id))

    def content_for(self, content: Any, chat_id: str | None = None,
                    as_file: str | None = None) -> MessageContent:
        """What `send` would send, converted and checked, its files uploaded to the chat.

        For callers that convert before they send (the widget, to fail early);
        `send` passes the result through untouched.
        """
        if as_file is not None or isinstance(content, os.PathLike):
            content = self._files.attach(content, self._file_chat(chat_id), as_file)
        return to_content(content)

    # -- files and search (protocol 1.1) ------------------------------------

    def upload(self, path_or_bytes: str | os.PathLike[str] | bytes, name: str | None = None,
               *, mime: str | None = None, chat_id: str | None = None) -> protocol.File:
        """Upload a file to the chat (the session's unless named) and return the stored File.

        A path is streamed from disk; bytes need a `name`. `mime` defaults to
        a guess from the name. Send it with `send({"parts": [part]})` or, in
        one go, `send(Path(...))`.
        """
        return self._files.upload(path_or_bytes, self._file_chat(chat_id), name, mime)

    def download(self, file_part_or_id: Any,
                 to: str | os.PathLike[str] | None = None) -> bytes | Path:
        """A file's bytes (a file part, a File or an id); with `to`, saved there instead
        (a directory keeps the file's name) and the path returned."""
        return self._files.download(file_part_or_id, to)

    def file_link(self, file_part_or_id: Any) -> str:
        """A URL that fetches the file without a token, good for a few minutes."""
        return self._files.link(file_part_or_id)

    def search(self, q: str, chat_id: str | None = None, limit: int = 20) -> list[Message]:
        """Messages holding every word of `q` (any case), best first, in every chat you
        may open or in `chat_id` alone; at most `limit` (1..100)."""
        return self._files.search(q, chat_id, limit)

    def _file_chat(self, chat_id: str | None) -> str:
        chat_id = chat_id or self._chat_id
        if chat_id is None:
            raise ChatError("no chat for the file: join() one or pass chat_id",
                            code="bad_request")
        return chat_id

    # -- changing a message (protocol 1.1) -----------------------------------

    def edit(self, message_id: str, content: Any, *, chat_id: str | None = None) -> Message:
        """Replace the text and parts of message `message_id` (one of yours) and return it.

        `content` is what `send` takes; the message becomes what that send
        would have stored (plain text clears earlier parts). An edit follows
        the send's steps that apply (`Sender.change`): connected, a joined chat
        (the session's unless named), a fresh authorization string fetched
        over HTTP, the ack. A refusal raises `ChatError` with the protocol's
        code: `forbidden` (not yours), `not_found` (no such message, or deleted),
        `not_joined`, `too_large`, an authorization code.
        """
        message_content = to_content(content)
        fields = {"id": message_id, "text": message_content.text,
                  "parts": message_content.parts}
        return self._change(protocol.EDIT_MESSAGE, chat_id, fields, authorized=True)

    def delete(self, message_id: str, *, chat_id: str | None = None) -> Message:
        """Delete message `message_id` (one of yours) and return its tombstone.

        The tombstone keeps `id` and `seq`, with `deleted` true and no content;
        deleting it again changes nothing. Refusals as for `edit`.
        """
        return self._change(protocol.DELETE_MESSAGE, chat_id, {"id": message_id})

    def react(self, message_id: str, emoji: str, on: bool = True, *,
              chat_id: str | None = None) -> Message:
        """Add your `emoji` to message `message_id` (`on=False` takes it back); return it.

        A reaction that changes nothing answers the message as it is. A bad
        emoji is `bad_request`, a 21st distinct emoji `too_large`.
        """
        return self._change(protocol.REACT, chat_id, {"id": message_id, "emoji": emoji, "on": on})

    def me(self) -> protocol.Me:
        """The signed-in user: `{"id", "name", "workspaces"}` (`GET /api/me`)."""
        return self._http.me()

    def wait_for_reply(self, timeout: float | None = None) -> Message:
        """Wait for the responder's answer to the last message sent, and return it.

        Raises `ReplyFailedError` on `reply_failed`, `ReplyTimeoutError` once
        the reply timeout (or this call's `timeout`) passes, or whatever ended
        the send. It returns once the callbacks of everything received up to
        the reply have run (`on_delta` for each streamed piece, `on_message`
        for the reply), so what they collected is complete.
        """
        reply = self._sender.wait_for_reply(timeout)
        self._listeners.drain()
        return reply

    # -- internals (the lock held: each is called under it, or takes it) ------

    def _resolve_chat(self, chat_id: str | None) -> str:
        self._connection.require_connected()
        chat_id = chat_id or self._chat_id
        if chat_id is None:
            raise ChatError("no chat yet: join() one or pass chat_id", code="bad_request")
        return chat_id

    def _change(self, event: str, chat_id: str | None, fields: dict[str, Any], *,
                authorized: bool = False) -> Message:
        with self._changed:
            chat_id = chat_id or self._chat_id
            chat = self._chats.get(chat_id) if chat_id is not None else None
        message = self._sender.change(event, chat_id, chat, fields, authorized=authorized)
        self._ingest_changes(message["chat_id"], [message])  # the broadcast may come later
        return message

    def _forget_chat(self, chat_id: str) -> None:
        self._chats.pop(chat_id, None)
        self._logs.pop(chat_id, None)
        self._live.forget(chat_id)
        if self._chat_id == chat_id:
            self._chat_id = None

    def _ingest(self, chat_id: str, messages: list[Message]) -> None:
        """Where every received message goes: the log, the sender, listeners, any gap."""
        with self._changed:
            log = self._logs.get(chat_id)
            if log is None:
                return
            for message in messages:
                if log.add(message):
                    self._sender.matched(message)
            for message in log.take_deliverable():
                self._listeners.fire("message", message)
            self._changed.notify_all()  # wait_for_mention may be waiting for one
            self._fill_gap_soon(chat_id)

    def _ingest_changes(self, chat_id: str, messages: list[Message],
                        covered: int | None = None) -> None:
        """Where every changed message goes: the log, in version order, then listeners.

        `covered`: `messages` is a page answering every change up to that version.
        """
        with self._changed:
            log = self._logs.get(chat_id)
            if log is None:
                return
            for message in messages:
                log.hold_change(message)
            for message in log.take_changes(covered):
                self._listeners.fire("message_updated", message)
            for message in log.take_deliverable():  # a change may bring an unseen message
                self._listeners.fire("message", message)
            self._fill_gap_soon(chat_id)

    def _catch_up_changes(self, chat_id: str, *, resuming: bool = False) -> None:
        """Page through `changes` from the last version applied until the server has no more."""
        with self._changed:
            while (log := self._logs.get(chat_id)) is not None and log.started:
                payload = {
                    "chat_id": chat_id,
                    "after_version": log.applied_version,
                    "limit": protocol.MAX_HISTORY_LIMIT,
                }
                ack = self._connection.call(protocol.CHANGES, payload, resuming=resuming)
                page: list[Message] = ack.get("messages") or []
                self._ingest_changes(chat_id, page, _covered(page, log.applied_version))
                if not (ack.get("has_more") and page):
                    return

    def _fill_gap_soon(self, chat_id: str) -> None:
        """If messages are missing, fetch them shortly (mid-reconnect, the rejoin does)."""
        log = self._logs.get(chat_id)
        missing = log is not None and (
            log.gap_after() is not None or log.version_gap_after() is not None)
        if not missing or chat_id in self._gap_fills:
            return
        if self.connected:
            self._gap_fills.add(chat_id)
            self._chores.submit(self._fill_gap, chat_id, time.monotonic() + _GAP_GRACE)

    def _fill_gap(self, chat_id: str, not_before: float) -> None:
        """On the chores thread: fetch what is missing after the last seq and version in order."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._connection.closed, max(0.0, not_before - time.monotonic())
            )
            self._gap_fills.discard(chat_id)
            log = self._logs.get(chat_id)
            try:
                while log is not None and not self._connection.closed:
                    after_seq = log.gap_after()
                    if after_seq is not None:
                        payload = {
                            "chat_id": chat_id,
                            "after_seq": after_seq,
                            "limit": protocol.MAX_HISTORY_LIMIT,
                        }
                        ack = self._connection.call(protocol.HISTORY, payload)
                        self._ingest(chat_id, ack.get("messages") or [])
                        if log.delivered_seq == after_seq:
                            return  # the server has nothing for the hole: don't spin
                        continue
                    after_version = log.version_gap_after()
                    if after_version is None:
                        return
                    self._catch_up_changes(chat_id)
                    if log.applied_version == after_version:
                        log.skip_version_gap()  # the server has nothing for the hole
                        self._ingest_changes(chat_id, [])
            except ChatError:
                return  # disconnected: the rejoin after the reconnect catches up instead

    def _resume(self, epoch: int) -> None:
        """On the chores thread, after a reconnect: rejoin each chat from its last seq."""
        with self._changed:
            self._live.stale()  # chat_activity may have been missed meanwhile
            chat_ids = sorted(self._chats, key=lambda chat_id: chat_id != self._chat_id)
        error = None
        for chat_id in chat_ids:
            try:
                self._rejoin(chat_id)
            except NotConnectedError:
                return  # lost again: the next reconnect resumes
            except ChatError as exc:
                error = exc
                if exc.code in _DROPPED_CHAT_CODES:
                    with self._changed:
                        self._forget_chat(chat_id)
        with self._changed:
            self._connection.resumed(epoch, error)
            for chat_id in list(self._logs):
                self._fill_gap_soon(chat_id)  # a live message may have opened one meanwhile

    def _rejoin(self, chat_id: str) -> None:
        with self._changed:
            log = self._logs.get(chat_id)
            if log is None:
                return  # left meanwhile
            payload = {"chat_id": chat_id, "after_seq": log.delivered_seq,
                       "after_version": log.applied_version}
            asked_at = self._live.mark()
            ack = self._connection.call(protocol.JOIN, payload, resuming=True)
            self._chats[chat_id] = ack["chat"]
            self._live.joined(chat_id, ack, asked_at)
            # Changes first: a message new since the disconnect then comes in its
            # current state through on_message, and only older ones through
            # on_message_updated.
            updated: list[Message] = ack.get("updated") or []
            self._ingest_changes(chat_id, updated, _covered(updated, log.applied_version))
            if ack.get("has_more_updates") and updated:
                self._catch_up_changes(chat_id, resuming=True)
            page = ack.get("messages") or []
            self._ingest(chat_id, page)
            while ack.get("has_more") and page:
                payload = {
                    "chat_id": chat_id,
                    "after_seq": max(message["seq"] for message in page),
                    "limit": protocol.MAX_HISTORY_LIMIT,
                }
                ack = self._connection.call(protocol.HISTORY, payload, resuming=True)
                page = ack.get("messages") or []
                self._ingest(chat_id, page)

    # -- server events (on Socket.IO threads) -------------------------------

    def _on_message_event(self, payload: Any) -> None:
        message = protocol.as_message(payload)
        if message is not None:
            with self._changed:
                self._sender.seen_broadcast(message)
                self._ingest(message["chat_id"], [message])

    def _on_message_updated_event(self, payload: Any) -> None:
        message = protocol.as_message(payload)
        if message is not None:
            self._ingest_changes(message["chat_id"], [message])

    def _on_delta_event(self, payload: Any) -> None:
        with self._changed:
            if isinstance(payload, dict) and payload.get("chat_id") in self._chats:
                self._listeners.fire("delta", payload)

    def _on_reply_failed_event(self, payload: Any) -> None:
        if not isinstance(payload, dict):
            return
        with self._changed:
            if payload.get("chat_id") in self._logs:
                self._sender.reply_failed(payload.get("reply_to"), reply_failed_error(payload))
                self._listeners.fire("reply_failed", payload)


def _last_version(chat: Chat) -> int:
    """The chat's change counter (0 from a server that predates protocol 1.1)."""
    version = chat.get("last_version")
    return version if isinstance(version, int) else 0


def _covered(page: list[Message], after_version: int | None) -> int | None:
    """The version a complete page of changes answers up to: its last one's."""
    versions = [m["version"] for m in page if isinstance(m.get("version"), int)]
    return max(versions, default=after_version)
