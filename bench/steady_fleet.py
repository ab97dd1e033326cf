"""Steady traffic on a deployment of several server processes, for the engine-fault runs.

A deployment here is `processes` `chat-widget serve` processes, each on a
port of its own that it keeps across a SIGKILL and restart, over a private
PostgreSQL and a private redis-server (bench/private_postgres.py,
bench/private_redis.py; the machine's shared ones are never touched). The
fleet is one ChatClient per user (`member-0` .. `member-N`, added to the
demo workspace before the servers start), all in the chat `general`, each
sending a message every `every` s (`Sender`, which bench/postgres_restart.py
uses too): distinct users, so presence shows each client on its own.

`verdict` then judges a run from what was acknowledged, what the database
holds and what each client was shown.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from chat_widget.client import ChatClient
from chat_widget.errors import ChatError

from .crash import ServerUnderFire
from .ports import free_port
from .private_postgres import PrivatePostgres
from .private_redis import PrivateRedis

CHAT = "general"


class Sender(threading.Thread):
    """One ChatClient sending one message after another (`every` s apart) until told to stop.

    `url` may be every server URL of the deployment (the client fails over).
    What `on_message` hands it is kept in `delivered`, (seq, id) in the order
    shown, so a run can tell a message missing or shown twice at this client;
    `reconnects` counts the times its link was lost, `offline_s` how long each
    took to come back.
    """

    def __init__(self, url: str | list[str], token: str, index: int,
                 every: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.client = ChatClient(url, token, send_timeout=30.0, request_timeout=5.0,
                                 reconnection_delay=0.2, reconnection_delay_max=1.0)
        self.delivered: list[tuple[int, str]] = []
        self.client.on_message(lambda message: self.delivered.append(
            (message["seq"], message["id"])))
        self.client.join("general")
        self.index, self.acked, self.failures, self.fetches = index, [], [], 0
        self.every, self.reconnects, self._last_status = every, 0, self.client.status
        self.offline_s: list[float] = []  # how long each lost link took to be back
        self._lost_at: float | None = None
        self.client.on_event(self._count)
        self.client.on_status(self._status)
        self.stop = threading.Event()

    @property
    def last_seq(self) -> int:
        """The seq of the last message shown (they are shown in unbroken seq order)."""
        return self.delivered[-1][0] if self.delivered else 0

    def _status(self, status: str, _error: ChatError | None) -> None:
        # Heard on every change of status or error: a failed attempt repeats "reconnecting".
        if status == "reconnecting" != self._last_status:
            self.reconnects += 1
            self._lost_at = time.monotonic()
        elif status == "connected" and self._lost_at is not None:
            self.offline_s.append(time.monotonic() - self._lost_at)
            self._lost_at = None
        self._last_status = status

    def _count(self, event: dict[str, Any]) -> None:
        if event["kind"] == "auth_fetch_start":
            self.fetches += 1

    def run(self) -> None:
        while not self.stop.wait(self.every):
            client_id = f"{self.index}-{uuid.uuid4().hex}"
            try:
                self.client.send(f"from {self.index}", client_id=client_id)
                self.acked.append(client_id)
            except ChatError as error:
                self.failures.append((time.monotonic(), error.code, error.message))

    def close(self) -> None:
        self.stop.set()
        self.join(timeout=60)
        self.client.close()


@dataclass
class Deployment:
    pg: PrivatePostgres
    redis: PrivateRedis
    servers: list[ServerUnderFire]
    tokens: dict[str, str]  # member user id -> its token
    senders: list[Sender] = field(default_factory=list)

    @property
    def db_url(self) -> str:
        return self.servers[0].db_url

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]


def member_tokens(count: int) -> dict[str, str]:
    return {f"member-{index}": secrets.token_urlsafe(24) for index in range(count)}


def add_members(db_url: str, tokens: dict[str, str]) -> None:
    """Make the database (as `serve` would) and let each member into the demo workspace."""
    from chat_widget.server.store import open_store

    async def add() -> None:
        async with open_store(db_url) as store:
            await store.add_workspace("demo")
            for user_id, token in tokens.items():
                await store.ensure_user(user_id, user_id, token, "user")
                await store.add_member("demo", user_id)

    asyncio.run(add())


def fleet_arguments(description: str) -> argparse.ArgumentParser:
    """The command line every fault run over a fleet shares: its size and the kills."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--kills", type=int, default=3)
    return parser


@contextlib.contextmanager
def deployment(processes: int, members: int) -> Iterator[Deployment]:
    """Private PostgreSQL and Redis, `processes` servers on them, and `members` users."""
    with PrivatePostgres() as pg, PrivateRedis() as redis_server:
        db_url = pg.url("chat")
        tokens = member_tokens(members)
        add_members(db_url, tokens)
        channel = f"faults-{uuid.uuid4().hex}"
        folder = Path(tempfile.mkdtemp(prefix="chat-widget-faults-"))
        servers = [ServerUnderFire(db_url, free_port(), folder / f"p{index}",
                                   ["--redis", redis_server.url, "--redis-channel", channel,
                                    "--log-level", "info"])
                   for index in range(processes)]
        for server in servers:
            server.folder.mkdir(parents=True)
        with ThreadPoolExecutor(len(servers)) as starting:  # each waits for its ready file
            list(starting.map(ServerUnderFire.start, servers))
        setup = Deployment(pg, redis_server, servers, tokens)
        try:
            yield setup
        finally:
            for sender in setup.senders:
                sender.stop.set()
            for sender in setup.senders:
                sender.close()
            for server in servers:
                server.stop()


def start_fleet(setup: Deployment, urls_for: Callable[[int], list[str]],
                every: float) -> list[Sender]:
    """One sender per member, given `urls_for(index)`; all connected, joined and sending."""
    setup.senders = [Sender(urls_for(index), setup.tokens[f"member-{index}"], index, every)
                     for index in range(len(setup.tokens))]
    for sender in setup.senders:
        sender.start()
    return setup.senders


def stop_fleet(senders: list[Sender]) -> None:
    """Stop sending; the clients stay connected (to be judged), closed by `deployment`."""
    for sender in senders:
        sender.stop.set()
    for sender in senders:
        sender.join(timeout=60)


def wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.05,
               ) -> float | None:
    """Seconds until `condition()` held, or None if it did not within `timeout`."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout:
            return None
        time.sleep(step)
    return round(time.monotonic() - began, 2)


def first_times(since: float, timeout: float, conditions: dict[str, Callable[[], bool]],
                ) -> dict[str, float | None]:
    """For each named condition, the seconds from `since` until it first held (None if
    not within `timeout`), all watched together."""
    found: dict[str, float | None] = dict.fromkeys(conditions)
    while time.monotonic() - since <= timeout:
        for name, condition in conditions.items():
            if found[name] is None and condition():
                found[name] = round(time.monotonic() - since, 2)
        if all(value is not None for value in found.values()):
            break
        time.sleep(0.05)
    return found


def present_ids(sender: Sender) -> set[str]:
    """Who this client is shown as present in the chat."""
    return {user["id"] for user in sender.client.present}


def all_see(watchers: list[Sender], expected: set[str]) -> bool:
    return all(watcher.client.connected and present_ids(watcher) == expected
               for watcher in watchers)


def fresh_view(url: str, token: str) -> set[str]:
    """Who a client joining the chat now is shown present (from its join ack)."""
    with ChatClient(url, token) as client:
        client.join(CHAT)
        return {user["id"] for user in client.present}


def stored_messages(db_url: str) -> list[tuple[int, str, str | None]]:
    """(seq, id, client_id) of every message in the chat, in seq order."""
    import asyncpg

    async def read() -> list[Any]:
        connection = await asyncpg.connect(db_url)
        try:
            return list(await connection.fetch(
                "SELECT seq, id, client_id FROM messages WHERE chat_id = $1 ORDER BY seq",
                CHAT))
        finally:
            await connection.close()

    return [(row["seq"], row["id"], row["client_id"]) for row in asyncio.run(read())]


def last_stored_seq(db_url: str) -> int:
    stored = stored_messages(db_url)
    return stored[-1][0] if stored else 0


def redis_health(url: str) -> str | None:
    """What `GET /api/health` says of the process's Redis link ("ok", "down"), None if
    the process does not answer."""
    try:
        return str(requests.get(url + "/api/health", timeout=2).json().get("redis"))
    except (requests.RequestException, ValueError):
        return None


def verdict(setup: Deployment, catch_up_timeout: float = 30.0) -> dict[str, Any]:
    """Once sending stopped: wait for every client to be shown the last stored message,
    then compare what was acknowledged, stored and shown."""
    senders = setup.senders
    stored = stored_messages(setup.db_url)
    last = stored[-1][0] if stored else 0
    caught_up_s = wait_until(lambda: all(sender.last_seq >= last for sender in senders),
                             catch_up_timeout)
    stored_ids = [message_id for _seq, message_id, _client_id in stored]
    by_client_id = Counter(client_id for _seq, _id, client_id in stored if client_id)
    id_of = {client_id: message_id for _seq, message_id, client_id in stored if client_id}
    acked = [client_id for sender in senders for client_id in sender.acked]
    acked_ids = [id_of[client_id] for client_id in acked if client_id in id_of]
    failures = [failure for sender in senders for failure in sender.failures]
    missing_at_clients = doubled_at_clients = divergent = 0
    for sender in senders:
        shown = [message_id for _seq, message_id in sender.delivered]
        held = set(shown)
        missing_at_clients += sum(1 for message_id in acked_ids if message_id not in held)
        doubled_at_clients += len(shown) - len(held)
        divergent += shown != stored_ids
    return {
        "sends": len(acked) + len(failures), "acknowledged": len(acked),
        "failed_sends": len(failures),
        "failed_send_codes": sorted({code for _t, code, _m in failures}),
        "stored": len(stored),
        "lost": sum(1 for client_id in acked if by_client_id[client_id] == 0),
        "doubled": sum(1 for count in by_client_id.values() if count > 1),
        "missing_at_clients": missing_at_clients, "doubled_at_clients": doubled_at_clients,
        "divergent_clients": divergent, "all_caught_up_s": caught_up_s,
        "reconnects": sum(sender.reconnects for sender in senders),
    }
