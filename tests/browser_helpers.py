"""What the browser test needs around it: JupyterLab, headless Chromium, a slow echo bot.

JupyterLab runs as its own process on a free loopback port with a fresh
settings folder (no news, no update checks: nothing leaves the machine);
Chromium is Debian's, driven by Playwright (never `playwright install`).
`slow_echo` is loaded by the test's chat server (`--responder`), so the reply
takes long enough to see the widget wait for it. Only the standard library is
imported at module level, so loading the responder stays cheap.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"


def slow_echo(message: dict[str, Any]) -> Iterator[str]:
    """The echo bot, streamed a word every 0.3 s: a reply that is visibly on its way."""
    for piece in re.findall(r"\S+\s*", message["text"]) or [message["text"]]:
        time.sleep(0.3)
        yield piece


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class JupyterLab:
    """A `jupyter lab` process; `url(path)` opens a page of it, already signed in."""

    base: str
    token: str
    process: subprocess.Popen
    log_path: Path

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}?token={self.token}"

    def stop(self) -> None:
        """End JupyterLab and the kernels it started (its own process group)."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_jupyterlab(root_dir: Path, env: dict[str, str], timeout: float = 60.0) -> JupyterLab:
    """Serve `root_dir` with JupyterLab on loopback; returns once its API answers."""
    state = root_dir.parent / "lab-state"
    notification = state / "settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True, exist_ok=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port, token = free_port(), secrets.token_hex(16)
    args = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
        f"--port={port}", "--ServerApp.ip=127.0.0.1", f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root_dir}", f"--LabApp.user_settings_dir={state / 'settings'}",
        f"--LabApp.workspaces_dir={state / 'workspaces'}", "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log_path = state / "jupyterlab.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   cwd=root_dir, start_new_session=True)
    lab = JupyterLab(f"http://127.0.0.1:{port}", token, process, log_path)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited:\n{lab.log()}")
        try:
            with urllib.request.urlopen(lab.url("api/status"), timeout=2) as answer:
                if answer.status == 200:
                    return lab
        except OSError:
            pass
        if time.monotonic() > deadline:
            lab.stop()
            raise RuntimeError(f"jupyter lab not up in {timeout} s:\n{lab.log()}")
        time.sleep(0.2)


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium, headless, with nothing phoning home."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


class NotebookPage:
    """A notebook open in JupyterLab, with the few actions the test takes."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def wait_for_kernel(self) -> None:
        """Until the kernel is started and idle (a Run All sent earlier can be lost)."""
        self.page.locator(".jp-Notebook .jp-Cell").first.wait_for()
        self.page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first.wait_for()

    def run_all(self) -> None:
        """Run > Run All Cells, clicked as a person would; again if no cell started."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        prompt = re.compile(r"\[[*1]\]")
        started = self.page.locator(".jp-CodeCell .jp-InputPrompt", has_text=prompt)
        for _attempt in range(3):
            self.page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text="Run").first.click()
            self.page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
            try:
                started.first.wait_for(timeout=5000)
                return
            except PlaywrightTimeout:  # the kernel was not listening yet
                continue
        raise AssertionError("Run All started no cell")

    def wait_for_output(self, text: str, timeout: float = 60.0) -> None:
        self.page.locator(".jp-OutputArea-output", has_text=text).first.wait_for(
            timeout=timeout * 1000)

    def run_new_cell(self, code: str) -> None:
        """Add a code cell at the end and run it (returns as soon as it started)."""
        self.page.locator(".jp-Notebook .jp-Cell").last.click()
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("b")
        editor = self.page.locator(".jp-Notebook .jp-Cell.jp-mod-active .cm-content")
        editor.click()
        self.page.keyboard.type(code)
        self.page.keyboard.press("Shift+Enter")

    def widgets(self) -> Any:
        return self.page.locator(".cw-root")

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


# Sends one message from a widget and measures, in the page, Enter -> ✓ stored.
MEASURE_SEND_JS = """
async ([index, text]) => {
  const root = document.querySelectorAll('.cw-root')[index];
  const input = root.querySelector('.cw-input');
  input.value = text;
  input.dispatchEvent(new Event('input'));
  const stored = () => [...root.querySelectorAll('.cw-message[data-state="stored"] .cw-text')]
    .some((node) => node.textContent === text);
  const started = performance.now();
  const done = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (stored()) { observer.disconnect(); resolve(performance.now() - started); }
    });
    observer.observe(root, { subtree: true, childList: true, attributes: true });
  });
  input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  return await done;
}
"""
