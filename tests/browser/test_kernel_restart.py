"""After a kernel restart, the old view says so plainly instead of waiting forever.

Restarting the kernel ends the widget's Python object; the view in the page
learns it from the notebook's kernel connection (the widget manager's
kernel, whose status goes "restarting"). It must then say what to do, not
"the kernel is busy" or "waiting for the kernel…" forever. Running the cell
again gives a working chat.
"""

from __future__ import annotations

import pytest
from playwright import sync_api

from tests.browser.helpers import WIDGET_CELL, NotebookPage, bob_receives

pytestmark = pytest.mark.timeout(120)
SECOND = 1000
NOTEBOOK = [WIDGET_CELL, 'chat = open_chat("general")\nchat', 'print("widgets ready")']
RESTARTED = "The notebook's kernel restarted: run the cell again"


def test_a_restarted_kernel_is_said_so_and_nothing_waits_for_it(notebook: NotebookPage) -> None:
    view = notebook.widgets().first
    sync_api.expect(view.locator(".cw-status")).to_have_text("connected")
    notebook.restart_kernel()
    gone = view.locator(".cw-kernel-gone")
    sync_api.expect(gone).to_be_visible(timeout=20 * SECOND)
    sync_api.expect(gone).to_contain_text(RESTARTED)
    sync_api.expect(view.locator(".cw-status")).to_have_text("no kernel")
    box = view.locator(".cw-input")
    box.fill("typed after the restart")
    box.press("Enter")
    sync_api.expect(view.locator(".cw-hint")).to_contain_text(RESTARTED)
    sync_api.expect(view.locator(".cw-send")).to_be_disabled()
    assert view.locator(".cw-local").count() == 0  # nothing sent, nothing left waiting
    assert box.input_value() == "typed after the restart"  # and nothing lost
    notebook.page.wait_for_timeout(2000)  # past the view's 1.5 s "busy kernel" wait
    sync_api.expect(view.locator(".cw-busy")).to_be_hidden()
    notebook.screenshot("restart-01-kernel-restarted")


def test_running_the_cell_again_gives_a_working_chat(notebook: NotebookPage, bob: object) -> None:
    notebook.wait_for_kernel()
    notebook.run_all()
    notebook.wait_for_output("widgets ready")
    view = notebook.widgets().first
    sync_api.expect(notebook.widgets()).to_have_count(1)
    sync_api.expect(view.locator(".cw-status")).to_have_text("connected", timeout=30 * SECOND)
    sync_api.expect(view.locator(".cw-kernel-gone")).to_be_hidden()
    box = view.locator(".cw-input")
    box.fill("back after the restart")
    box.press("Enter")
    bob_receives(bob, "back after the restart")
    sync_api.expect(view.locator(".cw-message[data-state='stored']",
                                 has_text="back after the restart")).to_have_count(1)
