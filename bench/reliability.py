"""`python -m bench.reliability`: run every reliability check and write docs/reliability.md.

Each item of the report is produced here, by a run on this machine: the
crash test and the load test from bench/, and the test modules that try
hostile input, authorization, limits, script injection and the pending flag
(run through pytest with their full counts, their outcome parsed from a
JUnit XML report). `--quick` uses the small counts CI runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import crash, crash_changes, load, load_scale, reliability_faults

REPO = Path(__file__).resolve().parent.parent
REPORT = REPO / "docs" / "reliability.md"

SUITES = {
    "hostile": ["tests/server/test_hostile_input.py"],
    "authorization": [
        "tests/server/test_events.py::test_connect_without_or_with_unknown_token_is_refused",
        "tests/server/test_events.py::test_join_refusals_carry_their_codes",
        "tests/server/test_events.py::test_authorization_strings_are_single_use",
        "tests/server/test_events.py::test_forged_and_foreign_authorization_strings_are_invalid",
        "tests/server/test_events.py::test_expired_authorization_string_is_refused",
        "tests/server/test_routes.py::test_missing_or_unknown_token_is_unauthorized",
        "tests/server/test_routes.py::test_message_auth_is_bound_to_a_chat_the_user_may_open",
        "tests/server/test_limits.py::test_tokens_and_authorization_strings_never_reach_the_log",
    ],
    "injection": ["tests/browser/test_injection.py"],
    "limits": ["tests/server/test_limits.py", "tests/server/test_events.py::"
               "test_size_limits_are_too_large"],
    "pending": ["tests/client/test_sending.py", "tests/server/test_responders.py",
                "tests/test_widget.py::test_a_failed_reply_is_reported_in_plain_words",
                "tests/test_widget.py::"
                "test_a_failed_front_end_send_keeps_its_reason_and_can_be_retried"],
}


def run_suite(name: str, targets: list[str], full: bool) -> dict[str, Any]:
    """Run test targets with pytest; count passed/failed from a JUnit report."""
    folder = Path(tempfile.mkdtemp(prefix=f"chat-widget-{name}-"))
    junit = folder / "junit.xml"
    extra = folder / "extra.json"
    env = {**os.environ, "CHAT_WIDGET_HOSTILE_REPORT": str(extra),
           "CHAT_WIDGET_INJECTION_REPORT": str(extra)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               f"--junitxml={junit}", *(["--full"] if full else []), *targets]
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    cases = ElementTree.parse(junit).getroot().iter("testcase") if junit.exists() else []
    outcome = {"passed": 0, "failed": 0, "skipped": 0, "failures": []}
    for case in cases:
        if case.find("failure") is not None or case.find("error") is not None:
            outcome["failed"] += 1
            outcome["failures"].append(case.get("name"))
        elif case.find("skipped") is not None:
            outcome["skipped"] += 1
        else:
            outcome["passed"] += 1
    outcome["seconds"] = round(seconds, 1)
    if extra.exists():
        outcome["details"] = json.loads(extra.read_text())
    return outcome


def steps(quick: bool) -> dict[str, Callable[[], dict[str, Any]]]:
    """Each item of the report by name: a run that gives its figures."""
    full = not quick
    items: dict[str, Callable[[], dict[str, Any]]] = {
        "crash": lambda: {"crash": crash.run(clients=50, rooms=5, messages=10_000, kills=5)
                          if full else crash.run(clients=10, rooms=2, messages=1_000, kills=2)},
        "crash_changes": lambda: {"crash_changes": (
            crash_changes.run(clients=50, rooms=5, changes=5_000, kills=5) if full
            else crash_changes.run(clients=10, rooms=2, changes=500, kills=2))},
    }
    for name, targets in SUITES.items():
        items[name] = lambda name=name, targets=targets: {name: run_suite(name, targets, full)}
    items["load"] = lambda: {"load": load.run(connections=500 if full else 100, rooms=5,
                                              senders=5, sends=100 if full else 20)}
    items["load_scale"] = lambda: load_scale.collect(quick)
    items["faults"] = lambda: reliability_faults.collect(quick, run_suite)
    return items


def collect(quick: bool, only: list[str] | None = None,
            earlier: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run every item (or those in `only`, keeping `earlier` figures for the rest)."""
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    figures: dict[str, Any] = {**(earlier or {}), "when": now,
                               "machine": f"{platform.platform()}, {os.cpu_count()} cores",
                               "quick": quick}
    measured = dict(figures.get("measured", {}))
    for name, run in steps(quick).items():
        if only is None or name in only:
            figures.update(run())
            measured[name] = now
    figures["measured"] = measured
    return figures


def previous_figures() -> dict[str, Any]:
    """The raw figures at the end of the report as it stands."""
    text = REPORT.read_text()
    block = text.split("```json\n", 1)[1].rsplit("\n```", 1)[0]
    return dict(json.loads(block))


def _suite_line(result: dict[str, Any]) -> str:
    line = f"{result['passed']} passed, {result['failed']} failed"
    if result["failures"]:
        line += f" ({', '.join(result['failures'])})"
    return line + f", {result['seconds']} s"


def _measured_note(figures: dict[str, Any]) -> list[str]:
    """When each item ran, if not all in the same run."""
    measured = figures.get("measured", {})
    if len(set(measured.values())) <= 1:
        return []
    return ["Items by the time they ran: " + "; ".join(
        f"{when}: {', '.join(sorted(n for n, w in measured.items() if w == when))}"
        for when in sorted(set(measured.values()))) + ".", ""]


def markdown(figures: dict[str, Any]) -> str:
    crash_run, load_run = figures["crash"], figures["load"]
    changes_run = figures["crash_changes"]
    hostile = figures["hostile"].get("details", {})
    tried = hostile.get("tried", {})
    injection = figures["injection"].get("details", {})
    lines = [
        "# Reliability",
        "",
        f"Measured {figures['when']} on {figures['machine']}"
        f"{' (quick counts)' if figures['quick'] else ''}. Regenerate with "
        "`python -m bench.reliability` (full counts) or "
        "`python -m bench.reliability --quick`; `--only ITEMS` runs again only those. "
        "The goal for every \"lost\" is zero.",
        "",
        *_measured_note(figures),
        "| item | what was tried | how many | lost / wrong |",
        "|---|---|---|---|",
        f"| 1. Crashes | {crash_run['clients']} clients in {crash_run['rooms']} chats send "
        f"while the server is SIGKILLed and restarted {crash_run['kills']} times at random "
        f"moments; clients retry unacknowledged sends with the same client_id | "
        f"{crash_run['messages_sent']:,} messages, {crash_run['acknowledged']:,} acknowledged, "
        f"{crash_run['retries']} retries, {crash_run['seconds']} s | lost {crash_run['lost']}, "
        f"doubled {crash_run['doubled']}, never stored {crash_run['never_stored']}, clients "
        f"with a different history {crash_run['divergent_clients']} |",
        f"| 1b. Changes under crashes | {changes_run['clients']} clients in "
        f"{changes_run['rooms']} chats edit and react while the server is SIGKILLed and "
        f"restarted {changes_run['kills']} times, each kill right after an ack; "
        f"unacknowledged changes are retried as they "
        f"were; clients catch up with after_version and changes | "
        f"{changes_run['changes_made']:,} changes, {changes_run['acknowledged']:,} "
        f"acknowledged, {changes_run['versions_taken']:,} versions taken, "
        f"{changes_run['retries']} retries, {changes_run['seconds']} s | lost "
        f"{changes_run['lost']}, doubled {changes_run['doubled']}, repeated versions "
        f"{changes_run['repeated_versions']}, gaps in the acknowledged versions "
        f"{changes_run.get('version_gaps', 'n/a')}, clients with a different state "
        f"{changes_run['divergent_clients']} |",
        f"| 2. Hostile input | property-based payloads (hypothesis) over every Socket.IO "
        f"event and HTTP route, protocol 1.1's included (edits, reactions, typing, read "
        f"markers, file parts, uploads, downloads, links, search, members), malformed "
        f"frames | {sum(tried.values()):,} payloads "
        f"({', '.join(f'{k} {v:,}' for k, v in tried.items())}); "
        f"{hostile.get('accepted_sends', 0)} happened to be valid sends | "
        f"{_suite_line(figures['hostile'])}; server alive: {hostile.get('server_alive')}; "
        "refused ones stored or broadcast: 0 (checked) |",
        f"| 3. Authorization | replayed, expired, forged, truncated, other-user and "
        f"other-chat strings; unknown and other-workspace tokens; secrets in the log | "
        f"{figures['authorization']['passed'] + figures['authorization']['failed']} checks | "
        f"{_suite_line(figures['authorization'])} |",
        f"| 4. Script injection | hostile texts through the server, shown by the widget in "
        f"Chromium in JupyterLab | {injection.get('payloads', 'see test')} texts | "
        f"{_suite_line(figures['injection'])}; executions recorded: "
        f"{injection.get('executions', 'n/a')} |",
        f"| 5. Limits | rate limit with retry_after, size limits, connection cap, origin "
        f"check | {figures['limits']['passed'] + figures['limits']['failed']} checks | "
        f"{_suite_line(figures['limits'])} |",
        f"| 6. Pending flag and typed text | disconnect, reply_failed, crashing and hanging "
        f"responders, reply timeout; failed sends keep the text | "
        f"{figures['pending']['passed'] + figures['pending']['failed']} checks | "
        f"{_suite_line(figures['pending'])} |",
        f"| 7. Load | {load_run['connections']} connections held in {load_run['rooms']} chats "
        f"while {load_run['senders']} senders send | {load_run['deliveries']:,} deliveries "
        f"({load_run['deliveries_per_s']:,}/s) | missing deliveries "
        f"{load_run['deliveries_expected'] - load_run['deliveries']}; memory per idle "
        f"connection {load_run['memory_per_idle_connection_kib']} KiB; send p50/p99 while "
        f"loaded {load_run['send_loaded']['p50_ms']}/{load_run['send_loaded']['p99_ms']} ms "
        f"(unloaded {load_run['send_unloaded']['p50_ms']}/"
        f"{load_run['send_unloaded']['p99_ms']} ms) |",
        *load_scale.rows(figures),
        *reliability_faults.rows(figures, _suite_line),
        "",
        *reliability_faults.heartbeat_note(figures),
        *reliability_faults.faults_note(figures),
        *load_scale.note(figures),
        "## Reproduce one item",
        "",
        "- Crashes: `python -m bench.crash --clients 50 --rooms 5 --messages 10000 --kills 5`",
        "- Changes under crashes: `python -m bench.crash_changes --clients 50 --rooms 5 "
        "--changes 5000 --kills 5`",
        "- Hostile input: `pytest tests/server/test_hostile_input.py --full`",
        "- Authorization, limits, pending flag: the test ids listed in `bench/reliability.py`",
        "- Script injection: `pytest tests/browser/test_injection.py`",
        "- Load: `python -m bench.load --connections 500`",
        *load_scale.reproduce(),
        *reliability_faults.reproduce(),
        "",
        "## Raw figures",
        "",
        "```json",
        json.dumps(figures, indent=1),
        "```",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small counts CI runs")
    parser.add_argument("--only", help="run only these items (comma-separated: "
                        f"{', '.join(steps(True))}), keeping the report's figures for the rest")
    args = parser.parse_args()
    only = args.only.split(",") if args.only else None
    if only is not None and (unknown := set(only) - set(steps(args.quick))):
        parser.error(f"no such item: {', '.join(sorted(unknown))}")
    figures = collect(args.quick, only, previous_figures() if only else None)
    REPORT.write_text(markdown(figures))
    print(REPORT.read_text())


if __name__ == "__main__":
    main()
