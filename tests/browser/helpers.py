"""What the browser tests need: JupyterLab, Notebook 7, headless Chromium, a slow echo bot.

JupyterLab, Chromium and the notebook driver live in bench/jupyter.py (the
widget-path benchmark drives them too) and are re-exported here.
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

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from bench.frontend import BUNDLE, STANDALONE_JS
from bench.jupyter import ARTIFACTS as ARTIFACTS
from bench.jupyter import DEEP_QUERY_JS as DEEP_QUERY_JS
from bench.jupyter import KERNEL_IDLE_JS as KERNEL_IDLE_JS
from bench.jupyter import MEASURE_SEND_JS as MEASURE_SEND_JS
from bench.jupyter import REPO as REPO
from bench.jupyter import JupyterLab as JupyterLab
from bench.jupyter import NotebookPage as NotebookPage
from bench.jupyter import launch_chromium as launch_chromium
from bench.jupyter import open_notebook_page
from bench.jupyter import start_jupyterlab as start_jupyterlab
from bench.jupyter import write_notebook as write_notebook
from bench.ports import free_port as free_port

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


WIDGET_CELL = """import os
from chat_widget import ChatWidget

def open_chat(chat_id, url_variable="CHAT_WIDGET_URL", token_variable="CHAT_WIDGET_TOKEN"):
    return ChatWidget(url=os.environ[url_variable], token=os.environ[token_variable],
                      chat_id=chat_id)
"""
"""The first cell of a test notebook: `open_chat(chat_id)` as the user the environment names."""


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


def scroll_list_to_top(widget: Any) -> None:
    """Scroll a view's message list to its top, and return once the view has had the
    scroll event (a frame later): a message arriving before it would still find the
    list following the bottom, neither counted as new below nor left unread."""
    widget.locator(".cw-list").evaluate(
        "l => new Promise(seen => { l.addEventListener('scroll', seen, {once: true});"
        " l.scrollTop = 0; })")


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
    watchers: list[Tripwire] = []

    def watch(page: Any) -> None:
        if tripwire:
            watchers.append(Tripwire(page))

    notebook = open_notebook_page(browser, url, timeout_ms, before_load=watch)
    notebook.tripwire = watchers[0] if watchers else None
    return notebook
