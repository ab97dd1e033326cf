"""One send's state without a socket: the pending flag, its timeline, outcomes that come early."""

from __future__ import annotations

import pytest

from chat_widget.client.pending import EarlyOutcomes, PendingSend
from chat_widget.errors import ChatError, NotConnectedError, ReplyTimeoutError
from tests.client.messages import bot_reply, message


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


def test_a_reply_that_beats_the_ack_is_kept_for_the_message_it_answers() -> None:
    early = EarlyOutcomes()
    early.replied(message(2, reply_to="m1"))  # a person answering: not a reply to wait for
    reply = bot_reply(3, reply_to="m1")
    early.replied(reply)
    assert early.take("m2") == (None, None)
    assert early.take("m1") == (reply, None)
    assert early.take("m1") == (None, None)  # taken once


def test_a_reply_failure_that_beats_the_ack_is_kept_too() -> None:
    early = EarlyOutcomes()
    error = ChatError("the responder failed", code="internal")
    early.failed("m1", error)
    assert early.take("m1") == (None, error)


def test_early_outcomes_keep_only_the_latest_few() -> None:
    early = EarlyOutcomes(kept=2)
    for seq in (1, 2, 3):
        early.replied(bot_reply(10 + seq, reply_to=f"m{seq}"))
    assert early.take("m1") == (None, None)
    assert early.take("m2")[0] is not None and early.take("m3")[0] is not None
