"""Rich messages in a real browser: tables, images, highlighted code, markdown, streamed replies.

One chat server (its own process) answers two chats with the example
responders: `numbers` with `analyze` (a table and a plot) and `echo` with
`stream_words` (word by word). JupyterLab opens a notebook with alice's
widgets on `general`, `numbers` and `echo`; bob, in the test process, sends
rich content to `general`. Screenshots go to test-artifacts/rich-*.png.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

import pandas as pd
import pytest
from playwright import sync_api

from tests.browser.helpers import (
    THEMES,
    WIDGET_CELL,
    NotebookPage,
    contrast,
    scroll_list_to_top,
)

pytestmark = pytest.mark.timeout(120)
SECOND = 1000  # Playwright counts milliseconds
GENERAL, NUMBERS, ECHO, QUIET = 0, 1, 2, 3  # the widgets, in the notebook's order
SERVER_CHATS = ["numbers", "quiet"]
SERVER_RESPONDERS = ["numbers=chat_widget.responders_examples:analyze",
                     "echo=chat_widget.responders_examples:stream_words"]
NOTEBOOK = [
    WIDGET_CELL,
    'chat = open_chat("general")\nchat',
    'numbers = open_chat("numbers")\nnumbers',
    'echo = open_chat("echo")\necho',
    'quiet = open_chat("quiet")\nquiet',
    'print("widgets ready")',
]
TRIPWIRE = True

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


def view(notebook: NotebookPage, index: int) -> Any:
    return notebook.widgets().nth(index)


def column(table: Any, index: int) -> list[str]:
    return table.locator(f"tbody tr td:nth-child({index})").all_inner_texts()


def test_a_data_frame_is_a_table_sorted_by_a_click(notebook: NotebookPage,
                                                   bob: Any) -> None:
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
                                                           bob: Any) -> None:
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
                                                        bob: Any) -> None:
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
    part = message.locator(".cw-code-block.cw-part")
    assert part.get_attribute("data-language") == "python"
    assert part.locator(".cw-tok-keyword").all_inner_texts() == ["def", "return"]
    assert part.locator(".cw-tok-comment").inner_text() == "# the whole file"
    assert part.locator("code").text_content() == code  # every character, only coloured
    sync_api.expect(message.locator(".cw-unknown")).to_have_text("[chart]")
    # JupyterLab's `.jp-OutputArea-output pre { white-space: pre-wrap }` and its
    # link reset do not reach into the view: code does not wrap, links look like links.
    assert part.locator("pre").evaluate("p => getComputedStyle(p).whiteSpace") == "pre"
    link_style = link.evaluate("a => [getComputedStyle(a).textDecorationLine, "
                               "getComputedStyle(a).color, getComputedStyle(a.parentNode).color]")
    assert link_style[0] == "underline" and link_style[1] != link_style[2], link_style
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


def test_math_renders_as_mathml_and_a_broken_formula_shows_its_source(
    notebook: NotebookPage, bob: Any
) -> None:
    sent = bob.send("Area: $\\int_0^1 x^2\\,dx$, and\n\n$$\\sum_{k=1}^n k = \\frac{n(n+1)}{2}$$\n\n"
                    "broken: $\\frac{1}{$")
    message = view(notebook, GENERAL).locator(f".cw-message[data-id='{sent['id']}']")
    formulas = message.locator(".cw-math:not(.cw-math-failed)")
    sync_api.expect(formulas).to_have_count(2)
    for index in range(2):
        box = formulas.nth(index).locator("math").bounding_box()
        assert box and box["width"] > 20 and box["height"] > 10  # drawn by the browser's MathML
    assert formulas.nth(0).locator("annotation").text_content() == "\\int_0^1 x^2\\,dx"
    assert formulas.nth(1).locator("mfrac").count() == 1
    assert message.locator(".cw-math-failed").inner_text() == "$\\frac{1}{$"
    message.scroll_into_view_if_needed()
    notebook.screenshot("rich-07-math")


def test_a_code_blocks_copy_button_copies_the_code(notebook: NotebookPage, bob: Any) -> None:
    code = "for host in hosts:\n    print(host, latency[host])  # one line each"
    sent = bob.send(f"Try this:\n\n```python\n{code}\n```")
    block = view(notebook, GENERAL).locator(f".cw-message[data-id='{sent['id']}'] .cw-code-block")
    copy = block.locator("button.cw-copy")
    copy.click()
    sync_api.expect(copy).to_have_text("Copied")
    assert notebook.page.evaluate("() => navigator.clipboard.readText()") == code + "\n"
    # This JupyterLab gives the page its application (--expose-app-in-browser),
    # so the code can also go into a new cell.
    cells = notebook.page.locator(".jp-Notebook .jp-Cell")
    before = cells.count()
    block.locator("button.cw-insert").click()
    sync_api.expect(cells).to_have_count(before + 1)
    inserted = notebook.page.locator(".jp-Notebook .jp-Cell .cm-content",
                                     has_text="for host in hosts")
    sync_api.expect(inserted).to_have_count(1)
    assert inserted.inner_text() == code


def test_a_short_message_gets_a_short_bubble_with_a_dated_time(
    notebook: NotebookPage, bob: Any
) -> None:
    sent = bob.send("ok")
    general = view(notebook, GENERAL)
    bubble = general.locator(f".cw-message[data-id='{sent['id']}']")
    width = bubble.evaluate("b => b.getBoundingClientRect().width")
    list_width = general.locator(".cw-list").evaluate("l => l.clientWidth")
    assert width < 0.4 * list_width, (width, list_width)
    time = bubble.locator("time.cw-time")
    assert time.get_attribute("datetime") == sent["created_at"]
    assert str(sent["created_at"])[:4] in (time.get_attribute("title") or "")  # the full date


def test_an_empty_chat_says_so(notebook: NotebookPage) -> None:
    quiet = view(notebook, QUIET)
    sync_api.expect(quiet.locator(".cw-empty")).to_have_text(
        "No messages in quiet yet: write the first one below.")
    quiet.scroll_into_view_if_needed()
    notebook.screenshot("rich-08-empty-chat")


def test_new_messages_below_are_announced_while_scrolled_up(
    notebook: NotebookPage, bob: Any
) -> None:
    general = view(notebook, GENERAL)
    # Earlier tests clicked buttons in this list, and a click scrolls its target into
    # view: the reader's place is wherever that left it. Back to the bottom first.
    general.locator(".cw-list").evaluate("l => { l.scrollTop = l.scrollHeight; }")
    sync_api.expect(general.locator(".cw-new-below")).to_be_hidden()
    for number in range(12):
        bob.send(f"filler {number}")
    fillers = general.locator(".cw-message", has_text=re.compile(r"^bob.*filler \d+$"))
    sync_api.expect(fillers).to_have_count(12)  # all of them, whatever order they came in
    scroll_list_to_top(general)
    indicator = general.locator(".cw-new-below")
    sync_api.expect(indicator).to_be_hidden()
    bob.send("news while you read")
    bob.send("more news")
    sync_api.expect(indicator).to_have_text("↓ 2 new messages")
    general.scroll_into_view_if_needed()
    notebook.screenshot("rich-09-new-messages-below")
    indicator.click()
    sync_api.expect(indicator).to_be_hidden()
    sync_api.expect(general.locator(".cw-message", has_text="more news")).to_be_in_viewport()


def test_the_views_styles_stay_inside_it(notebook: NotebookPage) -> None:
    leaked = notebook.page.evaluate("""() => [...document.styleSheets].some((sheet) => {
        try { return [...sheet.cssRules].some((rule) => rule.cssText.includes('.cw-')); }
        catch (error) { return false; }
    })""")
    assert not leaked  # the stylesheet lives in each view's shadow root, not in the page
    output = notebook.page.locator(".jp-OutputArea-output pre", has_text="widgets ready")
    assert output.evaluate("p => getComputedStyle(p).whiteSpace") == "pre-wrap"  # the page's own


@pytest.mark.parametrize("theme", THEMES)
def test_each_theme_keeps_the_chat_readable(notebook: NotebookPage, theme: str) -> None:
    notebook.set_theme(theme)
    general, numbers = view(notebook, GENERAL), view(notebook, NUMBERS)
    own = numbers.locator(".cw-message.cw-own").last
    other = general.locator(".cw-message:not(.cw-own)").last
    bot = numbers.locator(".cw-message.cw-bot").last
    for bubble in (own, other, bot):
        text = bubble.locator(".cw-text").first
        assert contrast(text, bubble) >= 4.5, (theme, bubble.get_attribute("class"))
    root_bg = general.evaluate("r => getComputedStyle(r).backgroundColor")
    page_bg = notebook.page.evaluate(
        "() => getComputedStyle(document.body).getPropertyValue('--jp-layout-color1').trim()")
    assert page_bg, "the theme's variables are there"
    assert root_bg != "rgba(0, 0, 0, 0)"
    numbers.scroll_into_view_if_needed()
    slug = theme.lower().replace("jupyterlab ", "").replace(" ", "-")
    numbers.screenshot(path=str(notebook.screenshot(f"rich-theme-{slug}").with_name(
        f"rich-theme-{slug}-widget.png")))
    if theme == THEMES[-1]:
        notebook.set_theme(THEMES[0])
