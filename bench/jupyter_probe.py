"""A server extension for the benchmark's JupyterLabs: when each kernel message reached the server.

It wraps the kernel websocket connection class (after any other extension
that wraps it, such as chat_widget.jupyter_nodelay) and appends one line per
message the kernel sends, `<epoch ms> <msg_id>`, to the file named by
$CHAT_WIDGET_BENCH_PROBE, at the moment the server's event loop takes the
message from ZMQ. That splits a message's way from the kernel to the browser
into kernel -> server and server -> browser. Not shipped: the benchmark
loads it with `--ServerApp.jpserver_extensions=bench.jupyter_probe=True`.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

PROBE_FILE = "CHAT_WIDGET_BENCH_PROBE"
SETTING = "kernel_websocket_connection_class"
DELIMITER = b"<IDS|MSG>"


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "bench.jupyter_probe"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    settings = serverapp.web_app.settings
    log = open(os.environ[PROBE_FILE], "a", buffering=1)  # noqa: SIM115 (the server's lifetime)
    base = settings[SETTING]

    class Probed(base):  # type: ignore[misc, valid-type]
        def handle_outgoing_message(self, stream: Any, outgoing_msg: list[Any]) -> None:
            log.write(f"{time.time() * 1000.0:.3f} {_msg_id(outgoing_msg)}\n")
            super().handle_outgoing_message(stream, outgoing_msg)

    settings[SETTING] = Probed


def _msg_id(parts: list[Any]) -> str:
    """The msg_id in a kernel message's wire parts: identities, delimiter, signature, header..."""
    try:
        raw = [bytes(part) if not isinstance(part, bytes) else part for part in parts]
        return str(json.loads(raw[raw.index(DELIMITER) + 2])["msg_id"])
    except (ValueError, KeyError, IndexError, TypeError):
        return "?"


def read(path: str) -> dict[str, float]:
    """msg_id -> when the server took it from ZMQ (epoch ms), from a probe file."""
    times: dict[str, float] = {}
    if os.path.exists(path):
        with open(path) as lines:
            for line in lines:
                stamp, _, msg_id = line.strip().partition(" ")
                times.setdefault(msg_id, float(stamp))
    return times
