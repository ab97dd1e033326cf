"""The server's JSON writer: the json module's meaning, whatever orjson would do instead."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from socketio import packet

from chat_widget import json_text
from chat_widget.server.packets import JsonPacket

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.text()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30)


@given(JSON_VALUES)
def test_any_json_value_reads_back_as_the_json_module_writes_it(value: Any) -> None:
    assert json.loads(json_text.dumps(value)) == json.loads(json.dumps(value))


@pytest.mark.parametrize("value", [
    2**64, -(2**63) - 1,  # beyond orjson's 64 bits
    {1: "an int key", "b": 2},  # the json module writes the key as "1"
    "\ud800 lone surrogate",
    collections.OrderedDict(a=1),  # a dict subclass
    type("Name", (str,), {})("a str subclass"),
    ["caf\u00e9", 1e16, 0.1],
])
def test_what_orjson_would_spell_otherwise_or_refuse_is_the_json_modules(value: Any) -> None:
    assert json.loads(json_text.dumps(value)) == json.loads(json.dumps(value))


def test_what_the_json_module_refuses_is_still_refused() -> None:
    @dataclasses.dataclass
    class Point:
        x: int

    for value in (Point(1), datetime.datetime(2026, 12, 4), {"a": {1, 2}}):
        with pytest.raises(TypeError):
            json.dumps(value)
        with pytest.raises(TypeError):
            json_text.dumps(value)


def test_text_outside_ascii_goes_as_utf8_and_reads_the_same() -> None:
    text = json_text.dumps({"text": "caf\u00e9 \u2615"})
    assert text == '{"text":"caf\u00e9 \u2615"}'
    assert json.loads(text) == {"text": "caf\u00e9 \u2615"}


def test_nan_is_null_where_the_json_module_writes_what_json_has_no_spelling_for() -> None:
    assert json_text.dumps([math.nan]) == "[null]"
    assert json.dumps([math.nan]) == "[NaN]"


def test_a_packet_reads_back_what_it_wrote() -> None:
    data = ["message", {"chat_id": "general", "text": "caf\u00e9", "seq": 2**70}]
    encoded = JsonPacket(packet.EVENT, data=data, id=7).encode()
    assert encoded.startswith("27[")
    decoded = JsonPacket(encoded_packet=encoded)
    assert decoded.data == data and decoded.id == 7
