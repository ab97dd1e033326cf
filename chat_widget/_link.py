"""The client's Socket.IO connection: status, emits with acks, reconnection.

python-socketio (sync `Client`, websocket transport only) runs the socket on
its own threads. This wrapper adds what a chat session needs on top: a status
the widget can show, an `epoch` bumped by every disconnect so a waiter knows
its ack is lost, emits that raise `NotConnectedError` instead of
`BadNamespaceError`, connect refusals that surface as the server's error
rather than a hang, and a reconnect after the server closes the connection
(python-socketio itself retries only a lost transport).

Every method marked "lock held" runs under the client's one lock, passed in
as the condition `changed`, which is also what every wait waits on.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

import socketio

from ._explain import connect_failure, still_reconnecting
from ._in_order import InOrderClient
from ._listeners import Listeners
from ._serial import SerialExecutor
from ._servers import ServerList
from .errors import ChatError, NotConnectedError

logger = logging.getLogger(__name__)

Status = Literal["connecting", "connected", "reconnecting", "disconnected"]

_KEEP: Any = object()
_FINAL_REFUSALS = ("unauthorized", "forbidden")  # reconnecting again would not help


def quiet_logger(name: str) -> logging.Logger:
    """A logger for python-socketio's chatter: errors only, unless the user set a level.

    Passing a logger keeps python-socketio from adding its own stderr handler;
    the ERROR level matches what it does when given none.
    """
    chatter = logging.getLogger(name)
    if chatter.level == logging.NOTSET:
        chatter.setLevel(logging.ERROR)
    return chatter


def logged(handler: Callable[..., Any]) -> Callable[..., None]:
    """Keep an error in a handler on a Socket.IO thread from vanishing (or being retried)."""

    @functools.wraps(handler)
    def wrapper(*args: Any) -> None:
        try:
            handler(*args)
        except Exception:
            logger.exception("error in %s", getattr(handler, "__qualname__", handler))

    return wrapper


class Ack:
    """The acknowledgement of one emit; `epoch` is the connection it went out on."""

    __slots__ = ("epoch", "done", "payload")

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        self.done = False
        self.payload: Any = None


def refusal_error(data: Any) -> dict[str, Any] | None:
    """The protocol Error in a connect refusal, or None when the server was not reached.

    python-socketio hands the client the whole packet, {"message", "data"},
    where `data` is the Error (a JavaScript client sees it as `err.data`).
    """
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        data = data["data"]
    if isinstance(data, dict) and isinstance(data.get("code"), str):
        return data
    return None


def checked(payload: Any) -> dict[str, Any]:
    """An ack's payload if it says ok; else raise its error with the protocol's code."""
    if isinstance(payload, dict) and payload.get("ok"):
        return payload
    error = payload.get("error") if isinstance(payload, dict) else None
    raise ChatError.from_error(error, fallback="the server refused the request")


class SocketLink:
    """One Socket.IO connection and its status, shared by the client's parts."""

    def __init__(
        self,
        servers: ServerList,
        token: str,
        changed: threading.Condition,
        listeners: Listeners,
        chores: SerialExecutor,
        *,
        request_timeout: float,
        reconnection_delay: float,
        reconnection_delay_max: float,
        on_reconnected: Callable[[int], None],
        on_lost: Callable[[ChatError], None],
    ) -> None:
        self.servers = servers
        self.request_timeout = request_timeout
        self.status: Status = "disconnected"
        self.last_error: ChatError | None = None
        self.epoch = 0
        self.closed = False
        self._token = token
        self._changed = changed
        self._listeners = listeners
        self._chores = chores
        self._delays = (reconnection_delay, reconnection_delay_max)
        self._on_reconnected = on_reconnected
        self._on_lost = on_lost
        self._refusal: dict[str, Any] | None = None
        # Reconnection is ours (`_reconnect`), not python-socketio's: it must
        # also follow a server-side close and move on to the next server URL.
        self._sio = InOrderClient(
            reconnection=False,
            logger=quiet_logger(f"{__name__}.socketio"),
            engineio_logger=quiet_logger(f"{__name__}.engineio"),
            handle_sigint=False,  # a kernel's SIGINT belongs to the kernel
            request_timeout=request_timeout,
        )
        self.on("connect", self._on_connect)
        self.on("connect_error", self._on_connect_error)
        self.on("disconnect", self._on_disconnect)

    def on(self, event: str, handler: Callable[..., Any]) -> None:
        """Handle a server event (on a Socket.IO thread; errors are logged)."""
        self._sio.on(event, logged(handler))

    @property
    def connected(self) -> bool:
        return self.status == "connected"

    def set_status(self, status: Status, error: ChatError | None = _KEEP) -> None:
        """Change status and/or last_error (lock held); listeners hear of real changes."""
        if error is _KEEP:
            error = self.last_error
        if status == self.status and error is self.last_error:
            return
        self.status, self.last_error = status, error
        self._changed.notify_all()
        self._listeners.fire("status", status, error)

    def report(self, error: ChatError | None) -> None:
        """Set `last_error` alone (lock held)."""
        self.set_status(self.status, error)

    # -- connecting -------------------------------------------------------

    def connect(self) -> None:
        """Connect and return once usable; a refusal or failure raises and leaves "disconnected"."""
        with self._changed:
            if self.closed:
                raise NotConnectedError("this client was closed; make a new one")
            if self.status != "disconnected":
                return
            self._refusal = None
            self.set_status("connecting", None)
            epoch = self.epoch
        try:
            self._connect_any()
        except Exception as exc:
            with self._changed:
                error = self._failure(exc)
                self.set_status("disconnected", error)
            raise error from exc
        with self._changed:
            if self.epoch == epoch and self.status == "connecting":
                self.set_status("connected", None)

    def close(self) -> None:
        """Disconnect for good (also stops reconnection attempts)."""
        with self._changed:
            self.closed = True
            self._changed.notify_all()
        try:
            self._sio.shutdown()
        except Exception:
            logger.exception("error while disconnecting")
        with self._changed:
            self.set_status("disconnected")

    def resumed(self, epoch: int, error: ChatError | None) -> None:
        """The chats are rejoined after a reconnect (lock held): usable again, if still that one."""
        if not self.closed and self.epoch == epoch and self.status == "reconnecting":
            self.set_status("connected", error)

    def _connect_any(self) -> None:
        """Connect to the current server, else each other one in turn; a refusal is final."""
        for attempt in range(len(self.servers.urls)):
            try:
                self._connect_socket()
                return
            except Exception:
                if self._refusal is not None or attempt == len(self.servers.urls) - 1:
                    raise
                self.servers.advance()

    def _connect_socket(self) -> None:
        self._sio.connect(
            self.servers.current,
            auth={"token": self._token},
            transports=["websocket"],  # polling is several times slower, and hung on disconnect
            wait_timeout=self.request_timeout,
        )

    def _failure(self, exc: Exception) -> ChatError:
        logger.info("connect to %s failed: %s", self.servers.current, exc)
        return connect_failure(self.servers.current, self._refusal)

    def _on_connect_error(self, data: Any = None) -> None:
        with self._changed:
            self._refusal = refusal_error(data)
            refused = self._refusal is not None and self._refusal["code"] in _FINAL_REFUSALS
            if self.status == "reconnecting" and refused:
                # The token no longer works: retrying forever would only hide that.
                self.set_status("disconnected", ChatError.from_error(self._refusal))
                self._chores.submit(self._sio.shutdown)

    def _on_connect(self) -> None:
        with self._changed:
            if not self.closed and self.status == "reconnecting":
                self._chores.submit(self._on_reconnected, self.epoch)

    def _on_disconnect(self, reason: str | None = None) -> None:
        with self._changed:
            self.epoch += 1
            self._changed.notify_all()
            if self.closed or reason == self._sio.reason.CLIENT_DISCONNECT:
                self.set_status("disconnected")
                return
            lost = NotConnectedError(
                "the connection to the chat server was lost; reconnecting", code="disconnected"
            )
            self._on_lost(lost)
            self.set_status("reconnecting", lost)
            self._chores.submit(self._reconnect)

    def _reconnect(self) -> None:
        """Try again with backoff, moving to the next server URL after each failure.

        After each failed try the status's error says how long the server has
        been gone and when the next try is, so a server gone for good shows
        as that, not as an endless "reconnecting".
        """
        delay, delay_max = self._delays
        since = time.monotonic()
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self.closed or self.status != "reconnecting", delay)
                if self.closed or self.status != "reconnecting":
                    return
            self._refusal = None
            try:
                self._connect_socket()
                return
            except Exception as exc:
                logger.info("reconnect to %s failed: %s", self.servers.current, exc)
                if self._refusal is not None and self._refusal["code"] in _FINAL_REFUSALS:
                    return
                self.servers.advance()
                delay = min(delay * 2, delay_max)
                with self._changed:
                    if not self.closed and self.status == "reconnecting":
                        self.report(still_reconnecting(
                            self.servers.urls, time.monotonic() - since, delay))

    # -- emitting ---------------------------------------------------------

    def emit(
        self,
        event: str,
        payload: dict[str, Any],
        *,
        resuming: bool = False,
        on_ack: Callable[[Any], None] | None = None,
    ) -> Ack:
        """Emit `event` with an ack (lock held); `on_ack(payload)` runs under the lock.

        Raises NotConnectedError unless connected (or `resuming`, mid-reconnect).
        """
        usable = self.status == "connected" or (resuming and self.status == "reconnecting")
        if self.closed or not usable:
            raise NotConnectedError(f"not connected to the chat server (status: {self.status})")
        ack = Ack(self.epoch)
        try:
            self._sio.emit(event, payload, callback=lambda *args: self._acked(ack, args, on_ack))
        except socketio.exceptions.SocketIOError as exc:  # BadNamespaceError mid-reconnect
            raise NotConnectedError(f"not connected to the chat server: {exc}") from exc
        return ack

    def lost(self, ack: Ack) -> bool:
        """Whether the connection `ack` was awaited on is gone (lock held)."""
        return ack.epoch != self.epoch or self.closed

    def call(
        self, event: str, payload: dict[str, Any], *, resuming: bool = False
    ) -> dict[str, Any]:
        """Emit and wait for the ack (lock held; the wait releases it); a refusal raises."""
        ack = self.emit(event, payload, resuming=resuming)
        if not self._changed.wait_for(lambda: ack.done or self.lost(ack), self.request_timeout):
            raise ChatError(
                f"the server did not answer {event!r} within {self.request_timeout:g} s",
                code="timeout",
            )
        if not ack.done:
            raise NotConnectedError(
                f"the connection was lost before the server answered {event!r}",
                code="disconnected",
            )
        return checked(ack.payload)

    @logged
    def _acked(self, ack: Ack, args: tuple[Any, ...], on_ack: Callable[[Any], None] | None) -> None:
        with self._changed:
            ack.payload = args[0] if args else None
            ack.done = True
            if on_ack is not None:
                on_ack(ack.payload)
            self._changed.notify_all()
