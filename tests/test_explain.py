"""The client's sentences about an absent server say how long, in words people read."""

from __future__ import annotations

import pytest

from chat_widget._explain import duration, still_reconnecting


@pytest.mark.parametrize(("seconds", "said"), [
    (0.2, "1 s"), (0.5, "1 s"), (4.0, "4 s"), (59.2, "1 min 0 s"), (125, "2 min 5 s"),
    (3780, "1 h 3 min"),
])
def test_duration_rounds_up_to_whole_seconds(seconds: float, said: str) -> None:
    assert duration(seconds) == said


def test_a_long_outage_names_the_servers_the_time_and_the_next_try() -> None:
    one = still_reconnecting(["http://127.0.0.1:8765"], 125, 5)
    assert one.code == "disconnected"
    assert one.message == ("no answer from the chat server at http://127.0.0.1:8765 for "
                           "2 min 5 s; still trying, next in 5 s")
    several = still_reconnecting(["http://a:1", "http://b:2"], 3, 0.5)
    assert "at any of http://a:1, http://b:2 for 3 s" in several.message
