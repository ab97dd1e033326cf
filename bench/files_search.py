"""Protocol 1.1 files and search: throughput against a bare route, search at scale.

Files: one file of `size` bytes uploaded and downloaded `rounds` times through
the chat server (bearer token, membership check, spooled, hashed, kept by
sha256, a database row), and through a bare aiohttp route pair that only
streams to disk while hashing and back (`bare_server.add_file_routes`), in
the same run. MiB/s each way, and the chat server's share of the floor.

Search: `stored` messages of eight words drawn from a 20,000-word vocabulary
(Zipf-like: a few words are common, most rare) are bulk-inserted with SQL,
the index following as it does in service (FTS5 triggers, the generated
tsvector column); then `GET /api/search` with two random words, and with one
of the hundred commonest words (a query that matches a good share of the
chat: every match is ranked), p50 and p99 of the HTTP round trip. The tables
are analyzed after the load, as autovacuum would do.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from . import postgres
from .history import bulk_load
from .processes import bare_server, chat_server
from .stats import summary_ms

VOCABULARY = [f"{stem}{index}" for index, stem in
              enumerate(random.Random(7).choices(["data", "plot", "note", "run", "fit"], k=20_000))]
_CUMULATIVE_WEIGHTS = list(itertools.accumulate(1.0 / (rank + 1)
                                                for rank in range(len(VOCABULARY))))
_WORDS = random.Random(3)


def _sentence(_seq: int) -> str:
    return " ".join(_WORDS.choices(VOCABULARY, cum_weights=_CUMULATIVE_WEIGHTS, k=8))


def _rate(size: int, seconds: list[float]) -> float:
    return round(size / (1024 * 1024) / sorted(seconds)[len(seconds) // 2], 1)


def _transfer(upload_url: str, download_url_of: Any, headers: dict[str, str], source: Path,
              rounds: int) -> dict[str, float]:
    session = requests.Session()
    session.headers.update(headers)
    up, down = [], []
    for _ in range(rounds):
        with source.open("rb") as body:
            started = time.perf_counter()
            answer = session.post(upload_url, data=body, timeout=120)
            up.append(time.perf_counter() - started)
        assert answer.status_code == 201, answer.text
        started = time.perf_counter()
        with session.get(download_url_of(answer.json()), stream=True, timeout=120) as response:
            for _chunk in response.iter_content(256 * 1024):
                pass
        down.append(time.perf_counter() - started)
    size = source.stat().st_size
    return {"up_mib_s": _rate(size, up), "down_mib_s": _rate(size, down)}


def files(size: int, rounds: int) -> dict[str, Any]:
    source = Path(tempfile.mkdtemp(prefix="chat-widget-bench-files-")) / "payload.bin"
    with source.open("wb") as handle:
        for _ in range(size // (1024 * 1024)):
            handle.write(os.urandom(1024 * 1024))
    with bare_server() as bare:
        floor = _transfer(f"{bare['url']}/files", lambda body: f"{bare['url']}/files/"
                          f"{body['name']}", {}, source, rounds)
    with chat_server() as info:
        # Every round uploads the same bytes: the chat server keeps them once, as it would.
        chat = _transfer(
            f"{info['url']}/api/chats/general/files?name=payload.bin",
            lambda body: f"{info['url']}/api/files/{body['file']['id']}",
            {"Authorization": f"Bearer {info['tokens']['alice']}",
             "Content-Type": "application/octet-stream"}, source, rounds)
    return {"file_mib": size // (1024 * 1024), "rounds": rounds, "chat": chat, "bare": floor,
            "up_ratio": round(chat["up_mib_s"] / floor["up_mib_s"], 2),
            "down_ratio": round(chat["down_mib_s"] / floor["down_mib_s"], 2)}


def _search_samples(url: str, token: str, queries: list[str]) -> list[float]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    for query in queries[:20]:
        session.get(f"{url}/api/search", params={"q": query})
    samples = []
    for query in queries:
        started = time.perf_counter()
        answer = session.get(f"{url}/api/search", params={"q": query})
        samples.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text
    return samples


async def _analyze(db_url: str) -> None:
    """Give the planner its statistics, as autovacuum would soon after such a load."""
    from sqlalchemy import text

    from chat_widget.server.database import Database

    database = Database(db_url)
    try:
        await database.run(lambda conn: conn.execute(text("ANALYZE")))
    finally:
        await database.close()


def search_at(db_url: str, stored: int, samples: int) -> dict[str, Any]:
    started = time.perf_counter()
    asyncio.run(bulk_load(db_url, "general", stored, _sentence))
    asyncio.run(_analyze(db_url))
    loaded = time.perf_counter() - started
    pick = random.Random(11)
    two_words = [" ".join(pick.sample(VOCABULARY, 2)) for _ in range(samples)]
    common = [pick.choice(VOCABULARY[:100]) for _ in range(samples)]
    with chat_server(db_url) as info:
        token = info["tokens"]["alice"]
        return {"stored_messages": stored, "load_s": round(loaded, 1),
                "two_words": summary_ms(_search_samples(info["url"], token, two_words)),
                "one_common_word": summary_ms(_search_samples(info["url"], token, common))}


def search(stored: int, samples: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="chat-widget-bench-search-"))
    results = {"sqlite": search_at(f"sqlite:///{folder / 'search.db'}", stored, samples)}
    with postgres.temporary_database() as url:
        results["postgresql"] = search_at(url, stored, samples)
    return results
