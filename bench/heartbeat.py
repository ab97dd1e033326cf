"""What the faster heartbeat costs: server CPU with idle connections, at 4 s + 4 s and 25 s + 20 s.

Opens `connections` idle Socket.IO clients (joined, nothing sent) to a server
started with each ping setting, then reads the server process's CPU time
over `seconds`. The difference is what pinging every connection every 4 s
instead of every 25 s costs; the bytes are engine.io's: a 3-byte ping frame
down and a 7-byte (masked) pong frame up per connection per interval.

    python -m bench.heartbeat --connections 500 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import Any

from .load import _connect_many
from .processes import chat_server

SETTINGS = {"fast": (4.0, 4.0), "engine.io default": (25.0, 20.0)}
_PING_FRAME, _PONG_FRAME = 3, 7  # websocket frame bytes: "2" down, "3" up (masked)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _idle_cpu(url: str, pid: int, token: str, connections: int, seconds: float) -> float:
    clients = await _connect_many(url, token, ["general"], connections, [0])
    await asyncio.sleep(2.0)  # connecting's own work is done
    before = cpu_seconds(pid)
    await asyncio.sleep(seconds)
    used = cpu_seconds(pid) - before
    await asyncio.gather(*(client.disconnect() for client in clients))
    return used


def run(connections: int = 500, seconds: float = 20.0) -> dict[str, Any]:
    results: dict[str, Any] = {"connections": connections, "seconds": seconds}
    for name, (interval, timeout) in SETTINGS.items():
        with chat_server(None, "--ping-interval", str(interval),
                         "--ping-timeout", str(timeout)) as info:
            used = asyncio.run(_idle_cpu(info["url"], info["pid"], info["tokens"]["alice"],
                                         connections, seconds))
        results[name] = {
            "ping_interval_s": interval, "ping_timeout_s": timeout,
            "noticed_within_s": interval + timeout,
            "server_cpu_percent": round(100 * used / seconds, 2),
            "bytes_per_connection_per_minute": round(60 / interval * (_PING_FRAME + _PONG_FRAME)),
        }
    extra = results["fast"]["server_cpu_percent"] - results["engine.io default"][
        "server_cpu_percent"]
    results["extra_cpu_percent_per_1000_connections"] = round(extra * 1000 / connections, 2)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    print(json.dumps(run(args.connections, args.seconds), indent=1))


if __name__ == "__main__":
    main()
