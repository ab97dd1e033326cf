"""Sending (client/sending.py) against responders that hang, fail or stream.

The pending flag always clears, and says why. The server loads the
responders below by import path (`--responder
CHAT_ID=tests.client.test_sending:never_answers`), so a reply can be held back
for as long as a test needs, with no race against a fast bot.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chat_widget.errors import (
    NotConnectedError,
    ReplyFailedError,
    ReplyTimeoutError,
    ResponsePendingError,
)
from tests.client.common import Recorder, client_for, wait_until

ROOT = Path(__file__).resolve().parent.parent


async def never_answers(message: dict[str, Any]) -> str:
    """A responder that keeps every question waiting."""
    await asyncio.sleep(3600)
    return "too late"


def always_fails(message: dict[str, Any]) -> str:
    """A responder that fails, so the server sends `reply_failed`."""
    raise RuntimeError("this responder always fails")


def streams_words(message: dict[str, Any]) -> Iterator[str]:
    """A responder that writes its answer word by word (`message_delta` events)."""
    for word in message["text"].split():
        yield word + " "


@pytest.fixture
def responder_server(server_factory, monkeypatch):
    """A demo server where `general` never answers, `echo` always fails, `staff-room` streams."""
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    return server_factory(
        extra_args=[
            "--responder",
            f"general={__name__}:never_answers",
            "--responder",
            f"echo={__name__}:always_fails",
            "--responder",
            f"staff-room={__name__}:streams_words",
        ]
    )


def test_send_while_awaiting_a_reply_raises_response_pending(responder_server) -> None:
    with client_for(responder_server.url, responder_server.tokens["alice"]) as alice:
        alice.join("general")
        assert alice.chat["responder"] is not None
        alice.send("a question")
        assert alice.awaiting_response
        with pytest.raises(ResponsePendingError) as caught:
            alice.send("another question")
        assert caught.value.code == "response_pending"
        with pytest.raises(ReplyTimeoutError):
            alice.wait_for_reply(timeout=0.1)  # this call gives up; the flag stays
        assert alice.awaiting_response
    assert not alice.awaiting_response  # closing ends the wait too


def test_reply_timeout_clears_the_flag_and_records_why(responder_server) -> None:
    url, token = responder_server.url, responder_server.tokens["alice"]
    with client_for(url, token, reply_timeout=0.3) as alice:
        alice.join("general")
        flags = Recorder()
        alice.on_awaiting_response(flags)
        alice.send("will time out")
        flags.wait_for(lambda items: items == [True, False], timeout=5)
        assert not alice.awaiting_response
        assert isinstance(alice.last_error, ReplyTimeoutError)
        assert alice.last_error.code == "timeout" and alice.status == "connected"
        with pytest.raises(ReplyTimeoutError):
            alice.wait_for_reply()
        alice.send("the next one may go")
        assert alice.last_error is None  # a new send starts a new story


def test_reply_failed_raises_and_clears_the_flag(responder_server) -> None:
    with client_for(responder_server.url, responder_server.tokens["alice"]) as alice:
        alice.join("echo")
        failures = Recorder()
        alice.on_reply_failed(failures)
        sent = alice.send("will fail")
        with pytest.raises(ReplyFailedError) as caught:
            alice.wait_for_reply(timeout=10)
        assert caught.value.code == "internal"
        assert not alice.awaiting_response
        assert isinstance(alice.last_error, ReplyFailedError)
        payload = failures.wait_for(lambda items: items and items[-1])
        assert payload["reply_to"] == sent["id"] and payload["chat_id"] == "echo"


def test_lost_connection_clears_the_flag(responder_server) -> None:
    with client_for(responder_server.url, responder_server.tokens["alice"]) as alice:
        alice.join("general")
        alice.send("the server dies before answering")
        assert alice.awaiting_response
        responder_server.kill()
        wait_until(lambda: not alice.awaiting_response, what="the flag to clear")
        assert alice.status == "reconnecting"
        assert isinstance(alice.last_error, NotConnectedError)
        assert alice.last_error.code == "disconnected"
        with pytest.raises(NotConnectedError):
            alice.wait_for_reply()
        with pytest.raises(NotConnectedError):
            alice.send("not now")


def test_streamed_reply_arrives_as_deltas_then_one_message(responder_server) -> None:
    with client_for(responder_server.url, responder_server.tokens["carol"]) as carol:
        carol.join("staff-room")
        deltas = Recorder()
        carol.on_delta(deltas)
        sent = carol.send("one two three")
        reply = carol.wait_for_reply(timeout=10)
        assert reply["text"] == "one two three " and reply["reply_to"] == sent["id"]
        pieces = deltas.wait_for(lambda items: len(items) >= 3 and items)
        assert [piece["delta"] for piece in pieces] == ["one ", "two ", "three "]
        assert [piece["index"] for piece in pieces] == [0, 1, 2]
        assert {piece["id"] for piece in pieces} == {reply["id"]}
        assert not carol.awaiting_response


def test_pieces_are_handled_in_order_and_all_before_wait_for_reply_returns(
    responder_server,
) -> None:
    """Events are handled in the order the server sent them, and callbacks caught up on return.

    A reply of many pieces sent back to back: each piece's callback runs in
    `index` order, every one before the reply's `on_message`, and all of them
    before `wait_for_reply` returns, so a count taken right then is complete.
    """
    words = [f"w{number}" for number in range(300)]
    with client_for(responder_server.url, responder_server.tokens["carol"]) as carol:
        carol.join("staff-room")
        seen: list[tuple[str, Any]] = []
        carol.on_delta(lambda delta: seen.append(("delta", delta["index"])))
        carol.on_message(lambda message: seen.append(("message", message["id"])))
        for _ in range(3):
            seen.clear()
            carol.send(" ".join(words))
            reply = carol.wait_for_reply(timeout=30)
            pieces = [index for kind, index in seen if kind == "delta"]
            assert pieces == list(range(len(words)))
            assert seen.index(("message", reply["id"])) > seen.index(("delta", len(words) - 1))
