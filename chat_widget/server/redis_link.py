"""Socket.IO's pub/sub client manager over Redis, with a subscription that is known to be live.

Why not python-socketio's own `AsyncRedisManager`: its listener, after losing
Redis, waits 1, 2, 4 ... up to 60 s between attempts and never shortens the
wait when Redis comes back, so a process stays deaf for seconds to a minute
after a short Redis restart (a 3 s outage left it deaf 4 s more). Its publisher
and listener also share one client, and redis-py's own reconnect resubscribes
without telling anyone, so a lost stretch of messages goes unnoticed.

This manager keeps the publisher and the listener on separate connections,
retries the listener at once and then at most every second, and counts a
subscription as live only when a probe it published on the channel has come
back through it. Each confirmed (re)subscription is reported through
`on_subscribed`, so the caller can deliver from the database what Redis pub/sub
(at most once) dropped meanwhile. A subscription dead for longer than
`DOWN_AFTER` seconds is logged and shown by `health()`.

Only `_publish` and `_listen` (the hooks python-socketio's pub/sub managers are
built on) and `_handle_emit` (where every emit, local or remote, reaches this
process's clients; see `route`) are overridden. `emit_each` (emitting.py) is
this project's own: one event to many rooms, each with its own payload, as
one pub/sub message per EACH_BATCH rooms rather than one per room (a
`chat_activity` to a workspace of 50 users was 50 messages, each read and
decoded by every process). Processes that do not know the method skip it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from socketio.async_pubsub_manager import AsyncPubSubManager

from .emitting import DirectEmitManager
from .room_index import IndexedRooms

logger = logging.getLogger(__name__)

# The listener's retry delay: first RETRY_FIRST, doubling up to RETRY_CAP.
RETRY_FIRST = 0.1
RETRY_CAP = 1.0
# Idle this long, the listener pings Redis; silent SILENCE_LIMIT, it reconnects.
PING_SECONDS = 1.0
SILENCE_LIMIT = 3.0
# A probe not back within this long counts as a failed subscription.
PROBE_TIMEOUT = 3.0
# Down this long, the subscription is reported down (log and health).
DOWN_AFTER = 2.0
# Failed publishes are logged at most this often.
PUBLISH_LOG_SECONDS = 5.0
CONNECT_TIMEOUT = 2.0

PROBE_METHOD = "chat-widget-probe"
_PROBE_PREFIX = b'{"method": "' + PROBE_METHOD.encode() + b'"'
# `emit_each`: one pub/sub message carries up to EACH_BATCH rooms' payloads.
EACH_METHOD = "chat-widget-emit-each"
_EACH_PREFIX = b'{"method": "' + EACH_METHOD.encode() + b'"'
EACH_BATCH = 500

Route = Callable[[dict[str, Any]], Awaitable[bool]]


def redacted(url: str) -> str:
    """The Redis URL without its password, for logs and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


class RedisManager(IndexedRooms, AsyncPubSubManager, DirectEmitManager):
    """Fan-out between server processes through one Redis pub/sub channel."""

    name = "chat-widget-redis"

    def __init__(self, url: str, channel: str) -> None:
        super().__init__(channel=channel)
        self.url = url
        self.on_subscribed: Callable[[], None] | None = None
        """Called after every confirmed (re)subscription: messages may have been missed."""
        self.route: Route | None = None
        """Offered every emit first; when it returns True it delivered the emit itself."""
        self._publisher = self._client(retries=1)
        self._probe_nonce = ""
        self._confirmed = asyncio.Event()
        self._up = False
        self._down_since: float = time.monotonic()
        self._last_error = ""
        self._down_reported = False
        self._down_timer: asyncio.TimerHandle | None = None
        self._publish_failures = 0
        self._publish_logged_at = 0.0

    def set_server(self, server: Any) -> None:
        """python-socketio hands the manager the packets' JSON module (`json_text` here);
        what crosses Redis keeps the json module's spelling, which the prefix checks
        below and every process of an earlier release read."""
        super().set_server(server)
        self.json = json

    def _client(self, retries: int) -> Redis:
        return Redis.from_url(self.url, retry=Retry(NoBackoff(), retries),
                              socket_connect_timeout=CONNECT_TIMEOUT,
                              socket_timeout=CONNECT_TIMEOUT, socket_keepalive=True)

    # --- start, stop, state -------------------------------------------------------

    async def start(self, timeout: float = 10.0) -> None:
        """Start listening now (not on the first connection) and wait for a live subscription.

        Raises ConnectionError when the probe is not back within `timeout`.
        """
        if not self.server.manager_initialized:
            self.server.manager_initialized = True
            self.initialize()
        try:
            await asyncio.wait_for(self._confirmed.wait(), timeout)
        except asyncio.TimeoutError:
            await self.close()
            raise ConnectionError(
                f"Redis at {redacted(self.url)} did not confirm a subscription to "
                f"{self.channel!r} within {timeout:g} s; is it running?") from None

    async def close(self) -> None:
        """Stop listening and close both connections."""
        thread = getattr(self, "thread", None)
        if thread is not None:
            thread.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await thread
        with contextlib.suppress(Exception):
            await self._publisher.aclose()

    def live(self) -> bool:
        """True while the subscription is confirmed and has not failed since."""
        return self._up

    def health(self) -> str:
        """'ok', or 'down' once the subscription has been dead longer than DOWN_AFTER."""
        return "down" if self._down_reported else "ok"

    def _mark_up(self) -> None:
        if self._down_timer is not None:
            self._down_timer.cancel()
            self._down_timer = None
        if self._down_reported:
            logger.warning("Redis subscription restored after %.1f s down",
                           time.monotonic() - self._down_since)
        self._up = True
        self._down_reported = False
        self._confirmed.set()

    def _mark_lost(self, error: BaseException) -> None:
        self._last_error = str(error) or type(error).__name__
        if self._up:
            self._up = False
            self._down_since = time.monotonic()
            logger.warning("Redis subscription lost (%s); reconnecting", self._last_error)
            self._down_timer = asyncio.get_running_loop().call_later(
                DOWN_AFTER, self._report_down)

    def _report_down(self) -> None:
        """Still down DOWN_AFTER seconds after the loss: say so, in the log and in health()."""
        self._down_timer = None
        self._down_reported = True
        logger.error("Redis subscription down for %.1f s (%s); messages from other processes "
                     "reach this one only from the database until it is back",
                     time.monotonic() - self._down_since, self._last_error)

    # --- the pub/sub hooks ----------------------------------------------------------

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        if self.route is not None and await self.route(message):
            return
        await super()._handle_emit(message)

    async def emit_each(self, event: str, items: Sequence[tuple[str, Any]],
                        namespace: str = "/") -> None:
        await self.emit_each_here(event, items, namespace)
        for start in range(0, len(items), EACH_BATCH):
            await self._publish({"method": EACH_METHOD, "host_id": self.host_id,
                                 "event": event, "namespace": namespace,
                                 "items": [list(item) for item in
                                           items[start:start + EACH_BATCH]]})

    async def _handle_emit_each(self, data: bytes) -> None:
        """Another process's `emit_each`: deliver it here (a bad one is logged, not raised)."""
        try:
            message = json.loads(data)
            if message.get("host_id") == self.host_id:
                return  # delivered here when it was emitted
            await self.emit_each_here(message["event"],
                                      [(room, payload) for room, payload in message["items"]],
                                      message.get("namespace") or "/")
        except Exception:
            logger.exception("could not deliver an emit to many rooms from Redis")

    async def _publish(self, data: Any) -> None:
        """Publish; a failure is logged, never raised (the database holds every message)."""
        try:
            await self._publisher.publish(self.channel, self.json.dumps(data))
        except Exception as error:
            self._publish_failures += 1
            now = time.monotonic()
            if now - self._publish_logged_at > PUBLISH_LOG_SECONDS:
                self._publish_logged_at = now
                logger.warning("publishing to Redis failed (%d times so far): %s",
                               self._publish_failures, error or type(error))

    async def _listen(self) -> AsyncIterator[bytes]:
        delay = RETRY_FIRST
        while True:
            client = self._client(retries=0)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                async for data in self._subscription(pubsub):
                    delay = RETRY_FIRST
                    if isinstance(data, bytes) and data.startswith(_EACH_PREFIX):
                        await self._handle_emit_each(data)  # in turn, between the others
                        continue
                    yield data
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._mark_lost(error)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_CAP)

    async def _subscription(self, pubsub: Any) -> AsyncIterator[bytes]:
        """One subscription's messages; raises when it fails, falls silent or is not confirmed."""
        await pubsub.subscribe(self.channel)
        await self._send_probe()
        confirmed = False
        probe_sent = heard = time.monotonic()
        while True:
            message = await pubsub.get_message(timeout=PING_SECONDS)
            now = time.monotonic()
            if message is None:
                if now - heard > SILENCE_LIMIT:
                    raise ConnectionError(f"Redis silent for {now - heard:.1f} s")
                if not confirmed and now - probe_sent > PROBE_TIMEOUT:
                    raise ConnectionError("the subscription probe did not come back")
                await pubsub.ping()
                continue
            heard = now
            if message.get("type") != "message":
                continue
            data = message.get("data")
            if isinstance(data, bytes) and data.startswith(_PROBE_PREFIX):
                if not confirmed and self._probe_nonce.encode() in data:
                    confirmed = True
                    self._mark_up()
                    if self.on_subscribed is not None:
                        self.on_subscribed()
                continue
            yield data

    async def _send_probe(self) -> None:
        self._probe_nonce = uuid.uuid4().hex
        probe = {"method": PROBE_METHOD, "host_id": self.host_id, "nonce": self._probe_nonce}
        await self._publisher.publish(self.channel, json.dumps(probe))
