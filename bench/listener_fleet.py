"""A load-generator process holding thousands of idle listeners: `python -m bench.listener_fleet`.

The load test spreads its listeners over a few of these processes so the
client side, not the server, is never what runs out of CPU or file
descriptors. Each listener is a raw websocket (bench/raw_listener.py) that
counts the `message` events it receives and answers the server's pings.

The process speaks JSON lines: once every listener has tried to open it
prints `{"opened": ...}` (what each request cost, what failed); then it
answers each `counts` line on stdin with every listener's count and how many
links the server closed, and closes everything on `stop`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from chat_widget.cli import event_loop_factory, run_on
from chat_widget.server.open_files import raise_open_file_limit

from .raw_listener import CountingListener, open_listener

STAGES = ("upgrade", "connect", "join")


class Fleet:
    """The listeners of this process, with what opening them cost."""

    def __init__(self, urls: list[str], token: str, rooms: list[str], first: int,
                 count: int) -> None:
        self.urls, self.token, self.rooms = urls, token, rooms
        self.indexes = range(first, first + count)  # global indexes: room and URL by modulo
        self.counts = [[0] for _ in self.indexes]
        self.listeners: list[CountingListener | None] = [None] * count
        self.samples: dict[str, list[float]] = {stage: [] for stage in STAGES}
        self.failures: dict[str, int] = {stage: 0 for stage in STAGES}
        self.timeouts: dict[str, int] = {stage: 0 for stage in STAGES}
        self.errors: list[str] = []

    async def open_one(self, slot: int) -> None:
        index = self.indexes[slot]
        stages: dict[str, float] = {}
        try:
            transport = await open_listener(self.urls[index % len(self.urls)], self.token,
                                            self.rooms[index % len(self.rooms)],
                                            self.counts[slot], stages)
            self.listeners[slot] = transport.get_protocol()  # type: ignore[assignment]
        except Exception as error:
            failed = next(stage for stage in STAGES if stage not in stages)
            timed_out = isinstance(error, (TimeoutError, asyncio.TimeoutError))
            (self.timeouts if timed_out else self.failures)[failed] += 1
            if len(self.errors) < 5:
                self.errors.append(f"{failed}: {type(error).__name__}: {error}")
        for stage, seconds in stages.items():
            self.samples[stage].append(seconds)

    async def open_all(self, batch: int, pause: float) -> None:
        """Open in batches with a pause between them, as users arriving would."""
        for start in range(0, len(self.indexes), batch):
            await asyncio.gather(*(self.open_one(slot) for slot in
                                   range(start, min(len(self.indexes), start + batch))))
            await asyncio.sleep(pause)

    def report(self) -> dict[str, Any]:
        return {"first": self.indexes.start, "counts": [c[0] for c in self.counts],
                "open": [listener is not None for listener in self.listeners],
                "lost": [listener is not None and listener.lost for listener in self.listeners],
                "closed_by_server": sum(1 for listener in self.listeners
                                        if listener is not None and listener.lost),
                "pongs": sum(listener.pongs for listener in self.listeners
                             if listener is not None)}

    def close(self) -> None:
        for listener in self.listeners:
            if listener is not None and listener.transport is not None:
                listener.transport.close()


def _say(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


async def serve(args: argparse.Namespace) -> int:
    limit = raise_open_file_limit()
    fleet = Fleet(args.urls.split(","), args.token, args.rooms.split(","), args.first,
                  args.count)
    await fleet.open_all(args.batch, args.pause)
    _say({"opened": {"samples": fleet.samples, "failures": fleet.failures,
                     "timeouts": fleet.timeouts, "errors": fleet.errors,
                     "closed_by_server": fleet.report()["closed_by_server"],
                     "open_file_limit": limit}})
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).strip():
        if line == b"counts":
            _say(fleet.report())
        elif line == b"stop":
            break
    fleet.close()
    await asyncio.sleep(0.1)  # let the closes reach the server
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", required=True, help="server URLs, comma-separated")
    parser.add_argument("--token", required=True)
    parser.add_argument("--rooms", required=True, help="chat ids, comma-separated")
    parser.add_argument("--first", type=int, default=0, help="global index of the first")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--pause", type=float, default=0.05)
    run_on(event_loop_factory("auto"), serve(parser.parse_args()))  # uvloop when installed


if __name__ == "__main__":
    main()
