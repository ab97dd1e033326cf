"""JupyterLab's Restart Kernel: after running the cells again the chat's history is there.

A person opens a notebook whose first cell is `chat("alice")` (the embedded
server, inside the kernel), sends a message, restarts the kernel from the
Kernel menu and runs the first cell again. The new widget shows the message sent
before the restart; bob, a real client outside the kernel, first says how
long the server has been gone, then reconnects by himself (the server came
back on the same port) and receives what alice sends next.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from playwright import sync_api

from chat_widget import ChatClient
from chat_widget.embedded import data_dir
from tests.browser.helpers import (
    launch_chromium,
    open_notebook,
    start_jupyterlab,
    write_notebook,
)
from tests.test_embedded import embedded_tokens

CELLS = [
    "from chat_widget.demo import chat\nw = chat('alice')\nprint(w.client.url)\nw",
    "w.send('before the restart');",
]


def wait_until(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_the_chat_is_back_after_jupyterlabs_restart_kernel(tmp_path: Path) -> None:
    root = tmp_path / "notebooks"
    root.mkdir()
    write_notebook(root / "restart.ipynb", CELLS)
    lab = start_jupyterlab(root, dict(os.environ))
    bob: ChatClient | None = None
    try:
        with sync_api.sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            notebook = open_notebook(browser, lab.url("lab/tree/restart.ipynb"), 60_000)
            expect = sync_api.expect
            notebook.run_all()
            stored = notebook.widgets().last.locator(".cw-message .cw-text",
                                                     has_text="before the restart")
            expect(stored).to_have_count(1, timeout=60_000)
            url = notebook.page.locator(".jp-OutputArea-output", has_text="http://127.0.0.1:"
                                        ).first.inner_text().strip()
            bob = ChatClient(url, embedded_tokens(data_dir())["bob"])
            bob.join("general")

            notebook.restart_kernel()
            wait_until(lambda: "still trying" in str(bob.last_error), "bob to say how long")
            assert bob.status == "reconnecting"
            assert f"no answer from the chat server at {url} for " in str(bob.last_error)

            notebook.wait_for_kernel()
            first = notebook.page.locator(".jp-Notebook .jp-CodeCell .cm-content").first
            first.click()  # run the first cell again, as a person would
            notebook.page.keyboard.press("Shift+Enter")
            expect(notebook.widgets()).to_have_count(1, timeout=60_000)
            expect(notebook.widgets().first.locator(".cw-status")).to_have_text(
                "connected", timeout=60_000)
            expect(notebook.widgets().first.locator(
                ".cw-message .cw-text", has_text="before the restart")).to_have_count(1)
            wait_until(lambda: bob.connected, "bob to reconnect")
            notebook.run_new_cell("w.send('after the restart');")
            wait_until(lambda: [m["text"] for m in bob.messages][-1:] == ["after the restart"],
                       "bob to receive the message sent after the restart")
            notebook.screenshot("kernel-restart-history-kept")
            browser.close()
    finally:
        if bob is not None:
            bob.close()
        lab.stop()
