"""The quickstart in Jupyter Notebook 7: the same widgets, the same chat, the same behaviour.

Notebook 7 is built from JupyterLab's parts but is its own page (its own
shell, menus and styles), so the view is checked there too: Run All, both
widgets connected, a typed message reaching bob, bob's reply shown, the echo
bot's streamed reply, math and code drawn, the dark theme readable.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright import sync_api

from tests.browser.helpers import NotebookPage, bob_receives

pytestmark = pytest.mark.timeout(120)
SECOND = 1000
SERVER_RESPONDERS = ["echo=tests.browser.helpers:slow_echo"]
NOTEBOOK = "quickstart"
READY_TEXT = "arrived in echo"
JUPYTER_APP = "notebook"
TRIPWIRE = True


def test_the_quickstart_runs_in_notebook_7(notebook: NotebookPage) -> None:
    assert "/notebooks/" in notebook.page.url  # Notebook 7's page, not JupyterLab's
    sync_api.expect(notebook.widgets()).to_have_count(2)
    for index in (0, 1):
        sync_api.expect(notebook.widgets().nth(index).locator(".cw-status")).to_have_text(
            "connected")
    general = notebook.widgets().first
    sync_api.expect(general.locator(".cw-message.cw-own .cw-text").first).to_have_text(
        "Hello from the quickstart notebook!")
    sync_api.expect(general.locator(".cw-older")).to_be_hidden()  # the whole chat is here
    notebook.screenshot("notebook7-01-after-run-all")


def test_typing_sends_and_replies_show(notebook: NotebookPage, bob: Any) -> None:
    general = notebook.widgets().first
    box = general.locator(".cw-input")
    box.fill("Hello from Notebook 7")
    box.press("Enter")
    assert bob_receives(bob, "Hello from Notebook 7")["sender"]["id"] == "alice"
    sync_api.expect(box).to_have_value("")
    bob.send("Math for you: $e^{i\\pi} + 1 = 0$\n\n```python\nprint('hi')\n```")
    theirs = general.locator(".cw-message:not(.cw-own)", has_text="Math for you")
    sync_api.expect(theirs.locator(".cw-math math")).to_have_count(1)
    sync_api.expect(theirs.locator(".cw-code-block .cw-tok-built_in")).to_have_text("print")
    assert theirs.locator("pre").evaluate("p => getComputedStyle(p).whiteSpace") == "pre"
    echo = notebook.widgets().nth(1)
    echo.locator(".cw-input").fill("echo this back")
    echo.locator(".cw-input").press("Enter")
    sync_api.expect(echo.locator(".cw-streaming")).to_be_visible()
    reply = echo.locator(".cw-message.cw-bot:not(.cw-streaming)", has_text="echo this back")
    sync_api.expect(reply).to_have_count(1, timeout=20 * SECOND)
    notebook.screenshot("notebook7-02-chatting")


def test_the_dark_theme_in_notebook_7(notebook: NotebookPage) -> None:
    notebook.set_theme("JupyterLab Dark")
    general = notebook.widgets().first
    background = general.evaluate("r => getComputedStyle(r).backgroundColor")
    page = notebook.page.evaluate(
        "() => getComputedStyle(document.body).getPropertyValue('--jp-layout-color1').trim()")
    assert page and background != "rgb(255, 255, 255)"
    general.screenshot(path=str(notebook.screenshot("notebook7-03-dark").with_name(
        "notebook7-03-dark-widget.png")))
    notebook.set_theme("JupyterLab Light")
