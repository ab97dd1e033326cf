"""A free loopback port for a server that must be told its port before it starts.

Asking the kernel for port 0 and handing the number on is racy on a busy
machine: the number comes from the ephemeral range (32768-60999 on Linux),
the same range every outgoing connection takes its source port from, so
between the probe and the server's own bind another test's client can take
it ("address already in use"). Ports are drawn below that range instead, at
random, and each is probed by binding it; only servers that pick ports this
way compete for them.
"""

from __future__ import annotations

import random
import socket

LOWEST, HIGHEST = 20000, 32767  # under Linux's default ephemeral range
ATTEMPTS = 200


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for outgoing source ports (Linux's default when it cannot say)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as handle:
            low, high = (int(part) for part in handle.read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_port(host: str = "127.0.0.1") -> int:
    """A port on `host` that nothing listens on now and no outgoing connection will take."""
    low, high = ephemeral_range()
    candidates = [port for port in range(LOWEST, HIGHEST + 1) if not low <= port <= high]
    for port in random.sample(candidates, min(ATTEMPTS, len(candidates))):
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:  # a crowded machine: the kernel's choice after all
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
