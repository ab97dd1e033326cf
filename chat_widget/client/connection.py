"""The client's Socket.IO connection: the server list, status, emits with acks, reconnection.

python-socketio (sync `Client`, websocket transport only) runs the socket on
its own threads. `Connection` adds what a chat session needs on top: a status
the widget can show, an `epoch` bumped by every disconnect so a waiter knows
its ack is lost, emits that raise `NotConnectedError` instead of
`BadNamespaceError`, connect refusals that surface as the server's error
rather than a hang, a reconnect after the server closes the connection
(python-socketio itself retries only a lost transport), and the move to the
next server URL of a deployment when the one in use dies.

`changed`, the connection's condition (over a reentrant lock), is the
client's one lock: the session and the sender change their state under it
too, because that state moves with the socket's events, and every wait waits
on it. The connection knows nothing of chats or sends: what it hears (server
events, a lost connection, a reconnect) goes to the handlers registered with
`on`, which the session wires up.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import socketio

from .._explain import connect_failure, still_reconnecting
from .._urls import checked_url
from ..errors import ChatError, NotConnectedError
from .in_order import InOrderClient
from .threads import Listeners, SerialExecutor

logger = logging.getLogger(__name__)

Status = Literal["connecting", "connected", "reconnecting", "disconnected"]

LOST = "connection_lost"
"""`on(LOST, handler)`: `handler(error)` runs (lock held) when a live connection drops."""
RECONNECTED = "reconnected"
"""`on(RECONNECTED, handler)`: `handler(epoch)` runs on the chores thread after a reconnect;
the status stays "reconnecting" until `resumed(epoch)`."""

_KEEP: Any = object()
_FINAL_REFUSALS = ("unauthorized", "forbidden")  # reconnecting again would not help


class ServerList:
    """The chat server URLs a client may use, as a ring with a current position.

    Each URL is checked up front (`InvalidURLError`), before any connection.

    Several processes of one deployment (sharing PostgreSQL and Redis) act as
    one server; a client given all their URLs moves to another when the
    current one dies. The socket and the HTTP side read `current` from this
    one place, so an authorization string is always fetched from the server
    the socket talks to.
    """

    def __init__(self, urls: str | Sequence[str]) -> None:
        candidates = [urls] if isinstance(urls, str) else list(urls)
        self.urls = [checked_url(url) for url in candidates if url]
        if not self.urls:
            raise ValueError("give at least one chat server URL")
        # The first URL first, then the others in an order of this client's own: clients
        # that list the URLs alike would otherwise all fail over to the same process.
        others = list(range(1, len(self.urls)))
        random.shuffle(others)
        self._cycle = [0, *others]
        self._position = 0
        self._lock = threading.Lock()

    @property
    def current(self) -> str:
        return self.urls[self._cycle[self._position]]

    def advance(self) -> str:
        """Move on to the next URL of the cycle (each URL once a round) and return it."""
        with self._lock:
            self._position = (self._position + 1) % len(self._cycle)
            return self.current


class RetryPlan:
    """How long to wait before each reconnect try: at once while some URL of this
    round is untried, then a delay that doubles after each round (up to a bound).

    With one URL that is the plain exponential backoff; with several, a dead
    process costs one failed try, not a wait, before the next process is tried.
    """

    def __init__(self, urls: int, delay: float, delay_max: float) -> None:
        self._urls = urls
        self._delay_max = delay_max
        self.wait = delay
        self._tried = 0

    def failed(self) -> float:
        """Note one failed try; the seconds to wait before the next one."""
        self._tried += 1
        if self._tried < self._urls:
            return 0.0
        self._tried = 0
        self.wait = min(self.wait * 2, self._delay_max)
        return self.wait


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


class Connection:
    """One Socket.IO connection to the current server of `servers`, and its status."""

    def __init__(
        self,
        servers: ServerList,
        token: str,
        listeners: Listeners,
        chores: SerialExecutor,
        *,
        request_timeout: float,
        reconnection_delay: float,
        reconnection_delay_max: float,
    ) -> None:
        self.servers = servers
        self.request_timeout = request_timeout
        self.changed = threading.Condition(threading.RLock())
        self.status: Status = "disconnected"
        self.last_error: ChatError | None = None
        self.epoch = 0
        self.closed = False
        self._token = token
        self._changed = self.changed
        self._listeners = listeners
        self._chores = chores
        self._delays = (reconnection_delay, reconnection_delay_max)
        self._lifecycle: dict[str, Callable[..., None]] = {}
        self._refusal: dict[str, Any] | None = None
        # Reconnection is ours (`_reconnect`), not python-socketio's: it must
        # also follow a server-side close and move on to the next server URL.
        self._sio = InOrderClient(
            reconnection=False,
            logger=quiet_logger(f"{__name__}.socketio"),
            engineio_logger=quiet_logger(f"{__name__}.engineio"),
            handle_sigint=False,  # a kernel's SIGINT belongs to the kernel
            request_timeout=request_timeout,
            # websocket-client checks each text frame's UTF-8 in pure Python (a
            # broadcast's frame: 61 µs, a tenth of a send's round trip) and then
            # decodes it as strict UTF-8 anyway, which refuses the same bytes.
            websocket_extra_options={"skip_utf8_validation": True},
        )
        self.on("connect", self._on_connect)
        self.on("connect_error", self._on_connect_error)
        self.on("disconnect", self._on_disconnect)

    def on(self, event: str, handler: Callable[..., Any]) -> None:
        """Handle a server event (on a Socket.IO thread; errors are logged), LOST or RECONNECTED."""
        if event in (LOST, RECONNECTED):
            self._lifecycle[event] = handler
        else:
            self._sio.on(event, logged(handler))

    @property
    def connected(self) -> bool:
        return self.status == "connected"

    def set_status(self, status: Status, error: ChatError | None = _KEEP) -> None:
        """Change status and/or last_error; listeners hear of real changes."""
        with self._changed:
            if error is _KEEP:
                error = self.last_error
            if status == self.status and error is self.last_error:
                return
            self.status, self.last_error = status, error
            self._changed.notify_all()
            self._listeners.fire("status", status, error)

    def report(self, error: ChatError | None) -> None:
        """Set `last_error` alone."""
        self.set_status(self.status, error)

    def _status_now(self) -> Status:
        """The status as it is now (the socket's threads change it while a call waits)."""
        return self.status

    def require_connected(self) -> None:
        """Raise NotConnectedError unless joins and sends can go out now."""
        if not self.connected:
            status = self.status
            advice = ("it is reconnecting by itself: try again once `connected` is True"
                      if status == "reconnecting" else "call connect()")
            raise NotConnectedError(
                f"not connected to the chat server (status: {status}); {advice}")

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
            if self.epoch == epoch and self._status_now() == "connecting":
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
        """The chats are rejoined after a reconnect: usable again, if still that connection."""
        with self._changed:
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
            resume = self._lifecycle.get(RECONNECTED)
            if not self.closed and self.status == "reconnecting" and resume is not None:
                self._chores.submit(resume, self.epoch)

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
            on_lost = self._lifecycle.get(LOST)
            if on_lost is not None:
                on_lost(lost)
            self.set_status("reconnecting", lost)
            self._chores.submit(self._reconnect)

    def _reconnect(self) -> None:
        """Try again with backoff, moving to another server URL after each failure
        (`RetryPlan` says how long to wait).

        After each failed round the status's error says how long the server has
        been gone and when the next try is, so a server gone for good shows
        as that, not as an endless "reconnecting".
        """
        plan = RetryPlan(len(self.servers.urls), *self._delays)
        wait = plan.wait
        since = time.monotonic()
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self.closed or self.status != "reconnecting", wait)
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
                wait = plan.failed()
                with self._changed:
                    if wait and not self.closed and self.status == "reconnecting":
                        self.report(still_reconnecting(
                            self.servers.urls, time.monotonic() - since, wait))

    def link_failed(self) -> None:
        """Evidence from outside the socket (an HTTP request that could not reach the
        server) that the link is down: abort the transport, so the status leaves
        "connected" now and the usual reconnect and catch-up follow.

        A frozen link stays silent until engine.io's ping timeout; a request
        that timed out over it already says as much. The websocket is aborted,
        not closed: a closing handshake over a frozen link would hang.
        """
        with self._changed:
            if self.closed or self.status != "connected":
                return
        socket = getattr(self._sio.eio, "ws", None)
        if socket is None:
            return
        logger.info("an HTTP request could not reach %s: dropping the socket",
                    self.servers.current)
        with contextlib.suppress(OSError):
            socket.abort()  # wakes the reading thread, which reports the disconnect

    # -- emitting ---------------------------------------------------------

    def emit(
        self,
        event: str,
        payload: Mapping[str, Any],
        *,
        resuming: bool = False,
        on_ack: Callable[[Any], None] | None = None,
    ) -> Ack:
        """Emit `event` with an ack; `on_ack(payload)` runs under the lock when it comes.

        Raises NotConnectedError unless connected (or `resuming`, mid-reconnect).
        """
        with self._changed:
            usable = self.status == "connected" or (resuming and self.status == "reconnecting")
            if self.closed or not usable:
                raise NotConnectedError(
                    f"not connected to the chat server (status: {self.status})"
                )
            ack = Ack(self.epoch)
            try:
                self._sio.emit(
                    event, payload, callback=lambda *args: self._acked(ack, args, on_ack)
                )
            except socketio.exceptions.SocketIOError as exc:  # BadNamespaceError mid-reconnect
                raise NotConnectedError(f"not connected to the chat server: {exc}") from exc
            return ack

    def lost(self, ack: Ack) -> bool:
        """Whether the connection `ack` was awaited on is gone."""
        return ack.epoch != self.epoch or self.closed

    def call(
        self, event: str, payload: Mapping[str, Any], *, resuming: bool = False
    ) -> dict[str, Any]:
        """Emit and wait for the ack (the wait releases the lock); a refusal raises."""
        with self._changed:
            return self._await(event, self.emit(event, payload, resuming=resuming))

    def _await(self, event: str, ack: Ack) -> dict[str, Any]:
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
