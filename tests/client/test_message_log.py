"""MessageLog without a socket: seq order, each message once, the join snapshot, gaps."""

from __future__ import annotations

from chat_widget.client.message_log import MessageLog
from tests.client.messages import message


def test_log_hands_on_messages_in_seq_order_even_when_they_arrive_out_of_order() -> None:
    log = MessageLog()
    log.start([message(1), message(2)])
    assert log.add(message(4))
    assert log.take_deliverable() == []
    assert log.gap_after() == 2
    assert log.add(message(3))
    assert [m["seq"] for m in log.take_deliverable()] == [3, 4]
    assert log.gap_after() is None
    assert [m["seq"] for m in log.messages()] == [1, 2, 3, 4]


def test_log_keeps_each_message_once() -> None:
    log = MessageLog()
    log.start([message(1)])
    assert not log.add(message(1))
    assert not log.add(dict(message(1), seq=9))  # same id, other seq
    assert log.add(message(2))
    assert not log.add(message(2))
    assert [m["seq"] for m in log.take_deliverable()] == [2]
    assert log.take_deliverable() == []
    assert [m["seq"] for m in log.messages()] == [1, 2]


def test_log_holds_messages_that_beat_the_join_snapshot() -> None:
    log = MessageLog()
    log.add(message(6))  # a broadcast processed before the join ack
    assert log.take_deliverable() == [] and log.messages() == []
    log.start([message(4), message(5)])
    assert [m["seq"] for m in log.take_deliverable()] == [6]


def test_log_shows_older_history_without_handing_it_on_again() -> None:
    log = MessageLog()
    log.start([message(10), message(11)])
    for seq in (8, 9):
        log.add(message(seq))
    assert log.take_deliverable() == []
    assert log.oldest_seq == 8
    assert [m["seq"] for m in log.messages()] == [8, 9, 10, 11]


def test_empty_chat_starts_at_seq_zero() -> None:
    log = MessageLog()
    log.start([])
    assert log.delivered_seq == 0
    log.add(message(1))
    assert [m["seq"] for m in log.take_deliverable()] == [1]


# -- changes (protocol 1.1), ordered by version --------------------------------------


def changed(seq: int, version: int, **fields: object) -> dict:
    return message(seq, version=version, text=f"text {seq} at v{version}", **fields)


def test_changes_replace_messages_in_place_in_version_order() -> None:
    log = MessageLog()
    log.start([message(1, version=0), message(2, version=0)], last_version=0)
    log.hold_change(changed(2, 2))
    assert log.take_changes() == []  # version 1 is missing
    assert log.version_gap_after() == 0
    log.hold_change(changed(1, 1))
    assert [(m["seq"], m["version"]) for m in log.take_changes()] == [(1, 1), (2, 2)]
    assert log.version_gap_after() is None and log.applied_version == 2
    assert [m["text"] for m in log.messages()] == ["text 1 at v1", "text 2 at v2"]


def test_a_change_already_applied_is_not_handed_on_twice() -> None:
    log = MessageLog()
    log.start([message(1, version=0)], last_version=0)
    log.hold_change(changed(1, 1))
    assert len(log.take_changes()) == 1
    log.hold_change(changed(1, 1))  # the broadcast after the ack, say
    assert log.take_changes() == []


def test_a_page_of_changes_covers_the_versions_it_superseded() -> None:
    log = MessageLog()
    log.start([message(1, version=0), message(2, version=0)], last_version=0)
    log.hold_change(changed(1, 3))  # live, ahead of versions 1 and 2
    # The changes page: message 2 changed at 2, message 1 last at 3 (its v1 superseded).
    for page_message in (changed(2, 2), changed(1, 3)):
        log.hold_change(page_message)
    assert [m["version"] for m in log.take_changes(covered=3)] == [2, 3]
    assert log.applied_version == 3 and log.version_gap_after() is None


def test_changes_before_the_join_and_older_than_the_snapshot_only_refresh() -> None:
    log = MessageLog()
    log.hold_change(changed(1, 4))  # arrived while the join was on its way
    log.start([message(1, version=0)], last_version=4)
    assert log.take_changes() == [] and log.messages()[0]["version"] == 4
    assert not log.add(changed(1, 3))  # an older copy does not replace a newer one
    assert log.messages()[0]["version"] == 4


def test_a_change_to_a_message_not_yet_shown_goes_out_with_it() -> None:
    log = MessageLog()
    log.start([message(1, version=0)], last_version=0)
    log.hold_change(changed(2, 1))
    assert log.take_changes() == []  # no update for a message listeners have not seen
    assert [(m["seq"], m["version"]) for m in log.take_deliverable()] == [(2, 1)]
    assert not log.add(message(2, version=0))  # the original `message` event, late
    assert log.messages()[1]["version"] == 1
