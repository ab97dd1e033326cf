"""What the browser tests need: JupyterLab, Notebook 7, headless Chromium, a slow echo bot.

JupyterLab (or Jupyter Notebook 7) runs as its own process on a free loopback
port with a fresh settings folder (no news, no update checks: nothing leaves
the machine), its application object exposed to the page so that a test can
switch themes or restart the kernel through JupyterLab's own commands;
Chromium is Debian's, driven by Playwright (never `playwright install`).
`slow_echo` is loaded by the test's chat server (`--responder`), so the reply
takes long enough to see the widget wait for it. Only the standard library is
imported at module level, so loading the responder stays cheap.

For the rendering tests: `write_notebook` writes the notebook a test opens,
`Tripwire` notices any script a message manages to run, `AUDIT_JS` lists
markup in the message list that should never be there, and `open_standalone`
renders the widget's view in a blank page with a stand-in model (no kernel),
for checks that need many messages and no server.
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

from bench.frontend import BUNDLE, CHROMIUM, CHROMIUM_ARGS, STANDALONE_JS

REPO = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = REPO / "test-artifacts"
THEMES = ("JupyterLab Light", "JupyterLab Dark", "JupyterLab Dark High Contrast")


def slow_echo(message: dict[str, Any]) -> Iterator[str]:
    """The echo bot, streamed a word every 0.3 s: a reply that is visibly on its way."""
    for piece in re.findall(r"\S+\s*", message["text"]) or [message["text"]]:
        time.sleep(0.3)
        yield piece


def add_chats(db_url: str, chats: list[str], workspace: str = "demo") -> None:
    """Create chats in `workspace` before the server starts (for `--responder CHAT=...`)."""
    base = [sys.executable, "-m", "chat_widget"]
    subprocess.run([*base, "add-workspace", workspace, "--db", db_url], check=True,
                   capture_output=True)
    for chat_id in chats:
        subprocess.run([*base, "add-chat", chat_id, "--workspace", workspace, "--db", db_url],
                       check=True, capture_output=True)


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


WIDGET_CELL = """import os
from chat_widget import ChatWidget

def open_chat(chat_id, url_variable="CHAT_WIDGET_URL", token_variable="CHAT_WIDGET_TOKEN"):
    return ChatWidget(url=os.environ[url_variable], token=os.environ[token_variable],
                      chat_id=chat_id)
"""
"""The first cell of a test notebook: `open_chat(chat_id)` as the user the environment names."""


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


def start_jupyterlab(root_dir: Path, env: dict[str, str], timeout: float = 60.0,
                     app: str = "jupyterlab") -> JupyterLab:
    """Serve `root_dir` with JupyterLab (or `app="notebook"`: Notebook 7) on loopback.

    Returns once its API answers. The page gets `window.jupyterapp`.
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
        self.tripwire: Tripwire | None = None

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


# -- noticing what should never happen -----------------------------------------

TRIPWIRE_INIT = """
window.__hits = [];
window.__pwned = (n) => {
  console.log(`PWNED ${n}`);
  try { window.top.__hits.push(n); } catch (error) { window.__hits.push(n); }
};
"""
"""Defined in every frame before any page script: a payload that runs calls `__pwned(N)`."""


class Tripwire:
    """Records, on a Playwright page, every sign that a message ran script.

    `__pwned(N)` calls (from any frame, through the console too), dialogs
    (alert, confirm, prompt; dismissed at once) and a document title that a
    payload set. `assert_quiet()` fails with all of them.
    """

    def __init__(self, page: Any) -> None:
        self.page = page
        self.tripwire: Tripwire | None = None
        self.console: list[str] = []
        self.dialogs: list[str] = []
        page.add_init_script(TRIPWIRE_INIT)
        page.on("console", self._console)
        page.on("dialog", self._dialog)

    def _console(self, message: Any) -> None:
        if "PWNED" in message.text:
            self.console.append(message.text)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def hits(self) -> list[Any]:
        return self.page.evaluate("() => window.__hits || []")

    def assert_quiet(self) -> None:
        armed = self.page.evaluate("() => typeof window.__pwned === 'function'")
        assert armed, "the tripwire is not in the page (added after it loaded?)"
        problems = {"__pwned calls": self.hits(), "console": self.console,
                    "dialogs": self.dialogs}
        title = self.page.title()
        if "pwned" in title.lower():
            problems["title"] = [title]
        assert not any(problems.values()), f"a payload ran: {problems}"


# Lists, for every element matching the selector (in the page or in a view's
# shadow root), the markup inside it that a message must never produce:
# active elements, event handlers, links that are not http(s)/mailto or open
# in the same tab, images that are not inline data, MathML outside a formula.
AUDIT_JS = """
(selector) => {
""" + DEEP_QUERY_JS + """
  const forbidden = new Set(['script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'style',
    'link', 'meta', 'base', 'form', 'input', 'svg', 'video', 'audio', 'source', 'details',
    'marquee', 'template', 'noscript', 'applet', 'portal', 'slot']);
  const mathml = 'http://www.w3.org/1998/Math/MathML';
  const image = /^data:image\\/(png|jpeg|svg\\+xml);base64,[A-Za-z0-9+/]*={0,2}$/;
  const problems = [];
  for (const root of deepQueryAll(selector)) {
    for (const node of root.querySelectorAll('*')) {
      const tag = node.tagName.toLowerCase();
      if (forbidden.has(tag)) problems.push(`<${tag}> element`);
      if (node.namespaceURI === mathml && !node.closest('.cw-math')) {
        problems.push(`<${tag}> outside a formula`);
      }
      for (const attribute of node.attributes) {
        const name = attribute.name.toLowerCase();
        if (name.startsWith('on')) problems.push(`<${tag} ${name}>`);
        if (['srcdoc', 'formaction', 'xlink:href', 'action', 'background'].includes(name)) {
          problems.push(`<${tag} ${name}>`);
        }
        if (name === 'href' && tag !== 'a') problems.push(`<${tag} href>`);
        if (name === 'style' && /url|expression|javascript|@import/i.test(attribute.value)) {
          problems.push(`<${tag} style="${attribute.value}">`);
        }
      }
      if (tag === 'a') {
        const href = node.getAttribute('href') || '';
        if (!/^(https?:\\/\\/|mailto:)/i.test(href)) problems.push(`<a href="${href}">`);
        const rel = node.rel.split(/\\s+/);
        if (node.target !== '_blank' || !rel.includes('noopener') || !rel.includes('noreferrer')) {
          problems.push(`<a href="${href}"> without target=_blank rel="noopener noreferrer"`);
        }
      }
      if (tag === 'img' && !image.test(node.getAttribute('src') || '')) {
        problems.push(`<img src="${(node.getAttribute('src') || '').slice(0, 60)}">`);
      }
    }
  }
  return problems;
}
"""


# The contrast between an element's text colour and the background it sits on
# (WCAG's formula), from computed styles: rgb(), rgba() and color(srgb …).
CONTRAST_JS = """
([text, background]) => {
  const parse = (value) => {
    const srgb = /color\\(srgb ([\\d.e-]+) ([\\d.e-]+) ([\\d.e-]+)/.exec(value);
    if (srgb) return srgb.slice(1, 4).map(Number);
    const rgb = /rgba?\\(([\\d.]+),? ([\\d.]+),? ([\\d.]+)/.exec(value);
    if (rgb) return rgb.slice(1, 4).map((c) => Number(c) / 255);
    throw new Error(`colour ${value}`);
  };
  const luminance = (value) => {
    const linear = (c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    const [r, g, b] = parse(value).map(linear);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [a, b] = [luminance(getComputedStyle(text).color),
                  luminance(getComputedStyle(background).backgroundColor)];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}
"""


def contrast(text: Any, background: Any) -> float:
    return text.evaluate("(node, background) => (" + CONTRAST_JS + ")([node, background])",
                         background.element_handle())


# -- the view without JupyterLab ---------------------------------------------------


def open_standalone(page: Any, user: str = "alice") -> None:
    """Render the widget's view in `page` with a stand-in model; `push_message` feeds it."""
    page.goto("data:text/html,<!doctype html><title>view</title>")  # init scripts run here
    page.evaluate(STANDALONE_JS, [BUNDLE.read_text(), "", user])


def push_message(page: Any, seq: int, text: str, parts: list[dict[str, Any]] | None = None,
                 sender: str = "bob") -> str:
    """Show a stored message in a standalone view, as the kernel would push it; returns its id."""
    message_id = f"standalone-{seq}"
    page.evaluate("(content) => window.__push(content)", {"type": "message", "message": {
        "id": message_id, "chat_id": "general", "seq": seq,
        "sender": {"id": sender, "name": sender, "kind": "user"}, "text": text,
        "parts": parts or [], "client_id": None, "reply_to": None,
        "created_at": "2026-01-01T12:00:00Z"}})
    return message_id


def bob_receives(bob: Any, text: str, timeout: float = 15.0) -> dict[str, Any]:
    """The message with `text` once bob (the conftest's recording client) has it."""
    def find() -> list[dict[str, Any]]:
        return [m for m in bob.received if m["text"] == text]

    with bob.arrived:
        assert bob.arrived.wait_for(find, timeout), f"bob never got {text!r}"
        return find()[0]


def server_env(server: Any, user: str = "alice", **extra: str) -> dict[str, str]:
    """The environment a notebook kernel reads to reach `server` as `user`."""
    return {**os.environ, "CHAT_WIDGET_URL": server.url,
            "CHAT_WIDGET_TOKEN": server.tokens[user], **extra}


def open_notebook(browser: Any, url: str, timeout_ms: int = 30_000,
                  tripwire: bool = False) -> NotebookPage:
    """A new page on a notebook in JupyterLab, once its kernel is idle.

    With `tripwire`, `notebook.tripwire` records any script a message runs
    (set up before the page loads, as it must be).
    """
    page = browser.new_page(viewport={"width": 1280, "height": 1400},
                            permissions=["clipboard-read", "clipboard-write"])
    page.set_default_timeout(timeout_ms)
    watcher = Tripwire(page) if tripwire else None
    page.goto(url)
    notebook = NotebookPage(page)
    notebook.tripwire = watcher
    notebook.wait_for_kernel()
    return notebook
