"""Engine faults from bench/, at small counts in CI and full counts with --full.

A frozen network link, PostgreSQL restarts (a private cluster), SQLite's disk
full: each run is the one `python -m bench.reliability` reports. They live
apart from tests/test_reliability.py so pytest-xdist (one file per worker)
runs them beside the crash runs rather than after them.
"""

from __future__ import annotations

import pytest

from bench import disk_full, frozen_link, postgres_restart


def test_a_frozen_link_is_noticed_and_after_the_reset_nothing_is_lost(full_counts):
    report = frozen_link.run(freeze_seconds=30.0 if full_counts else 0.0,
                             messages=20 if full_counts else 5)
    assert report["noticed_s"] is not None and report["noticed_s"] <= 10.0, report
    # carol's authorization fetch timed out after 1 s: the status left "connected" then,
    # before engine.io's heartbeat could have said so (it needs 4 s at least).
    assert report["noticed_by_failed_fetch_s"] is not None, report
    assert report["noticed_by_failed_fetch_s"] < 3.0, report
    not_sent = report["not_sent"]
    assert not_sent["code"] == "not_sent" and "never left this client" in not_sent["message"]
    assert abs(not_sent["seconds"] - report["carol_send_timeout_s"]) <= 1.0, report
    assert not report["carol_message_stored"], report
    assert report["reconnected_after_reset_s"] is not None, report
    assert report["pending_send"]["ok"] and report["pending_send_stored"] == 1, report
    assert report["caught_up"] and report["in_seq_order"], report
    assert (report["missing_at_alice"], report["doubled_at_alice"]) == (0, 0), report


def test_postgres_restarts_answer_clearly_and_no_request_fails_after(full_counts):
    if full_counts:
        report = postgres_restart.run(clients=50, processes=3, restarts=3, down_for=2.0)
    else:
        report = postgres_restart.run(clients=4, processes=1, restarts=1, down_for=0.5)
    assert report["restarts"] == (3 if full_counts else 1)
    assert report["failed_sends"] == 0 and report["acknowledged"] == report["sends"], report
    assert (report["lost"], report["doubled"]) == (0, 0), report
    # What the server said while its database was down: the protocol's code, in words.
    assert report["outage_answers"] and set(report["outage_answers"]) == {"500 internal"}, report
    assert all("the chat server's database is unavailable" in message
               for message in report["outage_messages"]), report
    assert report["failed_after_recovery"] == 0, report
    assert report["idle_process_requests"] > 0 and report["idle_process_failed"] == [], report


def test_a_full_disk_refuses_sends_clearly_and_sending_resumes_after(full_counts):
    if not disk_full.mountable():
        pytest.skip("this machine does not let the test mount a small tmpfs (needs root)")
    report = disk_full.run(refused=20 if full_counts else 2, before=5 if full_counts else 1)
    assert report["first_refusal"] is not None, report  # the disk did fill up
    assert report["refused"] == report["asked_while_full"], report
    assert report["refusal_codes"] == ["internal"], report
    assert report["refusal_messages"] == [
        "the chat server's disk is full: nothing was stored; try again once space is freed"]
    assert report["search_while_full"] == {
        "status": 200, "found": ["findable before the disk filled"]}, report
    assert report["failed_after_space_came_back"] == [], report
    assert report["sent_after_space_came_back"] == report["asked_after_space_came_back"] > 0
    assert report["integrity_check"] == "ok", report
    assert (report["lost"], report["doubled"], report["refused_but_stored"]) == (0, 0, 0), report
