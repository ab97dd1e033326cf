"""The browser tests' fixtures in one place: a chat server, bob, JupyterLab or Notebook 7, Chromium.

A test module says what it needs with module-level names, and these fixtures
(module-scoped: one server, one Jupyter, one page per module) read them:

- `SERVER_CHATS`: chats to create before the server starts (default none);
- `SERVER_RESPONDERS`: `--responder CHAT=module:function` values (default none);
- `NOTEBOOK`: a notebook of `notebooks/` by name (the folder is copied), or a
  list of code cells written to `test.ipynb`;
- `READY_TEXT`: the output Run All must print before the tests start;
- `JUPYTER_APP`: "jupyterlab" (default) or "notebook" (Notebook 7);
- `LAB_ARGS`: more command-line arguments for it (a server extension to load);
- `TRIPWIRE`: record any script a message runs, and audit the message lists
  at the end (default False).

A module can override `lab_env` to give the kernel more variables.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from playwright import sync_api

from chat_widget.client import ChatClient
from tests.browser.helpers import (
    AUDIT_JS,
    REPO,
    JupyterLab,
    NotebookPage,
    add_chats,
    launch_chromium,
    open_notebook,
    server_env,
    start_jupyterlab,
    write_notebook,
)
from tests.conftest import RunningServer, start_server


def _setting(request: pytest.FixtureRequest, name: str, default: Any) -> Any:
    return getattr(request.module, name, default)


@pytest.fixture(scope="module")
def chat_server(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The module's chat server, its own process, with the module's chats and responders."""
    folder = tmp_path_factory.mktemp("chat-server")
    db_url = f"sqlite:///{folder / 'chat.db'}"
    chats = _setting(request, "SERVER_CHATS", [])
    if chats:
        add_chats(db_url, chats)
    extra: list[str] = []
    for responder in _setting(request, "SERVER_RESPONDERS", []):
        extra += ["--responder", responder]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", str(REPO))  # where the server finds the tests' responders
        running = start_server(folder, db_url=db_url, extra_args=extra)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def bob(chat_server: RunningServer) -> Iterator[Any]:
    """bob in the test process, in general: what he receives is recorded and can be awaited."""
    client = ChatClient(chat_server.url, chat_server.tokens["bob"])
    client.connect()
    client.join("general")
    client.received = []  # type: ignore[attr-defined]
    client.arrived = threading.Condition()  # type: ignore[attr-defined]

    def record(message: dict[str, Any]) -> None:
        with client.arrived:
            client.received.append(message)
            client.arrived.notify_all()

    client.on_message(record)
    yield client
    client.close()


@pytest.fixture(scope="module")
def lab_env(chat_server: RunningServer) -> dict[str, str]:
    """The kernel's environment: alice on the module's chat server."""
    return server_env(chat_server)


@pytest.fixture(scope="module")
def lab(request: pytest.FixtureRequest, lab_env: dict[str, str],
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    """JupyterLab (or Notebook 7) serving the module's notebook."""
    root = tmp_path_factory.mktemp("lab") / "notebooks"
    notebook = _setting(request, "NOTEBOOK", "quickstart")
    if isinstance(notebook, str):
        shutil.copytree(REPO / "notebooks", root)
    else:
        root.mkdir()
        write_notebook(root / "test.ipynb", notebook)
    running = start_jupyterlab(root, lab_env, app=_setting(request, "JUPYTER_APP", "jupyterlab"),
                               extra_args=tuple(_setting(request, "LAB_ARGS", ())))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, one per module."""
    with sync_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def notebook(request: pytest.FixtureRequest, browser: Any,
             lab: JupyterLab) -> Iterator[NotebookPage]:
    """The module's notebook open in Chromium, every cell run, READY_TEXT printed."""
    name = _setting(request, "NOTEBOOK", "quickstart")
    file = f"{name}.ipynb" if isinstance(name, str) else "test.ipynb"
    app = _setting(request, "JUPYTER_APP", "jupyterlab")
    path = f"lab/tree/{file}" if app == "jupyterlab" else f"notebooks/{file}"
    tripwire = _setting(request, "TRIPWIRE", False)
    page = open_notebook(browser, lab.url(path), tripwire=tripwire, timeout_ms=30_000)
    page.run_all()
    page.wait_for_output(_setting(request, "READY_TEXT", "widgets ready"))
    yield page
    if tripwire:
        assert page.page.evaluate(AUDIT_JS, ".cw-list") == []
        assert page.tripwire is not None
        page.tripwire.assert_quiet()
    page.page.close()
