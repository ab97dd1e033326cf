"""Crash test: clients keep sending while the server is SIGKILLed and restarted.

`clients` protocol clients in `rooms` chats send `messages` messages in all;
meanwhile the server is killed with SIGKILL `kills` times at random moments
and restarted on the same port and database. Clients retry every send that
was not acknowledged with the same `client_id` and a fresh authorization
string, and catch up with `after_seq` after each reconnect. At the end every
acknowledged message must be stored exactly once and every client must hold
the identical, gap-free, seq-ordered history of its chat.

    python -m bench.crash --clients 50 --rooms 5 --messages 10000 --kills 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from .ports import free_port
from .processes import prepare_rooms


class ServerUnderFire:
    """A `chat-widget serve` process that can be killed and restarted on one port."""

    def __init__(self, db_url: str, port: int, folder: Path, extra: Sequence[str] = ()) -> None:
        self.db_url, self.port, self.folder, self.extra = db_url, port, folder, list(extra)
        self.process: subprocess.Popen | None = None
        self.tokens: dict[str, str] = {}
        self.url = f"http://127.0.0.1:{port}"
        self.starts = 0

    def start(self) -> None:
        ready = self.folder / f"ready-{self.starts}.json"
        log = (self.folder / f"server-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chat_widget", "serve", "--demo", "--port", str(self.port),
             "--db", self.db_url, "--rate-limit", "0", "--max-connections-per-user", "0",
             "--ready-file", str(ready), "--log-level", "warning", *self.extra],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not come back")
            time.sleep(0.01)
        self.tokens = json.loads(ready.read_text())["tokens"]
        self.starts += 1

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class ResilientClient:
    """A protocol client that retries sends and catches up after every reconnect."""

    def __init__(self, name: str, url: str, token: str, chat_id: str) -> None:
        self.name, self.url, self.token, self.chat_id = name, url, token, chat_id
        self.history: dict[int, dict[str, Any]] = {}  # seq -> message, this client's view
        self.acked: list[dict[str, Any]] = []
        self.sio = socketio.AsyncClient(reconnection=True, reconnection_delay=0.05,
                                        reconnection_delay_max=0.5, randomization_factor=0.5)
        self.ready = asyncio.Event()
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("message", self._on_message)
        self.retries = 0

    def last_contiguous_seq(self) -> int:
        seq = 0
        while seq + 1 in self.history:
            seq += 1
        return seq

    async def _on_connect(self) -> None:
        asyncio.get_running_loop().create_task(self._rejoin())

    async def _on_disconnect(self, *_args: Any) -> None:
        self.ready.clear()

    async def _rejoin(self) -> None:
        try:
            ack = await self.sio.call("join", {"chat_id": self.chat_id,
                                               "after_seq": self.last_contiguous_seq()},
                                      timeout=10)
            self._merge(ack["messages"])
            if ack["has_more"]:
                await self.catch_up()
            self.ready.set()
        except Exception:
            pass  # the connection dropped again; the next connect rejoins

    async def _on_message(self, message: dict[str, Any]) -> None:
        if message["chat_id"] != self.chat_id:
            return
        gap = message["seq"] > self.last_contiguous_seq() + 1
        self._merge([message])
        if gap:
            asyncio.get_running_loop().create_task(self._fill_gap())

    async def _fill_gap(self) -> None:
        with contextlib.suppress(Exception):  # else caught up after the next reconnect
            await self.catch_up()

    def _merge(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            known = self.history.get(message["seq"])
            assert known is None or known["id"] == message["id"], (known, message)
            self.history[message["seq"]] = message

    async def catch_up(self) -> None:
        while True:
            page = await self.sio.call("history", {"chat_id": self.chat_id, "limit": 500,
                                                   "after_seq": self.last_contiguous_seq()},
                                       timeout=10)
            self._merge(page["messages"])
            if not page["has_more"]:
                return

    async def connect(self) -> None:
        await self.sio.connect(self.url, auth={"token": self.token}, transports=["websocket"],
                               wait_timeout=10, retry=True)
        await asyncio.wait_for(self.ready.wait(), 30)

    async def acknowledged(self, http: aiohttp.ClientSession, event: str,
                           payload: dict[str, Any], needs_auth: bool) -> dict[str, Any]:
        """Emit `event` until acknowledged, the same payload on every try (with a fresh
        authorization string each time when `needs_auth`); returns the ack's message."""
        while True:
            try:
                await asyncio.wait_for(self.ready.wait(), 30)
                body = dict(payload, chat_id=self.chat_id)
                if needs_auth:
                    async with http.post(self.url + "/api/message-auth",
                                         json={"chat_id": self.chat_id},
                                         headers={"Authorization": f"Bearer {self.token}"},
                                         ) as reply:
                        body["auth"] = (await reply.json())["auth"]
                ack = await self.sio.call(event, body, timeout=5)
                if ack.get("ok"):
                    return ack["message"]
            except Exception:
                pass
            self.retries += 1
            await asyncio.sleep(0.05)

    async def send(self, http: aiohttp.ClientSession, text: str, client_id: str) -> None:
        """Send until acknowledged, with the same client_id on every try."""
        self.acked.append(await self.acknowledged(
            http, "send_message", {"text": text, "client_id": client_id}, needs_auth=True))


async def server_for_rooms(rooms: int, prefix: str) -> ServerUnderFire:
    """A started server on a free port, on a new SQLite database with `rooms` chats."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    db_url = f"sqlite:///{folder / 'crash.db'}"
    await asyncio.to_thread(prepare_rooms, db_url, rooms)
    server = ServerUnderFire(db_url, free_port(), folder)
    await asyncio.to_thread(server.start)
    return server


async def kill_at_marks(server: ServerUnderFire, marks: list[float],
                        progress: Callable[[], int], random_source: random.Random) -> None:
    """SIGKILL and restart the server each time `progress()` passes the next mark."""
    for mark in sorted(marks):
        while progress() < mark:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(server.kill)
        await asyncio.sleep(random_source.uniform(0.0, 0.3))
        await asyncio.to_thread(server.start)


async def _run(clients: int, rooms: int, messages: int, kills: int, seed: int) -> dict[str, Any]:
    server = await server_for_rooms(rooms, "chat-widget-crash-")
    random_source = random.Random(seed)
    users = ["alice", "bob"]
    fleet = [ResilientClient(f"client-{i}", server.url, server.tokens[users[i % 2]],
                             f"room-{i % rooms}") for i in range(clients)]
    await asyncio.gather(*(client.connect() for client in fleet))
    per_client = messages // clients
    sent_client_ids: set[str] = set()
    started = time.perf_counter()

    async def sender(client: ResilientClient) -> None:
        async with aiohttp.ClientSession() as http:
            for index in range(per_client):
                client_id = f"{client.name}-{index}"
                sent_client_ids.add(client_id)
                await client.send(http, f"{client.name} says {index}", client_id)

    # Kill at random moments spread over the whole run: when the count of
    # acknowledged messages passes randomly drawn marks.
    marks = [random_source.uniform(0.05, 0.95) * per_client * clients for _ in range(kills)]
    killer = kill_at_marks(server, marks, lambda: sum(len(c.acked) for c in fleet),
                           random_source)
    await asyncio.gather(killer, *(sender(client) for client in fleet))
    elapsed = time.perf_counter() - started
    for client in fleet:
        await asyncio.wait_for(client.ready.wait(), 30)
        await client.catch_up()
    report = verify(fleet, rooms, sent_client_ids)
    await asyncio.gather(*(client.sio.disconnect() for client in fleet))
    server.stop()
    report.update({"clients": clients, "rooms": rooms, "messages_sent": per_client * clients,
                   "kills": kills, "server_starts": server.starts, "seconds": round(elapsed, 1),
                   "retries": sum(c.retries for c in fleet), "seed": seed})
    return report


def verify(fleet: list[ResilientClient], rooms: int, sent_client_ids: set[str]) -> dict[str, Any]:
    """Compare what was acknowledged, what is stored and what each client holds."""
    problems: list[str] = []
    stored_by_chat: dict[str, list[dict[str, Any]]] = {}
    for client in fleet:
        view = [client.history[seq] for seq in sorted(client.history)]
        if [m["seq"] for m in view] != list(range(1, len(view) + 1)):
            problems.append(f"{client.name} holds a history with gaps")
        reference = stored_by_chat.setdefault(client.chat_id, view)
        if [m["id"] for m in view] != [m["id"] for m in reference]:
            problems.append(f"{client.name} holds a different history of {client.chat_id}")
    stored = [m for view in stored_by_chat.values() for m in view]
    client_ids = [m["client_id"] for m in stored]
    duplicates = len(client_ids) - len(set(client_ids))
    stored_ids = {m["id"] for m in stored}
    acked = [m for client in fleet for m in client.acked]
    lost = [m["id"] for m in acked if m["id"] not in stored_ids]
    unexpected = set(client_ids) - sent_client_ids
    missing = sent_client_ids - set(client_ids)
    return {"acknowledged": len(acked), "stored": len(stored), "lost": len(lost),
            "doubled": duplicates, "unexpected": len(unexpected), "never_stored": len(missing),
            "divergent_clients": len(problems), "problems": problems[:10],
            "chats": len(stored_by_chat) if rooms else 0}


def run(clients: int = 50, rooms: int = 5, messages: int = 10_000, kills: int = 5,
        seed: int | None = None) -> dict[str, Any]:
    seed = seed if seed is not None else int.from_bytes(os.urandom(4), "big")
    return asyncio.run(_run(clients, rooms, messages, kills, seed))


def command_line(doc: str, run_with: Callable[..., dict[str, Any]], **counts: int) -> None:
    """`python -m bench.<crash test> --name N ... --seed S`: print the report as JSON."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in counts.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--seed", type=int)
    print(json.dumps(run_with(**vars(parser.parse_args())), indent=2))


def main() -> None:
    command_line(__doc__, run, clients=50, rooms=5, messages=10_000, kills=5)


if __name__ == "__main__":
    main()
