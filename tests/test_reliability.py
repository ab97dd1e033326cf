"""Crash and load runs from bench/, at small counts in CI and full counts with --full."""

from __future__ import annotations

from bench import crash, crash_changes, load, load_scale


def test_sigkill_during_sends_loses_and_doubles_nothing(full_counts):
    if full_counts:
        report = crash.run(clients=50, rooms=5, messages=10_000, kills=5)
    else:
        report = crash.run(clients=10, rooms=2, messages=1_000, kills=2)
    assert report["server_starts"] == report["kills"] + 1
    assert report["acknowledged"] == report["messages_sent"] == report["stored"], report
    assert (report["lost"], report["doubled"], report["unexpected"], report["never_stored"],
            report["divergent_clients"]) == (0, 0, 0, 0, 0), report


def test_sigkill_during_changes_loses_and_doubles_none(full_counts):
    if full_counts:
        report = crash_changes.run(clients=50, rooms=5, changes=5_000, kills=5)
    else:
        report = crash_changes.run(clients=10, rooms=2, changes=300, kills=2)
    assert report["server_starts"] == report["kills"] + 1
    assert report["acknowledged"] == report["changes_made"] == report["versions_taken"], report
    assert (report["lost"], report["doubled"], report["repeated_versions"],
            report["version_gaps"], report["divergent_clients"]) == (0, 0, 0, 0, 0), report


def test_many_connections_all_receive_while_messages_flow(full_counts):
    connections = 500 if full_counts else 100
    report = load.run(connections=connections, rooms=5, senders=5, sends=20)
    # Each room holds connections/5 listeners; every send reaches each of them.
    assert report["deliveries"] == report["deliveries_expected"] == 5 * 20 * (connections // 5)
    assert report["send_loaded"]["n"] == 100


def _lost_nothing(report):
    assert report["listeners_open"] == report["connections"], report
    assert (report["missing"], report["doubled"], report["closed_by_server"]) == (0, 0, 0), report
    assert report["deliveries"] == report["deliveries_expected"] > 0, report
    assert report["messages_stored"] == report["messages_acked"], report
    health = report["health"]
    assert (health["errors"], health["timeouts"]) == (0, 0), health


def test_thousands_of_connections_on_one_process_all_receive(full_counts):
    # 5,000 with --full; a few hundred in CI (bench/load_scale.py's RUNS).
    report = load_scale.run(**load_scale.RUNS["full" if full_counts else "quick"]["one_process"])
    assert report["servers"] == 1
    _lost_nothing(report)


def test_three_processes_over_redis_and_postgresql_all_receive(full_counts):
    settings = load_scale.RUNS["full" if full_counts else "quick"]["three_processes"]
    report = load_scale.run(**settings)
    assert report["servers"] == 3
    _lost_nothing(report)
