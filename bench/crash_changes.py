"""Crash test for changes: clients edit and react while the server is SIGKILLed.

Like `bench.crash`, but for protocol 1.1 changes. Each of `clients` clients
first sends a few messages of its own, then makes `changes` changes in all:
edits with a new text each time, and reactions switched on and off. The
server is killed with SIGKILL `kills` times at random moments and restarted
on the same port and database. A change whose ack was lost is retried as it
was (an edit to the same text, a reaction with the same `on`): if the first
try was stored, the retry changes nothing and takes no version. Clients
follow `message_updated`, ask `changes` when `version` jumps, and catch up
with `join`'s `after_version` after each reconnect.

At the end, per chat: `last_version` must equal the number of acknowledged
changes (fewer: a change was lost; more: one was applied twice), the
versions the acks carried must be exactly 1..`last_version` (no gap, none
twice: only its owner changes a message here, so a retried change is
answered with the version its first try took), every message must stand as
its last acknowledged change left it, and every client must hold that same
state.

    python -m bench.crash_changes --clients 50 --rooms 5 --changes 5000 --kills 5
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from typing import Any

import aiohttp

from .crash import ResilientClient, command_line, kill_at_marks, server_for_rooms

OWN_MESSAGES = 5
EMOJI = "👍"


class ChangingClient(ResilientClient):
    """A resilient client that also keeps every changed message of its chat current."""

    def __init__(self, name: str, url: str, token: str, chat_id: str, user_id: str) -> None:
        super().__init__(name, url, token, chat_id)
        self.user_id = user_id
        self.changed: dict[str, dict[str, Any]] = {}  # message id -> latest known state
        self.known_version = 0  # every change up to this version is in `changed`
        self.changes_acked = 0
        self.acked_versions: list[int] = []  # the version each acknowledged change took
        self.expected: dict[str, dict[str, Any]] = {}  # own message id -> its last acked state
        self.sio.on("message_updated", self._on_updated)

    async def _rejoin(self) -> None:
        try:
            ack = await self.sio.call("join", {"chat_id": self.chat_id,
                                               "after_seq": self.last_contiguous_seq(),
                                               "after_version": self.known_version},
                                      timeout=10)
            self._merge(ack["messages"])
            if ack["has_more"]:
                await self.catch_up()
            self._merge_changes(ack["updated"], ack["has_more_updates"])
            if ack["has_more_updates"]:
                await self.catch_up_changes()
            self.ready.set()
        except Exception:
            pass  # the connection dropped again; the next connect rejoins

    def _merge_changes(self, messages: list[dict[str, Any]], has_more: bool) -> None:
        for message in messages:
            known = self.changed.get(message["id"])
            if known is None or known["version"] < message["version"]:
                self.changed[message["id"]] = message
        if messages and not has_more:
            self.known_version = max(self.known_version, messages[-1]["version"])

    async def _on_updated(self, message: dict[str, Any]) -> None:
        if message["chat_id"] != self.chat_id:
            return
        gap = message["version"] > self.known_version + 1
        self._merge_changes([message], has_more=gap)
        if gap:
            asyncio.get_running_loop().create_task(self._fill_change_gap())

    async def _fill_change_gap(self) -> None:
        with contextlib.suppress(Exception):  # else caught up after the next reconnect
            await self.catch_up_changes()

    async def catch_up_changes(self) -> None:
        while True:
            page = await self.sio.call("changes", {"chat_id": self.chat_id, "limit": 500,
                                                   "after_version": self.known_version},
                                       timeout=10)
            self._merge_changes(page["messages"], page["has_more"])
            if not page["has_more"]:
                return

    async def change(self, http: aiohttp.ClientSession, event: str,
                     payload: dict[str, Any]) -> None:
        """Make one change until acknowledged, retrying it exactly as it was."""
        message = await self.acknowledged(http, event, payload,
                                          needs_auth=event == "edit_message")
        self.changes_acked += 1
        self.acked_versions.append(message["version"])
        self.expected[message["id"]] = message


async def _run(clients: int, rooms: int, changes: int, kills: int, seed: int) -> dict[str, Any]:
    server = await server_for_rooms(rooms, "chat-widget-crash-changes-")
    random_source = random.Random(seed)
    users = ["alice", "bob"]
    fleet = [ChangingClient(f"client-{i}", server.url, server.tokens[users[i % 2]],
                            f"room-{i % rooms}", users[i % 2]) for i in range(clients)]
    await asyncio.gather(*(client.connect() for client in fleet))
    per_client = changes // clients
    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(client.send(http, f"{client.name} own {n}",
                                           f"{client.name}-own-{n}")
                               for client in fleet for n in range(OWN_MESSAGES)))
    started = time.perf_counter()

    async def changer(client: ChangingClient) -> None:
        own = [m["id"] for m in client.acked]
        reacted: set[str] = set()
        async with aiohttp.ClientSession() as http:
            for index in range(per_client):
                target = own[index % len(own)]
                if index % 3 == 2:
                    on = target not in reacted
                    reacted ^= {target}
                    await client.change(http, "react", {"id": target, "emoji": EMOJI,
                                                        "on": on})
                else:
                    await client.change(http, "edit_message", {
                        "id": target, "text": f"{client.name} edit {index}"})

    marks = [random_source.uniform(0.05, 0.95) * per_client * clients for _ in range(kills)]
    killer = kill_at_marks(server, marks, lambda: sum(c.changes_acked for c in fleet),
                           random_source)
    await asyncio.gather(killer, *(changer(client) for client in fleet))
    elapsed = time.perf_counter() - started
    for client in fleet:
        await asyncio.wait_for(client.ready.wait(), 30)
        await client.catch_up_changes()
    stored = await _stored_changes(server.url, server.tokens["alice"], rooms)
    report = verify(fleet, stored)
    await asyncio.gather(*(client.sio.disconnect() for client in fleet))
    server.stop()
    report.update({"clients": clients, "rooms": rooms, "changes_made": per_client * clients,
                   "kills": kills, "server_starts": server.starts,
                   "seconds": round(elapsed, 1), "retries": sum(c.retries for c in fleet),
                   "seed": seed})
    return report


async def _stored_changes(url: str, token: str, rooms: int) -> dict[str, Any]:
    """Each chat's `last_version` and changed messages, read over HTTP after the run."""
    stored: dict[str, Any] = {}
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(url + "/api/chats") as reply:
            last_versions = {c["id"]: c["last_version"] for c in (await reply.json())["chats"]}
        for room in (f"room-{i}" for i in range(rooms)):
            messages: list[dict[str, Any]] = []
            while True:
                after = messages[-1]["version"] if messages else 0
                async with http.get(f"{url}/api/chats/{room}/changes",
                                    params={"after_version": after, "limit": 500}) as reply:
                    page = await reply.json()
                messages += page["messages"]
                if not page["has_more"]:
                    break
            stored[room] = {"last_version": last_versions[room],
                            "messages": {m["id"]: m for m in messages}}
    return stored


def verify(fleet: list[ChangingClient], stored: dict[str, Any]) -> dict[str, Any]:
    """Compare what was acknowledged, what is stored and what each client holds."""
    problems: list[str] = []
    acked_by_chat: dict[str, int] = {}
    versions_by_chat: dict[str, list[int]] = {}
    wrong_state = 0
    for client in fleet:
        acked_by_chat[client.chat_id] = acked_by_chat.get(client.chat_id, 0) \
            + client.changes_acked
        versions_by_chat.setdefault(client.chat_id, []).extend(client.acked_versions)
        chat = stored[client.chat_id]
        for message_id, expected in client.expected.items():
            now = chat["messages"].get(message_id)
            if now is None or (now["text"], now["reactions"]) != (expected["text"],
                                                                  expected["reactions"]):
                wrong_state += 1
        if client.changed != chat["messages"]:
            problems.append(f"{client.name} holds a different state of {client.chat_id}")
    version_deficit = sum(max(0, acked - stored[chat_id]["last_version"])
                          for chat_id, acked in acked_by_chat.items())
    doubled = sum(max(0, stored[chat_id]["last_version"] - acked)
                  for chat_id, acked in acked_by_chat.items())
    version_gaps = sum(
        len(set(range(1, stored[chat_id]["last_version"] + 1)) - set(versions))
        for chat_id, versions in versions_by_chat.items())
    acked_twice = sum(len(versions) - len(set(versions))
                      for versions in versions_by_chat.values())
    repeated = acked_twice + sum(
        len(chat["messages"]) - len({m["version"] for m in chat["messages"].values()})
        for chat in stored.values())
    return {"acknowledged": sum(acked_by_chat.values()),
            "versions_taken": sum(chat["last_version"] for chat in stored.values()),
            "lost": wrong_state + version_deficit, "doubled": doubled,
            "repeated_versions": repeated, "version_gaps": version_gaps,
            "divergent_clients": len(problems), "problems": problems[:10]}


def run(clients: int = 50, rooms: int = 5, changes: int = 5_000, kills: int = 5,
        seed: int | None = None) -> dict[str, Any]:
    seed = seed if seed is not None else int.from_bytes(os.urandom(4), "big")
    return asyncio.run(_run(clients, rooms, changes, kills, seed))


def main() -> None:
    command_line(__doc__, run, clients=50, rooms=5, changes=5_000, kills=5)


if __name__ == "__main__":
    main()
