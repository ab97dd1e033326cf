"""`python -m bench`: the figures, each as a ratio to a floor measured in the same run.

    python -m bench [--quick] [--json PATH] [--only latency,throughput,stacks]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

from . import latency, throughput


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (under 3 minutes)")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--only", default="latency,throughput,stacks")
    args = parser.parse_args()
    selected = set(args.only.split(","))
    count = 300 if args.quick else 2000
    seconds = 5.0 if args.quick else 20.0
    figures: dict = {"machine": platform.platform(), "python": platform.python_version(),
                     "when": time.strftime("%Y-%m-%d %H:%M:%S"), "quick": args.quick}
    if "latency" in selected:
        figures["latency"] = latency.run(count)
    if "throughput" in selected:
        figures["throughput"] = throughput.run(seconds)
    if "stacks" in selected:
        figures["stacks"] = throughput.compare_stacks(count)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
