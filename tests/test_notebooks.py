"""Every notebook runs top to bottom in a real kernel, and says what it should.

Each is executed with nbclient in a fresh `python3` ipykernel, from a copy in a
temporary folder (the files in notebooks/ stay as they are), with the
embedded demo server it starts itself. The assertions read the printed
outputs, so a notebook that "runs" but shows the wrong thing fails.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def run_notebook(name: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Execute notebooks/`name` in a copy; returns its code cells with their outputs."""
    # The notebooks' own server, not one someone set for the browser test.
    monkeypatch.delenv("CHAT_WIDGET_URL", raising=False)
    monkeypatch.delenv("CHAT_WIDGET_TOKEN", raising=False)
    copy = folder / name
    shutil.copy(NOTEBOOKS / name, copy)
    notebook = nbformat.read(copy, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for cell in cells:
        errors = [out for out in cell.outputs if out.output_type == "error"]
        assert not errors, f"{name}: {errors[0].ename}: {errors[0].evalue}"
    return cells


def printed(cell: Any) -> str:
    """What a cell printed."""
    return "".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream")


def shows_a_widget(cell: Any) -> bool:
    """Whether a cell's result is a widget view (what a browser would render)."""
    return any("application/vnd.jupyter.widget-view+json" in out.get("data", {})
               for out in cell.outputs)


def test_every_notebook_is_tested() -> None:
    tested = {"quickstart.ipynb", "analysis_results.ipynb", "realtime_lesson.ipynb"}
    assert {path.name for path in NOTEBOOKS.glob("*.ipynb")} == tested


def test_quickstart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cells = run_notebook("quickstart.ipynb", tmp_path, monkeypatch)
    assert shows_a_widget(cells[0]) and shows_a_widget(cells[3])
    state, send, echo, errors, last = (printed(cells[i]) for i in (1, 2, 4, 5, 6))
    assert "status=connected connected=True user=alice chat=general error=''" in state
    assert send.startswith("stored as #")
    assert "reply from echo: 'Is anyone there?'" in echo
    assert "answers our message: True" in echo
    assert echo.rstrip().endswith("awaiting a response: False")
    assert "refused (bad_request): nothing to send" in errors
    assert "the widget says: Nothing to send: the message is empty." in errors
    assert "refused (forbidden)" in errors and "still showing: general" in errors
    assert "error now: ''" in last
    assert "alice: Hello from the quickstart notebook!" in last
    assert "echo: Is anyone there?" in last  # the bot's answer reached on_message


def test_analysis_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cells = run_notebook("analysis_results.ipynb", tmp_path, monkeypatch)
    assert shows_a_widget(cells[0])
    analysis, frame, figure, rich_repr, mixed, _, magic, magic_send, seen = (
        printed(cell) for cell in cells[1:])
    assert "mean 225.0 ms" in analysis and "week over week +16.9%" in analysis
    assert "a table of 2 rows, columns ['week', 'mean', 'max']" in frame
    assert "an image part, image/png" in figure
    assert "markdown part: Latency is **up 16.9%** week over week." in rich_repr
    assert "**Latency report**, 14 days" in mixed
    assert "parts: ['table', 'image', 'markdown', 'markdown']" in mixed
    assert magic.strip() == "Sent to general as message 5."
    assert magic_send.strip() == "Sent to general as message 6."
    lines = seen.splitlines()
    assert lines[:6] == [
        "#1 alice: '' [table]",
        "#2 alice: '' [image]",
        "#3 alice: '' [markdown]",
        "#4 alice: '**Latency report**, 14 days: mean 225.0 ' [table, image, markdown, markdown]",
        "#5 alice: 'Mean and worst latency by week' [table]",
        "#6 alice: '' [markdown]",
    ]
    assert "the first table, as bob has it: ['week', 'mean', 'max'] " \
        "[[1, 207.4, 231], [2, 242.6, 260]]" in seen


def test_realtime_lesson(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cells = run_notebook("realtime_lesson.ipynb", tmp_path, monkeypatch)
    assert shows_a_widget(cells[0])  # alice and bob side by side
    emit, rooms, stopped, restarted, after = (printed(cell) for cell in cells[1:6])
    assert "bob has it too" in emit
    steps = [line.split()[0] for line in emit.splitlines()[1:]]
    assert steps[:3] == ["auth_fetch_start", "auth_fetched", "emit"]
    assert {"ack", "broadcast"} <= set(steps)
    assert "carol got 0 messages" in rooms and "carol may not join general (forbidden)" in rooms
    assert "alice: reconnecting" in stopped and "bob:   reconnecting" in stopped
    assert "alice: connected | bob: connected | error cleared: True" in restarted
    lines = after.splitlines()[1:]
    assert lines == [
        "  #1 alice: Hi Bob! This is an emit; the ack brought it back stored.",
        "  #2 bob: Only the general room hears this.",
        "  #3 bob: Back online? This one went through the restarted server.",
    ]
    # Responders: a table and a plot in general, a streamed answer in echo.
    assert shows_a_widget(cells[6])
    described, streamed = printed(cells[7]), printed(cells[8])
    assert "analyze answered: **8 numbers**, mean 211.5:" in described
    assert "parts: ['table', 'image']" in described
    assert "    max  240" in described and "  count  8" in described
    assert "the plot: image/png" in described
    pieces = int(streamed.split(" pieces arrived")[0])
    assert pieces == 20  # one per word of the answer
    assert "the answer: You wrote 9 words; the longest is `Streaming`." in streamed
    assert "the pieces joined are the answer: True" in streamed
