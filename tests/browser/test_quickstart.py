"""The widget in a real browser: JupyterLab, headless Chromium, the quickstart notebook.

A chat server runs as its own process (its echo chat answered by a slow,
streaming echo); JupyterLab serves a copy of notebooks/ with CHAT_WIDGET_URL
and CHAT_WIDGET_TOKEN set, so the quickstart's widgets connect to it as alice.
The test process is bob, with a ChatClient on the same server. The tests run
in order on one page: Run All, then type into the widgets and watch both
sides. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
import statistics
from typing import Any

import pytest
from playwright import sync_api

from tests.browser.helpers import MEASURE_SEND_JS, NotebookPage, bob_receives

pytestmark = pytest.mark.timeout(120)
SECOND = 1000  # Playwright counts milliseconds
SERVER_RESPONDERS = ["echo=tests.browser.helpers:slow_echo"]
NOTEBOOK = "quickstart"
READY_TEXT = "arrived in echo"


def widget(notebook: NotebookPage, index: int) -> Any:
    return notebook.widgets().nth(index)


def test_run_all_shows_the_widgets_connected(notebook: NotebookPage) -> None:
    expect = sync_api.expect
    expect(notebook.widgets()).to_have_count(2)
    for index in (0, 1):
        expect(widget(notebook, index).locator(".cw-status")).to_have_text("connected")
    general = widget(notebook, 0)
    expect(general.locator(".cw-message.cw-own .cw-text").first).to_have_text(
        "Hello from the quickstart notebook!")
    notebook.screenshot("01-after-run-all")


def test_a_typed_message_reaches_another_client(notebook: NotebookPage, bob: Any) -> None:
    general = widget(notebook, 0)
    box = general.locator(".cw-input")
    box.fill("Hello Bob, typed in the browser")
    box.press("Enter")
    received = bob_receives(bob, "Hello Bob, typed in the browser")
    assert received["sender"]["id"] == "alice"
    stored = general.locator(".cw-message[data-state='stored']",
                             has_text="Hello Bob, typed in the browser")
    sync_api.expect(stored).to_have_count(1)
    sync_api.expect(box).to_have_value("")  # stored, so the box is cleared


def test_another_clients_message_shows_in_the_widget(notebook: NotebookPage, bob: Any) -> None:
    bob.send("Hi Alice, from a second client <b>not bold</b>")
    general = widget(notebook, 0)
    theirs = general.locator(".cw-message:not(.cw-own)", has_text="from a second client")
    sync_api.expect(theirs.locator(".cw-sender")).to_have_text("bob")
    sync_api.expect(theirs.locator(".cw-text")).to_have_text(
        "Hi Alice, from a second client <b>not bold</b>")  # shown as text, not markup
    assert theirs.locator("b").count() == 0
    notebook.screenshot("02-bob-answered")


def test_the_send_button_waits_for_the_echo_reply(notebook: NotebookPage) -> None:
    echo = widget(notebook, 1)
    box, button = echo.locator(".cw-input"), echo.locator(".cw-send")
    text = "Echo bot, stream this back word by word please"
    box.fill(text)
    sync_api.expect(button).to_be_enabled()
    box.press("Enter")
    sync_api.expect(button).to_be_disabled()
    sync_api.expect(echo.locator(".cw-waiting")).to_be_visible()
    sync_api.expect(echo.locator(".cw-streaming")).to_be_visible()  # pieces as they come
    notebook.screenshot("03-waiting-for-the-echo")
    reply = echo.locator(".cw-message.cw-bot:not(.cw-streaming)", has_text="word by word")
    sync_api.expect(reply.locator(".cw-text")).to_have_text(text, timeout=20 * SECOND)
    sync_api.expect(reply.locator(".cw-quote")).to_contain_text("you: Echo bot")
    sync_api.expect(echo.locator(".cw-streaming")).to_have_count(0)
    sync_api.expect(echo.locator(".cw-waiting")).to_be_hidden()
    box.fill("next one")
    sync_api.expect(button).to_be_enabled()
    box.fill("")


def test_how_it_was_sent_shows_each_step_in_words(notebook: NotebookPage) -> None:
    general = widget(notebook, 0)
    toggle = general.locator(".cw-how-sent-toggle")
    sync_api.expect(toggle).to_have_text("How it was sent")
    toggle.click()
    row = general.locator(".cw-timeline-row", has_text="typed in the browser")
    for kind in ("auth_fetch_start", "auth_fetched", "emit", "ack", "broadcast"):
        sync_api.expect(row.locator(f".cw-step[data-kind='{kind}']")).to_have_count(1)
    sync_api.expect(row).to_contain_text("asked the chat server for a one-time permission")
    sync_api.expect(row).to_contain_text("it reached everyone in the chat")
    panel = general.locator(".cw-timeline").inner_text()
    assert not re.search(r"\b(py|js|req)-[0-9a-z]{6,}", panel), panel  # no internal ids
    notebook.screenshot("04-how-it-was-sent")
    toggle.click()


def test_a_busy_kernel_is_said_so_and_the_message_goes_later(
    notebook: NotebookPage, bob: Any
) -> None:
    # Pure C work holds the GIL for seconds: no kernel thread (subshells included,
    # where JupyterLab 4.6 sends widget messages) can take the widget's request.
    notebook.run_new_cell("sum(range(400_000_000))")
    notebook.page.locator(".jp-CodeCell .jp-InputPrompt", has_text="[*]").last.wait_for()
    notebook.page.wait_for_timeout(1000)  # the kernel is past the cell's start, in the C loop
    general = widget(notebook, 0)
    box = general.locator(".cw-input")
    box.fill("Sent while a cell runs")
    box.press("Enter")
    sync_api.expect(general.locator(".cw-busy")).to_be_visible(timeout=5 * SECOND)
    sync_api.expect(general.locator(".cw-local[data-state='queued']")).to_have_count(1)
    sync_api.expect(box).to_have_value("Sent while a cell runs")
    notebook.screenshot("05-kernel-busy")
    bob_receives(bob, "Sent while a cell runs", timeout=40)
    stored = general.locator(".cw-message[data-state='stored']", has_text="Sent while a cell runs")
    sync_api.expect(stored).to_have_count(1, timeout=10 * SECOND)
    sync_api.expect(general.locator(".cw-busy")).to_be_hidden()
    sync_api.expect(box).to_have_value("")


def test_two_views_of_one_widget_stay_in_step(notebook: NotebookPage, bob: Any) -> None:
    notebook.run_new_cell("chat")  # the general widget again: a second view of it
    sync_api.expect(notebook.widgets()).to_have_count(3)
    first, second = widget(notebook, 0), widget(notebook, 2)
    earlier = second.locator(".cw-message", has_text="Hello Bob, typed in the browser")
    sync_api.expect(earlier).to_have_count(1)  # the new view starts from the latest page
    box = second.locator(".cw-input")
    box.fill("Typed in the second view")
    box.press("Enter")
    bob.send("Seen in both views")
    for view in (first, second):
        mine = view.locator(".cw-message[data-state='stored']", has_text="Typed in the second view")
        sync_api.expect(mine).to_have_count(1)
        sync_api.expect(view.locator(".cw-message", has_text="Seen in both views")).to_have_count(1)
    notebook.screenshot("06-two-views")


def test_send_round_trip(notebook: NotebookPage) -> None:
    """Enter in the page to ✓ stored in the page, through kernel and server; p50 reported."""
    timings = [notebook.page.evaluate(MEASURE_SEND_JS, [0, f"round trip {n}"]) for n in range(15)]
    p50 = statistics.median(timings)
    # A figure to report, not a speed assertion: each send must end stored, that's all.
    print(f"\nwidget send round trip: p50 {p50:.1f} ms, max {max(timings):.1f} ms")
    assert len(timings) == 15 and all(timing > 0 for timing in timings)


def test_scrolling_up_loads_older_messages(notebook: NotebookPage, bob: Any) -> None:
    for number in range(60):
        bob.send(f"filler {number:02d}")
    notebook.run_new_cell("chat")  # a fresh view: it starts from the latest page only
    sync_api.expect(notebook.widgets()).to_have_count(4)
    view = widget(notebook, 3)
    stored = view.locator(".cw-items .cw-message")
    sync_api.expect(stored).to_have_count(50)
    sync_api.expect(view.locator(".cw-older")).to_be_visible()
    first = view.locator(".cw-items .cw-message", has_text="Hello from the quickstart notebook!")
    sync_api.expect(first).to_have_count(0)
    view.locator(".cw-list").hover()
    notebook.page.mouse.wheel(0, -20_000)
    sync_api.expect(first).to_have_count(1)  # the chat's very first message, loaded on demand
    sync_api.expect(view.locator(".cw-older")).to_be_hidden()  # nothing older is left
    assert stored.count() > 50
    notebook.screenshot("07-older-loaded")
