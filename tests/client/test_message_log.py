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
