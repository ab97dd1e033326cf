"""`chat-widget demo --lab` opens a working chat in JupyterLab on the embedded server.

The command runs as a user would start it; Chromium opens the URL it prints,
runs the quickstart, and the widgets connect to the server the notebook's
kernel started itself (no server given from outside).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from playwright import sync_api

from chat_widget.embedded import DATA_DIR_VARIABLE
from tests.browser.helpers import free_port, launch_chromium, open_notebook


def test_demo_lab_opens_a_working_chat_in_jupyterlab(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CHAT_WIDGET_") or k == DATA_DIR_VARIABLE}
    log = tmp_path / "lab.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "chat_widget", "demo", "--lab", "--port", str(port)],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, env={**env, "BROWSER": "true"},
        start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        url = None
        while url is None:
            found = re.search(rf"http://127\.0\.0\.1:{port}/lab\S*token=\w+", log.read_text())
            url = found.group(0) if found else None
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        with sync_api.sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            notebook = open_notebook(browser, url, timeout_ms=60_000)
            notebook.run_all()
            notebook.wait_for_output("arrived in echo", timeout=90)
            expect = sync_api.expect
            expect(notebook.widgets()).to_have_count(2)
            expect(notebook.widgets().first.locator(".cw-status")).to_have_text("connected")
            expect(notebook.widgets().first.locator(".cw-message.cw-own .cw-text").first
                   ).to_have_text("Hello from the quickstart notebook!")
            notebook.screenshot("lab-command-quickstart")
            browser.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
