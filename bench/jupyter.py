"""JupyterLab and Chromium for whoever drives a notebook in a browser: the benchmark and the tests.

JupyterLab (or Jupyter Notebook 7) runs as its own process on a free loopback
port with a fresh settings folder (no news, no update checks: nothing leaves
the machine), its application object exposed to the page so that a caller can
switch themes or restart the kernel through JupyterLab's own commands;
Chromium is Debian's, driven by Playwright (never `playwright install`).
`NotebookPage` holds the few actions a person takes on a notebook, and
`MEASURE_SEND_JS` times one message from Enter to "stored" in the page.
Only the standard library is imported at module level.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .frontend import CHROMIUM, CHROMIUM_ARGS
from .ports import free_port

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"


def write_notebook(path: Path, cells: list[str]) -> Path:
    """A notebook of code cells (nbformat 4), unexecuted: the test runs it in JupyterLab."""
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"cell-{index}",
                   "metadata": {}, "outputs": [], "source": source}
                  for index, source in enumerate(cells)],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                    "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1))
    return path


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


def start_jupyterlab(root_dir: Path, env: dict[str, str], timeout: float = 60.0,
                     app: str = "jupyterlab", extra_args: tuple[str, ...] = ()) -> JupyterLab:
    """Serve `root_dir` with JupyterLab (or `app="notebook"`: Notebook 7) on loopback.

    Returns once its API answers. The page gets `window.jupyterapp`. `extra_args`
    go on the command line (a server extension to load, say).
    """
    state = root_dir.parent / "lab-state"
    notification = state / "settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True, exist_ok=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port, token = free_port(), secrets.token_hex(16)
    settings = "LabApp" if app == "jupyterlab" else "JupyterNotebookApp"
    args = [
        sys.executable, "-m", app, "--no-browser", "--allow-root",
        f"--port={port}", "--ServerApp.ip=127.0.0.1", f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root_dir}", f"--{settings}.user_settings_dir={state / 'settings'}",
        f"--{settings}.workspaces_dir={state / 'workspaces'}",
        f"--{settings}.expose_app_in_browser=True",
    ]
    if app == "jupyterlab":
        args += ["--LabApp.news_url=",
                 "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    args += extra_args
    log_path = state / f"{app}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   cwd=root_dir, start_new_session=True)
    lab = JupyterLab(f"http://127.0.0.1:{port}", token, process, log_path)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{app} exited:\n{lab.log()}")
        try:
            with urllib.request.urlopen(lab.url("api/status"), timeout=2) as answer:
                if answer.status == 200:
                    return lab
        except OSError:
            pass
        if time.monotonic() > deadline:
            lab.stop()
            raise RuntimeError(f"{app} not up in {timeout} s:\n{lab.log()}")
        time.sleep(0.2)


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium, headless, with nothing phoning home."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


class NotebookPage:
    """A notebook open in JupyterLab or Notebook 7, with the few actions the test takes."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.tripwire: Any = None  # the tests' Tripwire, when the page is watched

    def wait_for_kernel(self, timeout_ms: int = 60_000) -> None:
        """Until the kernel is started and idle (a Run All sent earlier can be lost)."""
        self.page.locator(".jp-Notebook .jp-Cell").first.wait_for()
        self.page.wait_for_function(KERNEL_IDLE_JS, timeout=timeout_ms)

    def menu(self, menu: str, command: str) -> None:
        """Click a menu of the menu bar, then its item for `command`, as a person would."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
        self.page.locator(f'.lm-Menu-item[data-command="{command}"]').click()

    def run_all(self) -> None:
        """Run > Run All Cells; again if no cell started."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        prompt = re.compile(r"\[[*1]\]")
        started = self.page.locator(".jp-CodeCell .jp-InputPrompt", has_text=prompt)
        for _attempt in range(3):
            self.menu("Run", "runmenu:run-all")
            try:
                started.first.wait_for(timeout=5000)
                return
            except PlaywrightTimeout:  # the kernel was not listening yet
                continue
        raise AssertionError("Run All started no cell")

    def restart_kernel(self) -> None:
        """Kernel > Restart Kernel…, confirmed in JupyterLab's dialog."""
        self.menu("Kernel", "kernelmenu:restart")
        self.page.locator(".jp-Dialog .jp-mod-accept").click()

    def set_theme(self, theme: str) -> None:
        """Switch JupyterLab's theme by its own command; returns once the page shows it."""
        self.page.evaluate("(theme) => window.jupyterapp.commands.execute("
                           "'apputils:change-theme', { theme })", theme)
        self.page.wait_for_function("(theme) => document.body.dataset.jpThemeName === theme",
                                    arg=theme)

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


KERNEL_IDLE_JS = """
() => {
  if (!window.jupyterapp) {  // a JupyterLab that keeps its application to itself
    return [...document.querySelectorAll('.jp-StatusBar-TextItem')]
      .some((item) => item.textContent.includes('| Idle'));
  }
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session
    && panel.sessionContext.session.kernel;
  return Boolean(kernel) && kernel.status === 'idle';
}
"""
"""True once the open notebook's kernel is idle (JupyterLab, with its application exposed or
not, and Notebook 7)."""

# Every element matching a selector, in the page and inside open shadow roots
# (each widget view draws in its own shadow root).
DEEP_QUERY_JS = """
const deepQueryAll = (selector, root = document) => {
  const found = [...root.querySelectorAll(selector)];
  for (const element of root.querySelectorAll('*')) {
    if (element.shadowRoot) found.push(...deepQueryAll(selector, element.shadowRoot));
  }
  return found;
};
"""

# Sends one message from a widget and measures, in the page, Enter -> ✓ stored.
MEASURE_SEND_JS = """
async ([index, text]) => {
""" + DEEP_QUERY_JS + """
  const root = deepQueryAll('.cw-root')[index];
  const input = root.querySelector('.cw-input');
  input.value = text;
  input.dispatchEvent(new Event('input'));
  const stored = () => [...root.querySelectorAll('.cw-message[data-state="stored"] .cw-text')]
    .some((node) => node.textContent === text);
  const started = performance.now();
  window.__sendStartedAt = performance.timeOrigin + started;  // for timestamps of the hops
  const done = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (stored()) { observer.disconnect(); resolve(performance.now() - started); }
    });
    observer.observe(root, { subtree: true, childList: true, attributes: true });
  });
  input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  const late = new Promise((_, reject) => setTimeout(
    () => reject(new Error(`not stored within 15 s: ${text}`)), 15000));
  return await Promise.race([done, late]);
}
"""


def open_notebook_page(browser: Any, url: str, timeout_ms: int = 30_000,
                       before_load: Callable[[Any], Any] | None = None,
                       wait: bool = True) -> NotebookPage:
    """A new page on a notebook in JupyterLab, once its kernel is idle (unless not `wait`).

    `before_load(page)` runs before the page loads (for init scripts and listeners).
    """
    page = browser.new_page(viewport={"width": 1280, "height": 1400},
                            permissions=["clipboard-read", "clipboard-write"])
    page.set_default_timeout(timeout_ms)
    if before_load is not None:
        before_load(page)
    page.goto(url)
    notebook = NotebookPage(page)
    if wait:
        notebook.wait_for_kernel()
    return notebook
