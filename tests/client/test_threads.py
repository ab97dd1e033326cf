"""The client's threads (client/threads.py): one call at a time, in order, errors contained."""

from __future__ import annotations

import threading

from chat_widget.client.threads import Listeners, SerialExecutor


def test_calls_run_in_submission_order_on_one_thread() -> None:
    executor = SerialExecutor("test-serial")
    ran: list[tuple[int, str]] = []
    for number in range(200):
        executor.submit(lambda n: ran.append((n, threading.current_thread().name)), number)
    executor.drain()
    executor.stop()
    assert [number for number, _ in ran] == list(range(200))
    assert {name for _, name in ran} == {"test-serial"}


def test_a_call_that_raises_does_not_stop_the_ones_after_it() -> None:
    executor = SerialExecutor("test-serial")
    ran: list[str] = []
    executor.submit(lambda: 1 / 0)
    executor.submit(ran.append, "after the error")
    executor.stop()
    assert ran == ["after the error"]


def test_listeners_hear_what_fires_after_they_are_added_until_removed() -> None:
    listeners = Listeners()
    heard: list[tuple[str, object]] = []
    listeners.fire("message", "before")
    remove = listeners.add("message", lambda value: heard.append(("message", value)))
    listeners.add("status", lambda status, error: heard.append(("status", (status, error))))
    listeners.fire("message", "first")
    listeners.fire("status", "connected", None)
    listeners.fire("message", "second")
    listeners.drain()
    remove()
    listeners.fire("message", "after removal")
    listeners.stop()
    assert heard == [("message", "first"), ("status", ("connected", None)),
                     ("message", "second")]
