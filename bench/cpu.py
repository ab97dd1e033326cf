"""Server CPU per message at one listener: the chat server over a bare python-socketio server.

The same layout as the fan-out benchmark (`fanout.measure`): one raw listener
in the chat, one sender keeping a window of sends in flight, each send an
HTTP request then an emit with ack (the authorization string fetch, against
the bare server a keep-alive GET). At one listener every delivery is one
message, so the server's CPU per delivery is its CPU per message: what the
chat server spends on authorising, checking, storing and telling the chat of
a message, over what python-socketio itself spends to move it.

Nobody marks anything read during the run, so each message's `chat_activity`
counts every message sent so far as unread. The server carries those counts
forward from its last event (`server/member_counts.py`), so the figure does
not grow with the run's length; `_without_chat_activity` shows what the
events cost. The three servers take turns `ROUNDS` times and the median
round's figures are the result.
"""

from __future__ import annotations

from typing import Any

from .fanout import measure, median_round

ROUNDS = 3
"""The servers take turns this many times, each ratio against the same round's bare
floor, and the median round is reported: on a shared machine a single pair a few
seconds apart moved the ratio by a tenth or two (2.29 and 2.39 in two runs an hour
apart, 2026-12-03)."""


def _per_message(result: dict[str, Any]) -> float:
    return float(result["server_cpu_us_per_delivery"])


def _round(seconds: float) -> dict[str, Any]:
    bare = measure("bare", 1, seconds)
    chat = measure("chat", 1, seconds)
    quiet = measure("chat", 1, seconds, chat_activity=False)
    return {
        "bare": bare, "chat": chat, "chat_without_chat_activity": quiet,
        "bare_cpu_us_per_message": _per_message(bare),
        "chat_cpu_us_per_message": _per_message(chat),
        "server_cpu_per_message_ratio": round(_per_message(chat) / _per_message(bare), 3),
        # What the chat_activity events (unread counts to every member) add per message.
        "server_cpu_per_message_ratio_without_chat_activity": round(
            _per_message(quiet) / _per_message(bare), 3),
    }


def run(seconds: float, rounds: int = ROUNDS) -> dict[str, Any]:
    measured = [_round(seconds) for _ in range(rounds)]
    result = dict(median_round(measured, "server_cpu_per_message_ratio"))
    result["server_cpu_per_message_ratio_without_chat_activity"] = median_round(
        measured, "server_cpu_per_message_ratio_without_chat_activity")[
        "server_cpu_per_message_ratio_without_chat_activity"]
    result["rounds"] = [{key: value for key, value in r.items() if not isinstance(value, dict)}
                        for r in measured]
    return result
