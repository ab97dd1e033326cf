"""The client's plain parts, without a socket: the message log, the pending flag, content."""

from __future__ import annotations

import pytest

from chat_widget._message_log import MessageLog
from chat_widget._payload import content_to_payload
from chat_widget._pending import PendingSend
from chat_widget.errors import ChatError, NotConnectedError, ReplyTimeoutError


def message(seq: int, chat_id: str = "c", **fields: object) -> dict:
    base = {
        "id": f"m{seq}",
        "chat_id": chat_id,
        "seq": seq,
        "sender": {"id": "alice", "name": "Alice", "kind": "user"},
        "text": f"text {seq}",
        "parts": [],
        "client_id": None,
        "reply_to": None,
        "created_at": "2026-01-01T00:00:00Z",
    }
    base.update(fields)
    return base


def bot_reply(seq: int, reply_to: str) -> dict:
    return message(seq, sender={"id": "echo", "name": "echo", "kind": "bot"}, reply_to=reply_to)


# -- MessageLog ---------------------------------------------------------------


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


def test_log_finds_a_bot_reply_that_arrived_before_the_ack() -> None:
    log = MessageLog()
    log.start([message(1), bot_reply(2, reply_to="m1")])
    assert log.find_reply("m1")["seq"] == 2
    assert log.find_reply("m2") is None


# -- PendingSend --------------------------------------------------------------


def test_without_responder_the_ack_ends_the_wait() -> None:
    pending = PendingSend("cid", "c", needs_reply=False)
    assert pending.awaiting
    assert pending.stored(message(1, client_id="cid"))
    assert not pending.awaiting


def test_with_responder_only_the_reply_ends_the_wait() -> None:
    pending = PendingSend("cid", "c", needs_reply=True)
    own = message(1, client_id="cid")
    assert pending.is_own(own)
    pending.stored(own)
    assert pending.awaiting
    assert not pending.is_reply(message(2, reply_to="m1"))  # a user, not the bot
    reply = bot_reply(2, reply_to="m1")
    assert pending.is_reply(reply)
    assert pending.replied(reply)
    assert not pending.awaiting and pending.reply is reply


@pytest.mark.parametrize(
    "error",
    [
        ReplyTimeoutError("no reply"),
        NotConnectedError("lost", code="disconnected"),
        ChatError("reply failed", code="internal"),
    ],
)
def test_every_failure_ends_the_wait_once(error: ChatError) -> None:
    pending = PendingSend("cid", "c", needs_reply=True)
    pending.stored(message(1, client_id="cid"))
    assert pending.failed(error)
    assert not pending.awaiting and pending.error is error
    assert not pending.failed(ChatError("later"))
    assert not pending.replied(bot_reply(2, reply_to="m1"))
    assert pending.error is error


def test_timeline_events_carry_kind_client_id_and_times() -> None:
    pending = PendingSend("cid", "c", needs_reply=False)
    first = pending.timeline.record("auth_fetch_start")
    second = pending.timeline.record("emit")
    assert set(first) == {"kind", "client_id", "t", "elapsed_ms"}
    assert first["client_id"] == "cid" and second["kind"] == "emit"
    assert 0 <= first["elapsed_ms"] <= second["elapsed_ms"]


# -- content ------------------------------------------------------------------


def test_text_is_sent_as_text() -> None:
    assert content_to_payload("hello") == ("hello", [])


def test_a_dict_passes_text_and_parts_through() -> None:
    parts = [{"type": "markdown", "text": "**hi**"}, {"type": "sparkline", "points": [1, 2]}]
    assert content_to_payload({"text": "", "parts": parts}) == ("", parts)


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (None, "bad_request"),
        ("", "bad_request"),
        ({"parts": [{"no": "type"}]}, "bad_request"),
        ("x" * (64 * 1024 + 1), "too_large"),
    ],
)
def test_content_the_server_would_refuse_is_refused_early(content: object, code: str) -> None:
    with pytest.raises(ChatError) as caught:
        content_to_payload(content)
    assert caught.value.code == code
