"""What watching the joined connections' memberships costs a server process per round.

    python -m bench.membership_watch [--rounds N]

`server/membership_watch.py` reads the members version of every workspace
with joined connections once a round (every 2.5 s), and checks users only in
a workspace whose version moved. Here a Store on SQLite and on a fresh
PostgreSQL database holds 20 workspaces of 1,000 members each; the watch is
given 100, then 10,000 joined connections (fake sids: the round touches the
database and the watch's own maps, not sockets), alternating, and each kind
of round is timed:

- `steady`: nothing changed (the usual round): one query, whatever the count;
- `moved`: one workspace's version moved (a member added and removed), so
  its joined users are checked (a 20th of the connections' users);
- `every_user`: the round without versions, checking every joined user of
  every workspace (one query per workspace), as the floor to compare with.

Figures are medians in ms; ratios compare 10,000 connections to 100 in the
same run.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert

from chat_widget.server.membership_watch import MembershipWatch
from chat_widget.server.schema import memberships, users, workspaces
from chat_widget.server.store import Store

from .postgres import temporary_database

WORKSPACES = 20
MEMBERS = 1_000
COUNTS = (100, 10_000)


def _bulk_rows(conn: Connection) -> None:
    """Every user a member of every workspace, in a few statements."""
    conn.execute(insert(users), [{"id": f"u{n}", "name": f"u{n}", "kind": "user",
                                  "token_hash": None} for n in range(MEMBERS)])
    conn.execute(insert(workspaces), [{"id": f"w{n}", "title": f"w{n}"}
                                      for n in range(WORKSPACES)])
    conn.execute(insert(memberships), [{"workspace_id": f"w{w}", "user_id": f"u{n}"}
                                       for w in range(WORKSPACES) for n in range(MEMBERS)])


async def seeded(db_url: str) -> Store:
    store = Store(db_url)
    await store.open()
    await store.db.run(_bulk_rows)
    await store.ensure_user("passing", "passing", None, "user")
    return store


def watch_with(store: Store, connections: int, seed: int) -> MembershipWatch:
    chooser = random.Random(seed)
    watch = MembershipWatch(store)
    for sid in range(connections):
        workspace = chooser.randrange(WORKSPACES)
        watch.joined(f"sid{sid}", f"u{chooser.randrange(MEMBERS)}", f"w{workspace}",
                     f"chat-of-w{workspace}")
    return watch


async def every_user(watch: MembershipWatch, store: Store) -> None:
    """The round without versions: every joined user of every workspace checked."""
    for workspace_id, joined in list(watch._joined.items()):
        await store.members_among(workspace_id, sorted(joined))


async def timed(action: Any) -> float:
    started = time.perf_counter()
    await action()
    return (time.perf_counter() - started) * 1000


async def measure(db_url: str, rounds: int) -> dict[str, Any]:
    store = await seeded(db_url)
    watches = {count: watch_with(store, count, count) for count in COUNTS}
    for watch in watches.values():
        await watch.check()  # the first round checks every new joiner once
    times: dict[str, list[float]] = {}
    async def moved(watch: MembershipWatch) -> None:
        await store.add_member("w0", "passing")  # w0's version moves on (twice), untimed
        await store.remove_member("w0", "passing")
        started = time.perf_counter()
        await watch.check()
        times.setdefault(f"moved_{len(watch._of_sid)}", []).append(
            (time.perf_counter() - started) * 1000)

    try:
        for index in range(rounds):
            # Each kind for both counts in turn, the first of them turn about, so that
            # load and warm caches fall on both alike.
            order = list(watches.items())[:: 1 if index % 2 else -1]
            for _ in range(5):  # the usual round, the one that must not grow
                for count, watch in order:
                    times.setdefault(f"steady_{count}", []).append(await timed(watch.check))
            for _count, watch in order:
                await moved(watch)
            for count, watch in order:
                times.setdefault(f"every_user_{count}", []).append(
                    await timed(functools.partial(every_user, watch, store)))
    finally:
        await store.close()
    figures: dict[str, Any] = {name: round(statistics.median(values), 3)
                               for name, values in times.items()}
    low, high = COUNTS
    for kind in ("steady", "moved", "every_user"):
        figures[f"{kind}_{high}_over_{low}"] = round(
            figures[f"{kind}_{high}"] / figures[f"{kind}_{low}"], 2)
    figures[f"every_user_over_steady_{high}"] = round(
        figures[f"every_user_{high}"] / figures[f"steady_{high}"], 1)
    return figures


def run(rounds: int = 30) -> dict[str, Any]:
    figures: dict[str, Any] = {"load_average": [round(x, 2) for x in os.getloadavg()]}
    with tempfile.TemporaryDirectory() as folder:
        figures["sqlite"] = asyncio.run(measure(f"sqlite:///{Path(folder) / 'w.db'}", rounds))
    with temporary_database() as url:
        figures["postgres"] = asyncio.run(measure(url, rounds))
    figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    print(json.dumps(run(parser.parse_args().rounds), indent=1))
