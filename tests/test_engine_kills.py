"""Redis SIGKILLed, and one server process of three SIGKILLed, under steady traffic.

Each run is the one `python -m bench.reliability` reports (bench/redis_kill.py,
bench/process_kill.py), over a private PostgreSQL and a private redis-server.
CI counts: 9 clients on 3 processes, one kill each; `--full`: 50 clients,
three kills each, a process killed every 20 s. A file of its own, so
pytest-xdist runs it beside tests/test_reliability_faults.py.
"""

from __future__ import annotations

from bench import process_kill, redis_kill


def assert_nothing_lost_or_doubled(report: dict) -> None:
    assert report["acknowledged"] > 0, report
    assert (report["lost"], report["doubled"]) == (0, 0), report
    assert (report["missing_at_clients"], report["doubled_at_clients"]) == (0, 0), report
    assert report["divergent_clients"] == 0 and report["all_caught_up_s"] is not None, report


def test_redis_killed_loses_nothing_and_histories_are_equal_soon_after(full_counts):
    if full_counts:
        report = redis_kill.run(clients=50, processes=3, kills=3, down_for=3.0)
    else:
        report = redis_kill.run(clients=9, processes=3, kills=1, down_for=1.0, between=2.0)
    assert report["failed_sends"] == 0, report
    assert_nothing_lost_or_doubled(report)
    assert len(report["per_kill"]) == report["kills"]
    for kill in report["per_kill"]:
        # Each process noticed, then took its subscription back by itself.
        assert kill["down_noticed_by_every_process_s"] is not None, report
        assert kill["subscribed_again_after_s"] is not None, report
        assert kill["histories_equal_after_s"] is not None, report
        assert kill["histories_equal_after_s"] <= redis_kill.EQUAL_WITHIN_S, report
        # Redis came back empty: the processes wrote presence back by themselves.
        assert kill["presence_whole_again_by_s"] is not None, report


def test_a_process_killed_loses_nothing_and_leaves_no_ghost_in_presence(full_counts):
    if full_counts:
        report = process_kill.run(clients=50, processes=3, kills=3, every=20.0, down_for=10.0)
    else:
        report = process_kill.run(clients=9, processes=3, kills=1, every=8.0, down_for=8.0)
    assert_nothing_lost_or_doubled(report)
    # Only sends made while their client had no server at all are refused, before leaving.
    assert set(report["failed_send_codes"]) <= {"not_connected"}, report
    assert report["all_present_at_start_s"] is not None, report
    assert len(report["per_kill"]) == report["kills"]
    for kill in report["per_kill"]:
        assert kill["failed_over"] > 0 and kill["went_away"] > 0, report
        # The dead process's users leave every view once its heartbeat lapsed (plus the
        # time the `presence` event takes to arrive), and those that failed over show.
        assert kill["ghosts_gone_after_s"] is not None, report
        assert kill["ghosts_gone_after_s"] <= report["presence_timeout_s"] + 2.0, report
        assert kill["views_exact_after_s"] is not None, report
        assert kill["all_present_after_restart_s"] is not None, report
