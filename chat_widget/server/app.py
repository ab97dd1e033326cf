"""Builds and runs the chat server: aiohttp for HTTP, python-socketio for events.

`ChatServer` owns the pieces (store, service, Socket.IO server, web app) and
their start and stop. `run_in_thread` hosts one on its own event loop in a
background thread, for notebooks and tests that want a server in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from aiohttp import web

from .activity import Activity
from .auth import DEFAULT_AUTH_TTL, MessageAuthSigner
from .blobs import blob_store_for
from .delivery import OrderedDelivery
from .events import register_events
from .file_links import FileLinks
from .file_routes import FILES_KEY, add_file_routes
from .files import DEFAULT_MAX_FILE_SIZE, FileService
from .frame_writer import FrameWriter
from .frame_writer import install as install_frame_writer
from .heartbeat import HeartbeatSocketIOServer
from .limits import ConnectionLimiter, RateLimiter
from .membership_watch import MembershipWatch
from .packets import JsonPacket
from .presence import LocalPresence, Presence
from .responders import Responder
from .room_index import IndexedAsyncManager
from .rooms import room_of
from .routes import HEALTH_CHECKS, SERVICE_KEY, add_routes, protocol_errors
from .seed import seed_demo
from .service import ChatService
from .store import Store

if TYPE_CHECKING:
    from .redis_link import RedisManager

logger = logging.getLogger(__name__)


@dataclass
class ServerConfig:
    """Everything `chat-widget serve` can be told."""

    host: str = "127.0.0.1"
    port: int = 8765
    db_url: str = "sqlite:///chat-widget.db"
    auth_ttl: float = DEFAULT_AUTH_TTL
    demo: bool = False
    redis_url: str | None = None
    redis_channel: str = "chat-widget"
    allowed_origins: list[str] = field(default_factory=list)
    rate_limit: float = 100.0
    rate_burst: float = 500.0
    max_connections_per_user: int = 100
    responder_timeout: float = 60.0
    # engine.io's heartbeat: a ping every `ping_interval` s, answered within
    # `ping_timeout` s. Each side drops a link silent for their sum, so a frozen
    # connection is noticed within 8 s (engine.io's 25 + 20 took 45 s); the cost
    # is a 1-byte ping and pong per connection every 4 s (docs/reliability.md).
    ping_interval: float = 4.0
    ping_timeout: float = 4.0
    responders: dict[str, Responder] = field(default_factory=dict)
    chat_responders: dict[str, str] = field(default_factory=dict)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    files_dir: str | None = None  # None: beside the SQLite file, or in PostgreSQL
    chat_activity: bool = True
    """Send `chat_activity` (off only to measure what it costs)."""
    direct_frames: bool = True
    """Write broadcast frames straight to plain websockets (frame_writer.py); off to compare."""


def origin_checker(allowed: list[str]) -> Any:
    """Socket.IO origin check: loopback pages, the server's own origin, and `allowed`.

    Clients that send no Origin (scripts, the notebook kernel) are not browsers
    and are let through; a page on another site is refused, so it cannot ride
    a user's session.
    """
    allowed_set = {origin.rstrip("/") for origin in allowed}

    def check(origin: str | None, environ: dict[str, Any] | None = None) -> bool:
        if not origin:
            return True
        if "*" in allowed_set or origin.rstrip("/") in allowed_set:
            return True
        host = urlsplit(origin).hostname or ""
        if host == "localhost":
            return True
        try:
            if ipaddress.ip_address(host).is_loopback:
                return True
        except ValueError:
            pass
        own_host = (environ or {}).get("HTTP_HOST")
        return bool(own_host) and urlsplit(origin).netloc == own_host

    return check


class ChatServer:
    """One chat server process: call `start()`, then `stop()`."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.store = Store(config.db_url)
        self.redis: RedisManager | None = None
        if config.redis_url:
            from .redis_link import RedisManager  # needs the `redis` extra

            self.redis = RedisManager(config.redis_url, config.redis_channel)
        self.sio = HeartbeatSocketIOServer(
            async_mode="aiohttp", client_manager=self.redis or IndexedAsyncManager(),
            serializer=JsonPacket,
            cors_allowed_origins=origin_checker(config.allowed_origins),
            max_http_buffer_size=2 * 1024 * 1024, logger=False, engineio_logger=False,
            ping_interval=config.ping_interval, ping_timeout=config.ping_timeout)
        self.frames: FrameWriter | None = (install_frame_writer(self.sio.eio)
                                           if config.direct_frames else None)
        self.sio.manager.use_frame_writer(self.frames)
        self.app = web.Application(client_max_size=2 * 1024 * 1024,
                                   middlewares=[protocol_errors])
        self.sio.attach(self.app)
        add_routes(self.app)
        add_file_routes(self.app)
        self.service: ChatService | None = None
        self.files: FileService | None = None
        self.activity: Activity | None = None
        self.delivery: OrderedDelivery | None = None
        self.demo_tokens: dict[str, str] = {}
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._prune_task: asyncio.Task[None] | None = None
        self.watch = MembershipWatch(self.store)

    async def _broadcast(self, event: str, payload: Mapping[str, Any], chat_id: str) -> None:
        await self.sio.emit(event, payload, room=room_of(chat_id))

    async def start(self) -> str:
        """Open storage, seed if asked, bind, and return the URL it listens on."""
        config = self.config
        await self.store.open()
        secret = await self.store.secret()
        signer = MessageAuthSigner(secret, config.auth_ttl)
        self.service = ChatService(
            self.store, signer, self._broadcast,
            RateLimiter(config.rate_limit, config.rate_burst), config.responder_timeout)
        for name, responder in config.responders.items():
            self.service.register_responder(name, responder)
        self.app[SERVICE_KEY] = self.service
        self.files = FileService(
            self.store, self.service.open_chat,
            blob_store_for(config.db_url, self.store.db, config.files_dir),
            FileLinks(secret), config.max_file_size)
        self.app[FILES_KEY] = self.files
        self.activity = Activity(self.sio, self.service, self._presence(),
                                 chat_activity=config.chat_activity)
        if self.redis is not None:
            self.delivery = OrderedDelivery(self.store, self.sio, self.redis.live)
            self.redis.route, self.redis.on_subscribed = (self.delivery.route,
                                                          self.delivery.subscribed)
            self.app[HEALTH_CHECKS] = {"redis": self.redis.health}
        register_events(self.sio, self.service, self.activity,
                        ConnectionLimiter(config.max_connections_per_user),
                        self.delivery.enter if self.delivery else None, self.watch)
        if config.demo:
            self.demo_tokens = await seed_demo(self.store)
        for chat_id, responder_name in config.chat_responders.items():
            await self.store.set_responder(chat_id, responder_name)
        if self.redis is not None:
            await self.redis.start()  # subscribed before the first client can connect
        if self.delivery is not None:  # there is one exactly when there is Redis
            self.delivery.start()
        await self.activity.presence.start()
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None,
                                     shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, config.host, config.port)
        await site.start()
        listening = cast(asyncio.Server, site._server)  # asyncio's or uvloop's: both have sockets
        port = listening.sockets[0].getsockname()[1]  # the real port when 0 was asked
        host = config.host if ":" not in config.host else f"[{config.host}]"
        self.url = f"http://{host}:{port}"
        self._prune_task = asyncio.get_running_loop().create_task(self._prune_used_auth())
        self.watch.start()
        return self.url

    def _presence(self) -> Presence:
        """Shared through Redis when several processes serve; else this process's memory."""
        if self.redis is None:
            return LocalPresence()
        from .redis_presence import RedisPresence

        return RedisPresence(self.config.redis_url or "", f"{self.config.redis_channel}:live",
                             self.redis.host_id)

    async def _prune_used_auth(self) -> None:
        while True:
            await asyncio.sleep(60)
            try:
                await self.store.prune_used_auth()
            except Exception as error:
                logger.warning("pruning spent authorization strings failed: %s", error)

    async def stop(self) -> None:
        """Close every client connection, stop accepting, finish open work, close storage."""
        if self._prune_task is not None:
            self._prune_task.cancel()
        await self.watch.close()
        # Close every client, so open websockets end now. Bounded: a socket
        # caught mid-close by its client can leave this waiting forever (or the
        # last one can go between the check and the wait: ValueError); the
        # runner's cleanup closes whatever is left.
        if self.sio.eio.sockets:
            with contextlib.suppress(asyncio.TimeoutError, ValueError):
                await asyncio.wait_for(self.sio.eio.disconnect(), 1.0)
        # Engine.IO's shutdown waits for its ping task, which can itself be stuck
        # closing such a socket: a stop once hung there for good. Bounded too; the
        # wait's cancellation ends that task.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.sio.shutdown(), 2.0)
        if self.activity is not None:
            await self.activity.close()
        if self.delivery is not None:
            await self.delivery.close()
        if self.redis is not None:
            await self.redis.close()
        if self.service is not None:
            await self.service.responders.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.files is not None:
            await self.files.blobs.close()
        await self.store.close()


class ThreadedServer:
    """A ChatServer on its own event loop in a daemon thread.

    For notebooks (one call gives a working chat) and in-process tests: the
    caller's thread and event loop are never used, so a running kernel loop is
    not disturbed.
    """

    def __init__(self, config: ServerConfig) -> None:
        self.server = ChatServer(config)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="chat-widget-server")

    def start(self, timeout: float = 30.0) -> str:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self.server.start(), self._loop)
        return future.result(timeout)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def tokens(self) -> dict[str, str]:
        return self.server.demo_tokens

    def stop(self, timeout: float = 10.0) -> None:
        if not self._loop.is_running():
            return
        future = asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop)
        try:
            future.result(timeout)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
