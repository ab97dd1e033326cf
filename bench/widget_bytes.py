"""What the widget sends its front end: bytes per appended message, and a burst landing.

`comm_bytes_growth` is the size of the comm message for one appended message
when the widget holds 10,000 messages, over the size when it holds 10: the
widget sends each new message alone, never the whole list again. The burst
figure is how long 10,000 messages sent as fast as the server takes them need
to land in the widget, next to how long the server took to acknowledge them.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .history import bulk_load
from .processes import chat_server
from .senders import send_lanes


class CommMeter:
    """Counts the bytes of every comm message a widget sends to its views."""

    def __init__(self, widget: Any) -> None:
        self.sizes: list[tuple[dict[str, Any], int]] = []
        self.changed = threading.Condition()
        original = widget.comm.send

        def record(data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
            size = len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
            with self.changed:
                self.sizes.append((data, size))
                self.changed.notify_all()
            original(data=data, metadata=metadata, buffers=buffers)

        widget.comm.send = record

    def wait_for_message(self, message_id: str, timeout: float = 30.0) -> int:
        """Bytes sent until the custom message carrying `message_id` went out."""

        def carried() -> bool:
            return any(data.get("method") == "custom"
                       and (data.get("content", {}).get("message") or {}).get("id") == message_id
                       for data, _ in self.sizes)

        with self.changed:
            if not self.changed.wait_for(carried, timeout):
                raise TimeoutError("the message never reached the front end")
            return sum(size for _, size in self.sizes)


def bytes_for_append(history: int) -> int:
    """Comm bytes for one appended message while the widget holds `history` messages."""
    from chat_widget.client import ChatClient
    from chat_widget.widget import ChatWidget

    db_url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='chat-widget-comm-')) / 'comm.db'}"
    asyncio.run(bulk_load(db_url, "general", history))
    with chat_server(db_url) as info:
        widget = ChatWidget(url=info["url"], token=info["tokens"]["alice"], chat_id="general")
        try:
            while widget.client.history(limit=500)["has_more"]:
                pass
            assert len(widget.messages) == history
            meter = CommMeter(widget)
            with ChatClient(info["url"], info["tokens"]["bob"]) as bob:
                bob.join("general")
                message = bob.send(f"appended after {history}")
            return meter.wait_for_message(message["id"])
        finally:
            widget.close()


async def _burst(url: str, token: str, count: int, lanes: int = 8) -> float:
    """Send `count` messages over `lanes` pipelined sends; seconds until the last ack."""
    remaining = [count]

    def another() -> bool:
        remaining[0] -= 1
        return remaining[0] >= 0

    started = time.perf_counter()
    acked = await send_lanes(url, token, "general", lanes, another, text="burst")
    assert acked == count, (acked, count)
    return time.perf_counter() - started


def burst_landing(count: int) -> dict[str, Any]:
    from chat_widget.widget import ChatWidget

    with chat_server() as info:
        widget = ChatWidget(url=info["url"], token=info["tokens"]["alice"], chat_id="general")
        try:
            landed = threading.Event()
            widget.on_message(lambda m: landed.set() if m["seq"] == count else None)
            started = time.perf_counter()
            acked_s = asyncio.run(_burst(info["url"], info["tokens"]["bob"], count))
            if not landed.wait(120):
                raise TimeoutError("the burst did not land")
            landed_s = time.perf_counter() - started
            assert len(widget.messages) == count
        finally:
            widget.close()
    return {"burst": count, "server_acked_s": round(acked_s, 2),
            "landed_in_widget_s": round(landed_s, 2),
            "lag_after_last_ack_s": round(landed_s - acked_s, 3)}


def run(history: int) -> dict[str, Any]:
    """Bytes per append at 10 and at `history` messages, and a burst of `history`."""
    small = bytes_for_append(9)
    large = bytes_for_append(history - 1)
    return {"history": history, "bytes_at_10": small, "bytes_at_history": large,
            "comm_bytes_growth": round(large / small, 3), "burst": burst_landing(history)}
