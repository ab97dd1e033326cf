"""The scale part's lines of docs/performance.md: one summary row, and a table per engine."""

from __future__ import annotations

from typing import Any


def rows(figures: dict[str, Any]) -> list[str]:
    """The summary rows: the worst point's ratios on SQLite."""
    scale = figures.get("scale", {})
    if scale.get("scale_send_p50_ratio") is None:
        return []
    return [f"| scale: worst send p50 / worst CPU per message, over the smallest point | "
            f"{scale['scale_send_p50_ratio']} / {scale['scale_cpu_ratio']} | ≤ 1.2 | "
            "1, 100 and 10,000 chats; 10 and "
            f"{max(p['stored_per_chat'] for p in scale['sqlite']['points']):,} stored messages "
            "per chat (SQLite; the table below) |"]


def section(figures: dict[str, Any]) -> list[str]:
    """A table per engine: point, send p50, CPU µs per message, ratios."""
    scale = figures.get("scale", {})
    lines: list[str] = []
    for engine in ("sqlite", "postgresql"):
        result = scale.get(engine)
        if not result:
            continue
        lines += ["", f"## Scale with work ({engine})", ""]
        if "error" in result:
            lines.append(f"Not measured: {result['error']}")
            continue
        if "load_average_at_end" in result:
            lines += [f"Load average {result['load_average_at_end']} at the end of the run "
                      "(2 cores).", ""]
        lines += ["| chats | stored per chat | send p50 ms | CPU µs/message | p50 ratio "
                  "| CPU ratio |", "|---|---|---|---|---|---|"]
        for point in result["points"]:
            drained = "" if point["drained"] else " (not idle after 120 s)"
            lines.append(f"| {point['chats']:,} | {point['stored_per_chat']:,} | "
                         f"{point['send']['p50_ms']} | {point['cpu_us_per_message']}{drained} | "
                         f"{point['send_p50_ratio']} | {point['cpu_ratio']} |")
    if lines:
        lines += ["", *NOTE]
    return lines


NOTE = [
    "Each point is its own bulk-loaded database and server, measured in turns (rounds of "
    "50 sends); the CPU counts the server process (and, on PostgreSQL, its backends) until "
    "it is idle again, so each send's `chat_activity` is in it. The stored messages are "
    "bob's, read by him; alice, who sends, has read none; bob marks each of her messages "
    "read (untimed, its cost in the CPU figure), so the server counts every member's "
    "unread again after each send instead of carrying the counts forward.",
    "",
    "What grew, and why it no longer does: every send's `chat_activity` counts each "
    "workspace member's unread messages, and those were counted row by row after the "
    "member's read marker. A member who never opened a chat of 100,000 messages put 52% "
    "of the server's samples (py-spy) in `members_fields`; on SQLite, CPU per message was "
    "1.88 x the smallest point at 10,000 stored (send p50 1.63 x) and 65 x at a million "
    "(130 ms a message; the send's p50 hardly moved, as the counting runs after the ack "
    "on the read thread, but a server busy 130 ms per message takes 8 messages a second). "
    "Counts carried forward from one message to the next (`member_counts.py`) still need "
    "that count again whenever a marker moves: with bob reading along, 1.75 x CPU at "
    "10,000 stored without the fix, 1.07 x with it (quick run). Since "
    "seq has no gaps, the messages after a marker number `last_seq - marker`; the "
    "reader's own and the deleted ones after it are counted by two indexes (migration "
    "0004) and taken off. What remains proportional: a member's own messages after the "
    "marker (one who sent many and never read), deleted messages, and mentions "
    "after the marker.",
]
