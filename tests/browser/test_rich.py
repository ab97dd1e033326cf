"""Rich messages in a real browser: tables, images, highlighted code, markdown, streamed replies.

One chat server (its own process) answers two chats with the example
responders: `numbers` with `analyze` (a table and a plot) and `echo` with
`stream_words` (word by word). JupyterLab opens a notebook with alice's
widgets on `general`, `numbers` and `echo`; bob, in the test process, sends
rich content to `general`. Screenshots go to test-artifacts/rich-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pandas as pd
import pytest
from playwright import sync_api

from chat_widget.client import ChatClient
from tests.browser_helpers import (
    AUDIT_JS,
    WIDGET_CELL,
    JupyterLab,
    NotebookPage,
    add_chats,
    launch_chromium,
    open_notebook,
    server_env,
    start_jupyterlab,
    write_notebook,
)
from tests.conftest import RunningServer, start_server

pytestmark = pytest.mark.timeout(120)
SECOND = 1000  # Playwright counts milliseconds
GENERAL, NUMBERS, ECHO = 0, 1, 2  # the widgets, in the notebook's order

# Records, in the page, each text the streamed reply shows in the echo widget.
RECORD_STREAM_JS = """
(root) => {
  window.__stream = [];
  window.__waiting = [];
  const observer = new MutationObserver(() => {
    const body = root.querySelector('.cw-streaming .cw-text');
    const text = body ? body.textContent : null;
    if (text && text !== window.__stream[window.__stream.length - 1]) window.__stream.push(text);
    const waiting = root.querySelector('.cw-waiting');
    if (waiting && !waiting.hidden) window.__waiting.push(waiting.textContent);
  });
  observer.observe(root, { subtree: true, childList: true, characterData: true });
}
"""


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("chat-server")
    db_url = f"sqlite:///{folder / 'chat.db'}"
    add_chats(db_url, ["numbers"])
    running = start_server(folder, db_url=db_url, extra_args=[
        "--responder", "numbers=chat_widget.responders_examples:analyze",
        "--responder", "echo=chat_widget.responders_examples:stream_words",
    ])
    yield running
    running.stop()


@pytest.fixture(scope="module")
def bob(chat_server: RunningServer) -> Iterator[ChatClient]:
    client = ChatClient(chat_server.url, chat_server.tokens["bob"])
    client.connect()
    client.join("general")
    yield client
    client.close()


@pytest.fixture(scope="module")
def lab(chat_server: RunningServer,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    root = tmp_path_factory.mktemp("lab") / "notebooks"
    root.mkdir()
    write_notebook(root / "rich.ipynb", [
        WIDGET_CELL,
        'chat = open_chat("general")\nchat',
        'numbers = open_chat("numbers")\nnumbers',
        'echo = open_chat("echo")\necho',
        'print("widgets ready")',
    ])
    running = start_jupyterlab(root, server_env(chat_server))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def notebook(lab: JupyterLab) -> Iterator[NotebookPage]:
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        notebook = open_notebook(browser, lab.url("lab/tree/rich.ipynb"), tripwire=True)
        page, tripwire = notebook.page, notebook.tripwire
        notebook.run_all()
        notebook.wait_for_output("widgets ready")
        yield notebook
        assert page.evaluate(AUDIT_JS, ".cw-list") == []
        tripwire.assert_quiet()
        browser.close()


def view(notebook: NotebookPage, index: int) -> Any:
    return notebook.widgets().nth(index)


def column(table: Any, index: int) -> list[str]:
    return table.locator(f"tbody tr td:nth-child({index})").all_inner_texts()


def test_a_data_frame_is_a_table_sorted_by_a_click(notebook: NotebookPage,
                                                   bob: ChatClient) -> None:
    frame = pd.DataFrame({"host": ["web-2", "web-10", "db-1", "cache"],
                          "p50 ms": [12.5, None, 3.25, 40.0], "ok": [True, False, True, True]})
    sent = bob.send(["Latency by host:", frame])
    table = view(notebook, GENERAL).locator(f".cw-message[data-id='{sent['id']}'] table.cw-table")
    sync_api.expect(table).to_be_visible()
    assert table.locator("thead th").all_inner_texts() == ["host", "p50 ms", "ok"]
    assert column(table, 1) == ["web-2", "web-10", "db-1", "cache"]
    assert column(table, 2) == ["12.5", "", "3.25", "40"]
    assert table.locator("td.cw-null").count() == 1  # the missing value: an empty, muted cell
    header = table.locator("thead th").nth(1)
    header.click()
    assert column(table, 1) == ["db-1", "web-2", "cache", "web-10"]  # missing values last
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert column(table, 1) == ["cache", "web-2", "db-1", "web-10"]
    assert header.get_attribute("aria-sort") == "descending"
    table.locator("thead th").nth(0).click()
    assert column(table, 1) == ["cache", "db-1", "web-2", "web-10"]  # web-2 before web-10
    table.scroll_into_view_if_needed()
    notebook.screenshot("rich-01-table-sorted")


def test_a_figure_fits_the_message_and_a_click_enlarges_it(notebook: NotebookPage,
                                                           bob: ChatClient) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 3), dpi=100)
    figure.subplots().plot([3, 1, 4, 1, 5, 9, 2, 6], marker="o")
    sent = bob.send(["A wide plot:", figure])
    message = view(notebook, GENERAL).locator(f".cw-message[data-id='{sent['id']}']")
    image = message.locator("img.cw-image")
    sync_api.expect(image).to_be_visible()
    natural, shown = image.evaluate("i => [i.naturalWidth, i.getBoundingClientRect().width]")
    width = message.evaluate("m => m.clientWidth")
    assert natural > width >= shown > 0  # wider than the message: scaled down to fit it
    image.click()
    enlarged = notebook.page.locator(".cw-lightbox img")
    sync_api.expect(enlarged).to_be_visible()
    assert enlarged.evaluate("i => i.getBoundingClientRect().width") > shown
    notebook.screenshot("rich-02-image-enlarged")
    notebook.page.keyboard.press("Escape")
    sync_api.expect(notebook.page.locator(".cw-lightbox")).to_have_count(0)


def test_markdown_and_code_are_rendered_and_highlighted(notebook: NotebookPage,
                                                        bob: ChatClient) -> None:
    text = ("The **fix** is in `load()`, see [the docs](https://example.com/docs).\n\n"
            "- reads the *whole* file\n- closes it\n\n> quoted\n\n"
            "```sql\nSELECT host, avg(ms) FROM hits -- per host\n```")
    code = 'def load(path):\n    return open(path).read()  # the whole file\n'
    sent = bob.send({"text": text, "parts": [
        {"type": "code", "language": "python", "text": code},
        {"type": "chart", "spec": {"kind": "bar"}},
    ]})
    message = view(notebook, GENERAL).locator(f".cw-message[data-id='{sent['id']}']")
    sync_api.expect(message).to_be_visible()
    body = message.locator(".cw-text")
    assert body.locator("strong").inner_text() == "fix"
    assert body.locator("code.cw-md-code").inner_text() == "load()"
    link = body.locator("a")
    assert link.get_attribute("href") == "https://example.com/docs"
    assert link.get_attribute("target") == "_blank"
    assert link.get_attribute("rel") == "noopener noreferrer"
    assert body.locator("li").all_inner_texts() == ["reads the whole file", "closes it"]
    assert body.locator("li em").inner_text() == "whole"
    assert body.locator("blockquote").inner_text() == "quoted"
    assert body.locator("pre .cw-tok-keyword").all_inner_texts()[:2] == ["SELECT", "FROM"]
    part = message.locator("pre.cw-part.cw-code")
    assert part.get_attribute("data-language") == "python"
    assert part.locator(".cw-tok-keyword").all_inner_texts() == ["def", "return"]
    assert part.locator(".cw-tok-comment").inner_text() == "# the whole file"
    assert part.locator("code").text_content() == code  # every character, only coloured
    sync_api.expect(message.locator(".cw-unknown")).to_have_text("[chart]")
    notebook.screenshot("rich-03-markdown-and-code")


def test_a_streamed_reply_shows_piece_by_piece_then_the_final_message(
    notebook: NotebookPage,
) -> None:
    echo = view(notebook, ECHO)
    echo.evaluate(RECORD_STREAM_JS)
    box = echo.locator(".cw-input")
    box.fill("Streaming means the answer shows while it is written")
    box.press("Enter")
    streaming = echo.locator(".cw-streaming")
    sync_api.expect(streaming).to_have_count(1)
    sync_api.expect(echo.locator(".cw-waiting")).to_contain_text("The bot is writing…")
    sync_api.expect(streaming.locator(".cw-state")).to_contain_text("pieces")
    notebook.screenshot("rich-04-streaming")
    final = echo.locator(".cw-message.cw-bot:not(.cw-streaming)", has_text="Word by word")
    sync_api.expect(final).to_have_count(1, timeout=20 * SECOND)
    sync_api.expect(streaming).to_have_count(0)  # the final message replaced the pieces
    sync_api.expect(echo.locator(".cw-waiting")).to_be_hidden()
    shown = echo.evaluate("() => window.__stream")
    final_text = final.locator(".cw-text").text_content()
    assert len(shown) >= 5, shown  # seen growing, piece by piece
    assert all(later.startswith(earlier.rstrip()) for earlier, later in pairwise(shown))
    assert final_text.startswith(shown[-1].rstrip())
    assert final.locator(".cw-text code").inner_text() == "Streaming"  # markdown, at the end
    waiting = echo.evaluate("() => window.__waiting")
    assert any("pieces so far" in line for line in waiting), waiting
    notebook.screenshot("rich-05-streamed-reply")


def test_the_numbers_bot_answers_with_a_table_and_a_plot(notebook: NotebookPage) -> None:
    numbers = view(notebook, NUMBERS)
    box = numbers.locator(".cw-input")
    box.fill("Response times today: 212 198 205 231 220 199 187 240")
    box.press("Enter")
    reply = numbers.locator(".cw-message.cw-bot", has_text="8 numbers")
    sync_api.expect(reply).to_have_count(1, timeout=20 * SECOND)
    table = reply.locator("table.cw-table")
    assert table.locator("thead th").all_inner_texts() == ["statistic", "value"]
    assert column(table, 1) == ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]
    image = reply.locator("img.cw-image")
    sync_api.expect(image).to_be_visible()
    assert image.evaluate("i => i.complete && i.naturalWidth") > 0
    numbers.scroll_into_view_if_needed()
    notebook.screenshot("rich-06-numbers-bot")
