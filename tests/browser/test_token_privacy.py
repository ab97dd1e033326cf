"""No token reaches the front end: not in a comm message, not in the page, not in the notebook.

The notebook names no token: alice's widget takes hers from the kernel's
`CHAT_WIDGET_TOKEN`, bob's from the credentials file `chat-widget login`
wrote. Chromium records every websocket frame between the page and the
Jupyter server from before the page loads (so every comm message, both ways);
after a chat through both widgets the test looks for either token in the
frames, in the page's DOM (shadow roots included, where the widget draws),
and in the saved notebook.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright import sync_api

from chat_widget.credentials import CREDENTIALS_VARIABLE
from tests.browser.helpers import REPO, JupyterLab, NotebookPage, server_env
from tests.conftest import RunningServer

pytestmark = pytest.mark.timeout(150)
SECOND = 1000
NOTEBOOK = [
    "import os\n"
    "from chat_widget import ChatWidget\n"
    "alice = ChatWidget(os.environ['CHAT_WIDGET_URL'], chat_id='general')  # CHAT_WIDGET_TOKEN\n"
    "alice",
    "del os.environ['CHAT_WIDGET_TOKEN']\n"
    "bob = ChatWidget(os.environ['CHAT_WIDGET_URL'], chat_id='echo')  # chat-widget login's file\n"
    "bob",
    "bob.send('hello from bob')\n"
    "reply = bob.wait_for_reply(timeout=30)\n"
    "print('widgets ready:', alice.user_id, bob.user_id, reply['text'])",
]

DEEP_HTML_JS = """() => {
  const parts = [];
  const visit = (root) => {
    for (const element of root.querySelectorAll('*')) {
      if (element.shadowRoot) {
        parts.push(element.shadowRoot.innerHTML);
        visit(element.shadowRoot);
      }
      if ('value' in element && typeof element.value === 'string') parts.push(element.value);
    }
  };
  parts.push(document.documentElement.outerHTML);
  visit(document);
  return parts.join('\\n');
}"""


@pytest.fixture(scope="module")
def lab_env(chat_server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """alice's token in the kernel's environment; bob's in a credentials file, by `login`."""
    credentials = tmp_path_factory.mktemp("kernel-credentials") / "credentials.json"
    env = server_env(chat_server, **{CREDENTIALS_VARIABLE: str(credentials)})
    done = subprocess.run(
        [sys.executable, "-m", "chat_widget", "login", chat_server.url],
        input=chat_server.tokens["bob"], capture_output=True, text=True, timeout=60,
        env={**env, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    return env


class Frames:
    """Every websocket frame of a page, both ways, as bytes."""

    def __init__(self, page: Any) -> None:
        self.frames: list[bytes] = []
        page.on("websocket", self._opened)

    def _opened(self, socket: Any) -> None:
        socket.on("framesent", self._frame)
        socket.on("framereceived", self._frame)

    def _frame(self, payload: str | bytes) -> None:
        self.frames.append(payload.encode() if isinstance(payload, str) else payload)

    def containing(self, needle: str) -> list[bytes]:
        return [frame for frame in self.frames if needle.encode() in frame]


@pytest.fixture(scope="module")
def watched(browser: Any, lab: JupyterLab) -> Iterator[tuple[NotebookPage, Frames]]:
    """The notebook in Chromium, its frames recorded from before it loads, all cells run."""
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.set_default_timeout(30 * SECOND)
    frames = Frames(page)
    page.goto(lab.url("lab/tree/test.ipynb"))
    notebook = NotebookPage(page)
    notebook.wait_for_kernel()
    notebook.run_all()
    notebook.wait_for_output("widgets ready: alice bob hello from bob")
    yield notebook, frames
    page.close()


def test_no_token_in_any_frame_the_dom_or_the_saved_notebook(
        watched: tuple[NotebookPage, Frames], chat_server: RunningServer,
        lab: JupyterLab) -> None:
    notebook, frames = watched
    general = notebook.widgets().first
    sync_api.expect(general.locator(".cw-status")).to_have_text("connected")
    box = general.locator(".cw-input")
    box.fill("typed by alice")
    box.press("Enter")
    sync_api.expect(general.locator(".cw-message.cw-own", has_text="typed by alice")).to_have_count(
        1, timeout=20 * SECOND)
    echo = notebook.widgets().nth(1)
    sync_api.expect(echo.locator(".cw-message.cw-bot", has_text="hello from bob")).to_have_count(1)
    notebook.page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")

    # The recording saw the widgets' traffic: comm messages carrying the chat.
    assert frames.containing("comm_msg") and frames.containing("typed by alice")
    assert frames.containing("hello from bob")
    dom = notebook.page.evaluate(DEEP_HTML_JS)
    assert "typed by alice" in dom  # the walk reaches into the widget's shadow root
    with urllib.request.urlopen(lab.url("api/contents/test.ipynb"), timeout=10) as answer:
        saved = json.dumps(json.load(answer))
    assert "widgets ready" in saved

    for user in ("alice", "bob"):
        token = chat_server.tokens[user]
        assert frames.containing(token) == [], f"{user}'s token went over the websocket"
        assert token not in dom, f"{user}'s token is in the page"
        assert token not in saved, f"{user}'s token is in the saved notebook"
