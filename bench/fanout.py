"""Fan-out: messages delivered per second to N clients of one chat.

Listeners are raw Engine.IO websockets that only count event frames, so
their cost stays small next to the server's. One sender keeps a window of
sends in flight. The chat server's figure is divided by the bare
python-socketio floor measured in the same run, in the same layout; a bare
Node socket.io server (installed from the npm registry by the benchmark
itself) is measured the same way as the peer a user might pick instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from .processes import bare_server, chat_server
from .raw_listener import open_listener
from .senders import send_lanes

NODE_SERVER = Path(__file__).parent / "node_server"
WINDOW = 8


def ensure_node_server() -> bool:
    """Install the Node peer's dependencies with npm if needed; False without node."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return False
    if not (NODE_SERVER / "node_modules" / "socket.io").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"],
                       cwd=NODE_SERVER, check=True, timeout=600)
    return True


def node_server() -> Any:
    from contextlib import contextmanager

    @contextmanager
    def run() -> Any:
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="chat-widget-node-"))
        ready = folder / "ready.json"
        process = subprocess.Popen(["node", str(NODE_SERVER / "server.mjs"), str(ready)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while not ready.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the node server did not start")
                time.sleep(0.02)
            yield {**json.loads(ready.read_text()), "pid": process.pid}
        finally:
            process.terminate()
            process.wait(timeout=10)

    return run()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes so far, from /proc."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


async def _measure(urls: list[str], pids: list[int], token: str | None, listeners: int,
                   seconds: float) -> dict[str, Any]:
    counts, sent = [0, 0], [0]  # message frames, chat_activity frames
    transports = []
    for start in range(0, listeners, 50):
        transports += await asyncio.gather(*(
            open_listener(urls[index % len(urls)], token, "general", counts)
            for index in range(start, min(listeners, start + 50))))
    sender_stop = asyncio.Event()

    def counting() -> bool:
        sent[0] += 1
        return not sender_stop.is_set()

    sender = asyncio.create_task(
        send_lanes(urls[0], token, "general", WINDOW, counting, text="fan-out"))
    await asyncio.sleep(1.0)  # warm up
    start_counts, start_activity = counts[0], counts[1]
    start_sent, started = sent[0], time.perf_counter()
    start_cpu = cpu_seconds(pids)
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - started
    server_cpu = cpu_seconds(pids) - start_cpu
    delivered, messages = counts[0] - start_counts, sent[0] - start_sent
    activity = counts[1] - start_activity
    sender_stop.set()
    await sender
    for transport in transports:
        transport.close()
    return {"listeners": listeners, "load_average": round(os.getloadavg()[0], 2),
            "deliveries_per_s": round(delivered / elapsed, 1),
            "messages_per_s": round(messages / elapsed, 1),
            "server_cpu_share": round(server_cpu / elapsed, 3),
            # Deliveries per second of server CPU: what the server can do on one
            # core, whatever the load generator on the same machine manages.
            "deliveries_per_server_cpu_s": round(delivered / max(server_cpu, 1e-9), 1),
            "server_cpu_us_per_delivery": round(1e6 * server_cpu / max(delivered, 1), 2),
            # Every frame the listeners got, `message` and `chat_activity` alike: the
            # server's cost per frame written, whatever the protocol asks it to write.
            "chat_activity_per_s": round(activity / elapsed, 1),
            "frames_per_server_cpu_s": round((delivered + activity) / max(server_cpu, 1e-9), 1)}


def measure(kind: str, listeners: int, seconds: float, loop: str = "auto",
            chat_activity: bool = True) -> dict[str, Any]:
    """Fan-out against one kind of server: bare, node, chat, or chat-redis (two processes).

    `loop` picks the Python servers' event loop (auto: uvloop when installed).
    `chat_activity=False` starts the chat server without its `chat_activity`
    events (a switch for this measurement only), to show what they cost.
    """
    off = () if chat_activity else ("--no-chat-activity",)
    with ExitStack() as stack:
        if kind in ("bare", "node"):
            info = stack.enter_context(bare_server("aiohttp", loop) if kind == "bare"
                                       else node_server())
            urls, pids, token = [info["url"]], [info["pid"]], None
        elif kind == "chat":
            info = stack.enter_context(chat_server(None, "--loop", loop, *off))
            urls, pids, token = [info["url"]], [info["pid"]], info["tokens"]["alice"]
        else:  # two chat processes sharing one database file and Redis
            first = stack.enter_context(chat_server(None, "--redis", "redis://127.0.0.1:6379/0",
                                                    "--redis-channel", f"bench-{uuid.uuid4()}"))
            db_url = first["db_url"]
            second = stack.enter_context(chat_server(
                db_url, "--redis", "redis://127.0.0.1:6379/0",
                "--redis-channel", first["redis_channel"]))
            urls, token = [first["url"], second["url"]], first["tokens"]["alice"]
            pids = [first["pid"], second["pid"]]
        return asyncio.run(_measure(urls, pids, token, listeners, seconds))


def _ratio(measured: dict[str, Any], floor: dict[str, Any]) -> float:
    """Deliveries per server-CPU second over the floor's: the server's own efficiency."""
    return round(measured["deliveries_per_server_cpu_s"] / floor["deliveries_per_server_cpu_s"], 3)


ROUNDS_AT_100 = 3
"""The 100-listener figures are measured this many times, each server in turn, and each
ratio is the median over the rounds of the one in the same round: on a busy machine
the load shifts between two measurements a few seconds apart, and a single pair
moves the ratio by half."""


def median_round(rounds: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The round whose `key` is the median (the lower middle for an even count)."""
    ordered = sorted((r for r in rounds if key in r), key=lambda r: r[key])
    return ordered[(len(ordered) - 1) // 2]


def _round_at_100(seconds: float, node: bool) -> dict[str, Any]:
    """Bare, chat, chat without chat_activity and (if there) Node, one after another."""
    bare = measure("bare", 100, seconds)
    chat = measure("chat", 100, seconds)
    quiet = measure("chat", 100, seconds, chat_activity=False)
    figures: dict[str, Any] = {
        "bare": bare, "chat": chat, "quiet": quiet, "ratio": _ratio(chat, bare),
        "without_chat_activity": _ratio(quiet, bare),
        "frame_ratio": round(chat["frames_per_server_cpu_s"] / bare["frames_per_server_cpu_s"],
                             3)}
    if node:
        figures["node"] = measure("node", 100, seconds)
        figures["node_ratio"] = _ratio(chat, figures["node"])
        figures["bare_over_node"] = _ratio(bare, figures["node"])
    return figures


def run(seconds: float, sizes: tuple[int, ...] = (1, 10, 100, 500),
        rounds: int = ROUNDS_AT_100) -> dict[str, Any]:
    results: dict[str, Any] = {"curve": {}}
    node = ensure_node_server()
    for size in sizes:
        if size != 100:
            bare = measure("bare", size, seconds)
            chat = measure("chat", size, seconds)
            results["curve"][size] = {"bare": bare, "chat": chat, "ratio": _ratio(chat, bare)}
            continue
        measured = [_round_at_100(seconds, node) for _ in range(rounds)]
        middle = median_round(measured, "ratio")
        results["curve"][100] = {"bare": middle["bare"], "chat": middle["chat"],
                                 "ratio": middle["ratio"]}
        results["fanout_100_ratio"] = middle["ratio"]
        results["fanout_100_rounds"] = [
            {key: value for key, value in r.items() if not isinstance(value, dict)}
            for r in measured]
        results["fanout_100_frame_ratio"] = median_round(measured, "frame_ratio")["frame_ratio"]
        quiet = median_round(measured, "without_chat_activity")
        results["chat_100_without_chat_activity"] = quiet["quiet"]
        results["fanout_100_ratio_without_chat_activity"] = quiet["without_chat_activity"]
        if node:
            peer = median_round(measured, "node_ratio")
            results["node_100"] = peer["node"]
            results["node_fanout_100_ratio"] = peer["node_ratio"]
            results["bare_over_node_100"] = median_round(measured,
                                                          "bare_over_node")["bare_over_node"]
    results.setdefault("fanout_100_ratio", None)
    try:
        results["redis_two_processes_100"] = measure("chat-redis", 100, seconds)
    except Exception as error:  # Redis not running: say so in the figures
        results["redis_two_processes_100"] = {"error": str(error)}
    return results
