"""PostgreSQL restarted under steady traffic: clear errors during the outage, none after.

A private PostgreSQL cluster (bench/private_postgres.py, never the shared
one) holds the chat; `processes` server processes share it (over Redis when
there are several), and one more process stays idle. `clients` ChatClients
send one message after another while PostgreSQL is restarted `restarts`
times (`pg_ctl stop -m fast`, down `down_for` s, start). Meanwhile a prober
asks `GET /api/chats` every 50 ms, so what the server answers during each
outage is seen as it is. After each recovery the idle process, whose pool
holds connections the restart closed, is asked a round of requests.

What must hold: every send acknowledged (ChatClient retries `internal` with
the same client_id), each stored once; the outage's answers carry the
protocol's code; no request begun after a recovery fails, on either process.

    python -m bench.postgres_restart --clients 50 --processes 3 --restarts 3
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
import uuid
from collections import Counter
from typing import Any

import requests

from chat_widget.client import ChatClient
from chat_widget.errors import ChatError

from .private_postgres import PrivatePostgres
from .processes import chat_server
from .steady_fleet import Sender

REDIS_URL = "redis://127.0.0.1:6379/0"


class Prober(threading.Thread):
    """`GET /api/chats` every 50 ms; each answer kept with when its request began."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.answers = url, []  # (began, status, code, message)
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {token}"
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            self.answers.append(ask(self._session, "GET", self.url + "/api/chats"))


def ask(session: requests.Session, method: str, url: str, **kwargs: Any) -> tuple[Any, ...]:
    began = time.monotonic()
    try:
        answer = session.request(method, url, timeout=10, **kwargs)
    except requests.RequestException as error:
        return began, None, "unreachable", str(error)
    error = answer.json().get("error") if not answer.ok else None
    return (began, answer.status_code, error and error.get("code"),
            error and error.get("message"))


def idle_round(url: str, token: str) -> list[tuple[Any, ...]]:
    """A first round of requests to a process that was idle through the restart."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    answers = [ask(session, "GET", url + "/api/me"), ask(session, "GET", url + "/api/chats"),
               ask(session, "POST", url + "/api/message-auth", json={"chat_id": "general"})]
    began, fetches = time.monotonic(), []
    try:
        with ChatClient(url, token) as client:
            client.on_event(lambda event: fetches.append(event["kind"] == "auth_fetch_start"))
            client.join("general")
            client.send("after the restart, from the idle process")
            client._listeners.drain()
        # A second authorization fetch would mean the first attempt was refused.
        answers.append((began, 200 if sum(fetches) == 1 else None, "retried", None))
    except ChatError as error:
        answers.append((began, None, error.code, error.message))
    return answers


def stored_client_ids(db_url: str) -> Counter[str]:
    import asyncio

    import asyncpg

    async def read() -> list[Any]:
        connection = await asyncpg.connect(db_url)
        try:
            return list(await connection.fetch(
                "SELECT client_id FROM messages WHERE client_id IS NOT NULL"))
        finally:
            await connection.close()

    return Counter(row["client_id"] for row in asyncio.run(read()))


def run(clients: int = 50, processes: int = 3, restarts: int = 3,
        down_for: float = 2.0) -> dict[str, Any]:
    with PrivatePostgres() as pg, contextlib.ExitStack() as stack:
        db_url = pg.url("chat")
        extra = (["--redis", REDIS_URL, "--redis-channel", f"pg-restart-{uuid.uuid4().hex}"]
                 if processes > 1 else [])
        busy = [stack.enter_context(chat_server(db_url, *extra)) for _ in range(processes)]
        idle = stack.enter_context(chat_server(db_url, *extra))
        tokens = busy[0]["tokens"]
        senders = [Sender(busy[index % processes]["url"],
                          tokens["alice" if index % 2 else "bob"], index)
                   for index in range(clients)]
        prober = Prober(busy[0]["url"], tokens["alice"])
        for thread in (*senders, prober):
            thread.start()
        windows, idle_answers = [], []
        try:
            time.sleep(1.0)
            for _restart in range(restarts):
                down_at = time.monotonic()
                pg.restart(down_for)
                windows.append((down_at, time.monotonic()))
                time.sleep(1.0)  # traffic goes on; the idle process stays idle until now
                idle_answers += idle_round(idle["url"], tokens["bob"])
                time.sleep(1.0)
        finally:
            prober.stop.set()
            for sender in senders:
                sender.close()
        stored = stored_client_ids(db_url)
    return _figures(senders, prober.answers, idle_answers, windows, stored, clients, processes,
                    down_for)


def _figures(senders: list[Sender], answers: list[tuple[Any, ...]],
             idle_answers: list[tuple[Any, ...]], windows: list[tuple[float, float]],
             stored: Counter[str], clients: int, processes: int,
             down_for: float) -> dict[str, Any]:
    acked = [client_id for sender in senders for client_id in sender.acked]
    failures = [failure for sender in senders for failure in sender.failures]

    def in_outage(began: float) -> bool:  # a request begun just before the stop may fail too
        return any(down - 0.2 <= began < up for down, up in windows)

    during = Counter(f"{status} {code}" for began, status, code, _m in answers
                     if in_outage(began) and status != 200)
    messages = sorted({message for began, status, _c, message in answers
                       if in_outage(began) and status != 200 and message})
    after = [answer for answer in answers if not in_outage(answer[0])
             and answer[0] > windows[0][0] and answer[1] != 200]
    sent = len(acked) + len(failures)
    return {
        "clients": clients, "processes": processes, "restarts": len(windows),
        "down_for_s": down_for,
        "outage_s": [round(up - down, 2) for down, up in windows],
        "sends": sent, "acknowledged": len(acked), "failed_sends": len(failures),
        "failed_send_codes": sorted({code for _t, code, _m in failures}),
        "retries": sum(sender.fetches for sender in senders) - sent,
        "lost": sum(1 for client_id in acked if stored[client_id] == 0),
        "doubled": sum(1 for count in stored.values() if count > 1),
        "outage_answers": dict(during), "outage_messages": messages,
        "probes": len(answers), "failed_after_recovery": len(after),
        "idle_process_requests": len(idle_answers),
        "idle_process_failed": [answer[2:] for answer in idle_answers if answer[1] != 200],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--down-for", type=float, default=2.0)
    args = parser.parse_args()
    print(json.dumps(run(args.clients, args.processes, args.restarts, args.down_for), indent=1))


if __name__ == "__main__":
    main()
