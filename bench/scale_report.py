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
        lines += ["| chats | stored per chat | send p50 ms | CPU µs/message | p50 ratio "
                  "| CPU ratio |", "|---|---|---|---|---|---|"]
        for point in result["points"]:
            drained = "" if point["drained"] else " (not idle after 120 s)"
            lines.append(f"| {point['chats']:,} | {point['stored_per_chat']:,} | "
                         f"{point['send']['p50_ms']} | {point['cpu_us_per_message']}{drained} | "
                         f"{point['send_p50_ratio']} | {point['cpu_ratio']} |")
    return lines
