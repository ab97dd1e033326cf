"""Responders: plain, async and streaming functions, failures, and isolation between chats."""

from __future__ import annotations

import pytest

from chat_widget.demo import start_server
from tests.helpers import RawClient
from tests.server import sample_responders


@pytest.fixture
def responder_server(request):
    """An in-process demo server whose `general` chat uses the responder under test."""
    responder, timeout = request.param
    server = start_server(responders={"under-test": responder},
                          chat_responders={"general": "under-test"},
                          responder_timeout=timeout)
    yield server
    server.stop()


def answer_to(client: RawClient, question: dict) -> tuple[str, dict, list[dict]]:
    """Collect deltas until the answer (message or reply_failed) to `question` arrives."""
    deltas = []
    while True:
        kind, payload = client.events.get(timeout=10)
        if kind == "message_delta" and payload["reply_to"] == question["id"]:
            deltas.append(payload)
        elif kind in ("message", "reply_failed") and payload.get("reply_to") == question["id"]:
            return kind, payload, deltas


def ask(server, text: str, chat_id: str = "general") -> tuple[RawClient, dict]:
    client = RawClient(server, server.tokens["alice"])
    client.join(chat_id)
    ack = client.send(chat_id, text)
    assert ack["ok"], ack
    return client, ack["message"]


@pytest.mark.parametrize("responder_server", [(sample_responders.shout, 10)], indirect=True)
def test_plain_function_answers(responder_server):
    client, question = ask(responder_server, "quiet please")
    kind, answer, deltas = answer_to(client, question)
    client.close()
    assert kind == "message" and answer["text"] == "QUIET PLEASE" and deltas == []
    assert answer["sender"] == {"id": "bot:under-test", "name": "under-test", "kind": "bot"}


@pytest.mark.parametrize("responder_server", [(sample_responders.async_length, 10)],
                         indirect=True)
def test_async_function_answers_with_parts(responder_server):
    client, question = ask(responder_server, "abcd")
    kind, answer, _ = answer_to(client, question)
    client.close()
    assert answer["text"] == "4 characters"
    assert answer["parts"] == [{"type": "table", "columns": ["length"], "rows": [[4]]}]


@pytest.mark.parametrize("responder_server", [(sample_responders.stream_words, 10),
                                              (sample_responders.async_stream_letters, 10)],
                         indirect=True)
def test_generators_stream_deltas_before_the_final_message(responder_server):
    client, question = ask(responder_server, "one two three")
    kind, answer, deltas = answer_to(client, question)
    client.close()
    assert kind == "message" and len(deltas) >= 3
    assert [d["index"] for d in deltas] == list(range(len(deltas)))
    assert {d["id"] for d in deltas} == {answer["id"]}
    assert "".join(d["delta"] for d in deltas) == answer["text"]


@pytest.mark.parametrize("responder_server", [(sample_responders.broken, 10)], indirect=True)
def test_failing_responder_sends_reply_failed_and_server_carries_on(responder_server):
    client, question = ask(responder_server, "will fail")
    kind, failure, _ = answer_to(client, question)
    assert kind == "reply_failed" and failure["error"]["code"] == "internal"
    assert failure["chat_id"] == "general"
    client.join("echo")
    assert client.send("echo", "still alive")["ok"]
    client.close()


@pytest.mark.parametrize("responder_server", [(sample_responders.hangs, 0.5)], indirect=True)
def test_hanging_responder_times_out_as_reply_failed(responder_server):
    client, question = ask(responder_server, "hello?")
    kind, failure, _ = answer_to(client, question)
    client.close()
    assert kind == "reply_failed" and "longer than" in failure["error"]["message"]


@pytest.mark.parametrize("responder_server", [(sample_responders.slow, 10)], indirect=True)
def test_slow_responder_does_not_delay_other_chats(responder_server):
    client, slow_question = ask(responder_server, "take your time")
    client.join("echo")
    echo_question = client.send("echo", "quick")["message"]
    answered = []
    while len(answered) < 2:
        kind, payload = client.events.get(timeout=10)
        if kind == "message" and payload["sender"]["kind"] == "bot":
            answered.append(payload["reply_to"])
    client.close()
    assert answered == [echo_question["id"], slow_question["id"]]


def test_responder_from_the_command_line(server_factory):
    server = server_factory(extra_args=[
        "--responder", "general=tests.server.sample_responders:shout"])
    client, question = ask(server, "from the cli")
    kind, answer, _ = answer_to(client, question)
    client.close()
    assert answer["text"] == "FROM THE CLI"
