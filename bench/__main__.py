"""`python -m bench`: the figures, each as a ratio to a floor measured in the same run.

    python -m bench [--quick] [--json PATH] [--report] [--only latency,fanout,scale,...]

`--report` rewrites docs/performance.md and docs/performance.png from the run.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from . import (
    cpu,
    fanout,
    files_search,
    frontend,
    history,
    latency,
    memory,
    postgres,
    report,
    scale,
    throughput,
    widget_bytes,
    widget_path,
)

PARTS = ("latency", "cpu", "throughput", "fanout", "comm", "history", "memory", "stacks",
         "frontend", "widget", "files", "search", "scale")
GOALS = {"widget_send_ratio": "widget", "server_cpu_per_message_ratio": "cpu",
         "send_p50_ratio": "latency", "prefetch_send_ratio": "latency",
         "fanout_100_ratio": "fanout", "throughput_8_ratio": "throughput",
         "throughput_64_ratio": "throughput", "scale_send_p50_ratio": "scale",
         "scale_cpu_ratio": "scale"}
"""Each goal's ratio, copied to the top level of --json from the part that measures it."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer samples (about 5 minutes on 2 cores)")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--report", action="store_true", help="rewrite docs/performance.*")
    parser.add_argument("--only", default=",".join(PARTS))
    parser.add_argument("--report-from", metavar="JSON",
                        help="rewrite docs/performance.* from figures saved by --json")
    args = parser.parse_args()
    if args.report_from:
        report.write(json.loads(Path(args.report_from).read_text()))
        return
    selected = set(args.only.split(","))
    quick = args.quick
    figures: dict[str, Any] = {"machine": platform.platform(), "python": platform.python_version(),
                               "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                               "quick": quick}
    steps = {
        "latency": lambda: latency.run(300 if quick else 2000),
        "cpu": lambda: cpu.run(2.0 if quick else 8.0),
        "throughput": lambda: throughput.run(3.0 if quick else 10.0, rounds=1 if quick else 3),
        "fanout": lambda: fanout.run(2.0 if quick else 8.0,
                                     (1, 10, 100) if quick else (1, 10, 100, 500)),
        "comm": lambda: widget_bytes.run(1_000 if quick else 10_000),
        "history": lambda: _history(quick),
        "memory": lambda: memory.run(100 if quick else 500, 2_000 if quick else 10_000),
        "stacks": lambda: throughput.compare_stacks(300 if quick else 1000),
        "frontend": lambda: frontend.run(10 if quick else 30),
        "widget": lambda: widget_path.run(15 if quick else 60, 100 if quick else 500),
        "files": lambda: files_search.files(25 * 1024 * 1024, 3 if quick else 10),
        "search": lambda: files_search.search(50_000 if quick else 1_000_000,
                                              200 if quick else 1000),
        "scale": lambda: scale.run(quick, 200 if quick else 1000),
    }
    for name in PARTS:
        if name in selected:
            started = time.perf_counter()
            figures[name] = steps[name]()
            print(f"{name}: {time.perf_counter() - started:.1f} s", flush=True)
    for goal, part in GOALS.items():
        if isinstance(figures.get(part), dict) and goal in figures[part]:
            figures[goal] = figures[part][goal]
    text = json.dumps(figures, indent=1)
    if args.json:
        Path(args.json).write_text(text + "\n")
    if args.report:
        report.write(figures)
    summary = {k: v for k, v in figures.items() if not isinstance(v, dict)}
    for name in PARTS:
        part = figures.get(name)
        if isinstance(part, dict):
            summary[name] = {k: v for k, v in part.items()
                             if not k.endswith("_samples_ms") and k != "curve"}
    print(json.dumps(summary, indent=1))


def _history(quick: bool) -> dict[str, Any]:
    stored = 100_000 if quick else 1_000_000
    samples = 200 if quick else 1000
    folder = Path(tempfile.mkdtemp(prefix="chat-widget-history-"))
    results = {"sqlite": history.run(f"sqlite:///{folder / 'history.db'}", stored, samples)}
    with postgres.temporary_database() as url:
        results["postgresql"] = history.run(url, stored, samples)
    return results


if __name__ == "__main__":
    main()
