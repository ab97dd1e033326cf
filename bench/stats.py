"""Percentiles and the figure records every benchmark reports."""

from __future__ import annotations

import statistics
from typing import Any


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(samples_s: list[float]) -> dict[str, Any]:
    """p50/p99/mean in milliseconds, with the sample count."""
    ms = [s * 1000 for s in samples_s]
    return {"p50_ms": round(percentile(ms, 0.5), 3), "p99_ms": round(percentile(ms, 0.99), 3),
            "mean_ms": round(statistics.fmean(ms), 3) if ms else None, "n": len(ms)}
