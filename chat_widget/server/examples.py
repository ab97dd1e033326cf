"""Example responders: bots that answer with a computed table, a plot, or a streamed text.

A responder is a function of the user's message (a protocol Message dict) that
returns the answer: a `str`, a dict with `text` and `parts`, or, for a
generator, the text in pieces that the widget shows as they come. Register
one on a chat from the command line,

    chat-widget serve --demo --responder general=chat_widget.server.examples:describe

or from Python:

    demo.start_server(responders={"describe": describe},
                      chat_responders={"general": "describe"})

The server runs each call in a worker thread. `describe` needs pandas and
`plot` matplotlib (imported on first use); `stream_words` needs nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

from ..content import to_parts
from ..protocol import Message

NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
WORD_DELAY = 0.15
"""Seconds between two streamed words: long enough to watch the answer being written."""

_NO_NUMBERS = "Send me some numbers, such as `212 198 205 231`, and I will describe them."


def numbers_in(text: str) -> list[float]:
    """Every number written in `text`, in order (`3`, `-1.5`, `2e3`)."""
    return [float(found) for found in NUMBER.findall(text)]


def describe(message: Message) -> dict[str, Any] | str:
    """The numbers in the message, described as a table (count, mean, std, quartiles)."""
    import pandas as pd

    numbers = numbers_in(message["text"])
    if not numbers:
        return _NO_NUMBERS
    summary = pd.Series(numbers).describe().round(3).to_frame("value").rename_axis("statistic")
    text, parts = to_parts([f"**{len(numbers)} numbers**, mean {summary.loc['mean', 'value']:g}:",
                            summary])
    return {"text": text, "parts": parts}


def plot(message: Message) -> dict[str, Any] | str:
    """The numbers in the message as a line chart: a matplotlib figure sent as a PNG."""
    from matplotlib.figure import Figure  # not pyplot: no GUI backend, safe in a thread

    numbers = numbers_in(message["text"])
    if not numbers:
        return _NO_NUMBERS
    figure = Figure(figsize=(5, 2.5), dpi=100)
    axes = figure.subplots()
    axes.plot(range(1, len(numbers) + 1), numbers, marker="o")
    axes.set_xlabel("position in the message")
    axes.grid(alpha=0.3)
    text, parts = to_parts([f"{len(numbers)} numbers, in the order you wrote them:", figure])
    return {"text": text, "parts": parts}


def analyze(message: Message) -> dict[str, Any] | str:
    """`describe` and `plot` in one answer: the table, then the chart."""
    table, chart = describe(message), plot(message)
    if isinstance(table, str) or isinstance(chart, str):
        return _NO_NUMBERS
    return {"text": table["text"], "parts": table["parts"] + chart["parts"]}


def stream_words(message: Message) -> Iterator[str]:
    """A streamed answer: each word goes out as soon as it is "written" (a generator)."""
    words = re.findall(r"\S+", message["text"])
    longest = max(words, key=len) if words else ""
    answer = (f"You wrote {len(words)} words; the longest is `{longest}`. "
              f"Word by word: {' '.join(words)}")
    for piece in re.findall(r"\S+\s*", answer):
        time.sleep(WORD_DELAY)
        yield piece
