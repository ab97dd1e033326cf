"""The protocol's validation functions (protocol.py), called as the server calls them."""

from __future__ import annotations

from typing import Any

import pytest

from chat_widget import protocol
from chat_widget.errors import ChatError


def nested(depth: int) -> Any:
    """A list inside a list, `depth` times."""
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def code_of(check: Any, *args: Any) -> str:
    with pytest.raises(ChatError) as caught:
        check(*args)
    return caught.value.code


def test_every_error_code_has_an_http_status() -> None:
    codes = {"unauthorized", "forbidden", "not_found", "not_joined", "bad_request",
             "invalid_auth", "auth_expired", "auth_reused", "too_large", "rate_limited",
             "internal"}
    assert codes == protocol.ERROR_CODES
    assert protocol.ERROR_STATUS["rate_limited"] == 429
    assert protocol.ERROR_STATUS["too_large"] == 413


def test_a_failed_ack_carries_the_error_object() -> None:
    assert protocol.failed_ack("rate_limited", "slow down", retry_after=1.5) == {
        "ok": False, "error": {"code": "rate_limited", "message": "slow down",
                               "retry_after": 1.5}}


@pytest.mark.parametrize("payload", [None, [], "text", 3])
def test_a_payload_must_be_an_object(payload: Any) -> None:
    assert code_of(protocol.require_object, payload) == "bad_request"


@pytest.mark.parametrize("value", [None, "", 5, "a" * 201, "nul\x00", "\ud800"])
def test_ids_are_sane_non_empty_strings(value: Any) -> None:
    assert code_of(protocol.require_text, value, "chat_id") == "bad_request"


def test_a_good_id_passes_as_it_is() -> None:
    assert protocol.require_text("général", "chat_id") == "général"


@pytest.mark.parametrize("value", [True, 1.5, "3", -1, 2**63])
def test_seqs_are_integers_in_range(value: Any) -> None:
    assert code_of(protocol.optional_int, value, "after_seq") == "bad_request"


def test_history_limit_defaults_and_bounds() -> None:
    assert protocol.history_limit(None) == protocol.DEFAULT_HISTORY_LIMIT
    assert protocol.history_limit(protocol.MAX_HISTORY_LIMIT) == protocol.MAX_HISTORY_LIMIT
    assert code_of(protocol.history_limit, 0) == "bad_request"
    assert code_of(protocol.history_limit, protocol.MAX_HISTORY_LIMIT + 1) == "bad_request"


def test_text_may_be_empty_but_not_too_large_or_binary() -> None:
    assert protocol.message_text("") == ""
    assert code_of(protocol.message_text, None) == "bad_request"
    assert code_of(protocol.message_text, "a\x00b") == "bad_request"
    assert code_of(protocol.message_text, "é" * (protocol.MAX_TEXT_BYTES // 2 + 1)) == "too_large"


def test_known_parts_are_checked_and_unknown_ones_kept() -> None:
    parts = [
        {"type": "markdown", "text": "*hi*"},
        {"type": "code", "language": "python", "text": "1 + 1"},
        {"type": "table", "columns": ["a", "b"], "rows": [[1, None], ["x", True]]},
        {"type": "image", "mime": "image/png", "data": "iVBORw0KGgo="},
        {"type": "sparkline", "points": [1, 2, 3]},
    ]
    assert protocol.message_parts(parts) is parts
    assert protocol.message_parts(None) == []


@pytest.mark.parametrize("part", [
    "markdown",
    {"text": "no type"},
    {"type": "markdown", "text": 5},
    {"type": "code", "text": "x", "language": 3},
    {"type": "table", "columns": ["a"], "rows": [[1, 2]]},
    {"type": "table", "columns": ["a"], "rows": [[{"nested": 1}]]},
    {"type": "image", "mime": "text/html", "data": ""},
    {"type": "image", "mime": "image/png", "data": None},
    {"type": "sparkline", "deep": nested(25)},
    {"type": "table", "columns": ["a"], "rows": [[float("nan")]]},
    {"type": "sparkline", "points": [1.0, float("inf")]},
    {"type": "sparkline", "range": {"low": float("-inf")}},
])
def test_bad_parts_are_bad_requests(part: Any) -> None:
    assert code_of(protocol.message_parts, [part]) == "bad_request"


def test_a_received_message_needs_the_fields_a_client_relies_on() -> None:
    message = {"id": "m1", "chat_id": "general", "seq": 1,
               "sender": {"id": "alice", "name": "Alice", "kind": "user"}, "text": "hi",
               "parts": [], "client_id": None, "reply_to": None, "created_at": "now"}
    assert protocol.as_message(message) is message
    for broken in ({**message, "seq": "1"}, {**message, "sender": None},
                   {k: v for k, v in message.items() if k != "id"}, ["not", "a", "dict"]):
        assert protocol.as_message(broken) is None


def _spelled_size(payload: Any) -> int:
    import json

    return len(json.dumps(payload, ensure_ascii=False).encode())


@pytest.mark.parametrize("item", [0, "é", float("-inf")])
def test_the_size_limit_counts_the_json_modules_text_whatever_its_compact_size(
        item: Any) -> None:
    # Items whose compact text (orjson's) is well under 1 MiB while the json module's,
    # with its spaces (and `-Infinity` for orjson's `null`), is over it.
    count = protocol.MAX_MESSAGE_BYTES // (_spelled_size([item, item]) - _spelled_size([item]))
    over = {"chat_id": "general", "parts": [{"type": "x", "items": [item] * count}]}
    assert _spelled_size(over) > protocol.MAX_MESSAGE_BYTES
    assert code_of(protocol.check_message_size, over) == "too_large"
    under = {"chat_id": "general", "parts": [{"type": "x", "items": [item] * (count - 20)}]}
    assert _spelled_size(under) <= protocol.MAX_MESSAGE_BYTES
    protocol.check_message_size(under)


def test_the_size_limit_refuses_far_too_large_and_passes_small_messages() -> None:
    protocol.check_message_size({"chat_id": "general", "text": "hi", "parts": []})
    huge = {"chat_id": "general", "text": "x" * protocol.MAX_MESSAGE_BYTES}
    assert code_of(protocol.check_message_size, huge) == "too_large"
