"""The magics (magic.py): `%%chat` and `%chat_send` send a cell's result or a value.

They run in an IPython shell in this process and in a real ipykernel
(through nbclient); Bob, a second ChatClient in the chat, checks what arrived.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from nbclient import NotebookClient
from traitlets.config import Config

from chat_widget import active, magic
from chat_widget.client import ChatClient
from chat_widget.errors import ChatError
from tests.client.common import Recorder, client_for, image_bytes, latest, pixels


def sent_seq(capsys: pytest.CaptureFixture[str]) -> int:
    """The seq the magic said it stored the message as (it prints one line)."""
    found = re.findall(r"^Sent to general as message (\d+)\.$", capsys.readouterr().out, re.M)
    assert len(found) == 1, found
    return int(found[0])


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """No chat remembered or chosen, whatever earlier tests created."""
    monkeypatch.setattr(active, "_created", [])
    monkeypatch.setattr(active, "_chosen", None)


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry: None
          ) -> Iterator[InteractiveShell]:
    """This process's IPython shell, with the magics loaded and no chat chosen."""
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    config = Config()
    config.HistoryManager.enabled = False
    ipython = InteractiveShell.instance(config=config)
    assert ipython.run_cell("%load_ext chat_widget.magic").success
    yield ipython
    for name in ("frame", "numbers"):
        ipython.user_ns.pop(name, None)


def test_the_chat_cell_magic_sends_the_cells_result(
    shell: InteractiveShell, alice_and_bob, capsys: pytest.CaptureFixture[str]
) -> None:
    alice, bob = alice_and_bob
    magic.use(alice)
    result = shell.run_cell(
        "%%chat Latency by host\n"
        "import pandas as pd\n"
        "frame = pd.DataFrame({'host': ['a', 'b'], 'p95_ms': [210.5, 198.0]})\n"
        "frame.set_index('host')\n"
    )
    assert result.success, result.error_in_exec
    seq = sent_seq(capsys)
    message = latest(bob, lambda m: m["seq"] == seq)
    assert message["text"] == "Latency by host"
    assert message["parts"] == [{"type": "table", "columns": ["host", "p95_ms"],
                                 "rows": [["a", 210.5], ["b", 198.0]]}]


def test_the_chat_send_line_magic_sends_a_variable_to_the_chat_in_use(
    shell: InteractiveShell, alice_and_bob, capsys: pytest.CaptureFixture[str]
) -> None:
    alice, bob = alice_and_bob
    magic.use(alice)
    shell.user_ns["numbers"] = pd.Series([3, 1], name="n")
    assert shell.run_cell("%chat_send numbers").success
    seq = sent_seq(capsys)
    message = latest(bob, lambda m: m["seq"] == seq)
    assert message["parts"] == [{"type": "table", "columns": ["n"], "rows": [[3], [1]]}]


def test_a_cell_that_fails_or_has_no_result_sends_nothing(
    shell: InteractiveShell, alice_and_bob
) -> None:
    alice, bob = alice_and_bob
    magic.use(alice)
    last_seq = alice.send("before")["seq"]
    failed = shell.run_cell("%%chat\n1 / 0\n")
    assert not failed.success and "nothing was sent" in str(failed.error_in_exec)
    empty = shell.run_cell("%%chat\nx = 1\n")
    assert not empty.success and "no result" in str(empty.error_in_exec)
    assert alice.send("after")["seq"] == last_seq + 1


def test_without_a_chat_the_magic_says_how_to_get_one(shell: InteractiveShell) -> None:
    result = shell.run_cell("%chat_send 1")
    assert not result.success
    assert "no chat to send to: create a ChatWidget" in str(result.error_in_exec)


def test_use_picks_the_chat_and_the_newest_remembered_one_is_the_default(registry: None) -> None:
    class Chat:
        def send(self, content: Any, chat_id: str | None = None) -> None: ...

    older, newer, chosen = Chat(), Chat(), Chat()
    magic.remember(older)
    magic.remember(newer)
    assert magic.active() is newer
    assert magic.use(chosen) is chosen and magic.active() is chosen
    magic.use(None)
    assert magic.active() is newer
    del newer
    assert magic.active() is older  # held weakly: a dropped chat is not kept alive
    with pytest.raises(TypeError):
        magic.use("general")


def test_with_nothing_remembered_the_one_client_among_the_variables_is_used(
    server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ChatClient(server.url, server.tokens["alice"])
    second = ChatClient(server.url, server.tokens["bob"])
    try:
        monkeypatch.setattr(active, "_created", [])
        monkeypatch.setattr(active, "_chosen", None)
        assert magic.active({"chat": first, "n": 3, "again": first}) is first
        with pytest.raises(ChatError) as caught:
            magic.active({"chat": first, "other": second})
        assert "magic.use(chat)" in caught.value.message
    finally:
        first.close()
        second.close()


def test_load_ext_chat_widget_registers_the_magics(shell: InteractiveShell) -> None:
    shell.magics_manager.magics["cell"].pop("chat", None)
    shell.extension_manager.loaded.discard("chat_widget")
    assert shell.run_cell("%load_ext chat_widget").success
    assert "chat" in shell.magics_manager.magics["cell"]


def test_the_magics_send_from_a_real_kernel(server: Any, tmp_path: Path) -> None:
    with client_for(server.url, server.tokens["bob"]) as bob:
        bob.join("general")
        arrived = Recorder()
        bob.on_message(arrived)
        cells = [
            "import matplotlib.pyplot as plt\n"
            "import pandas as pd\n"
            "from chat_widget.client import ChatClient\n"
            f"chat = ChatClient({server.url!r}, {server.tokens['alice']!r})\n"
            "chat.connect()\n"
            "chat.join('general');",
            "%load_ext chat_widget.magic",
            "%%chat Daily p95\n"
            "frame = pd.DataFrame({'day': [1, 2, 3], 'p95_ms': [212.0, 198.5, None]})\n"
            "frame",
            "%%chat\n"
            "fig, ax = plt.subplots(figsize=(3, 2))\n"
            "ax.plot(frame['day'], frame['p95_ms']);",
            "%chat_send frame['p95_ms'].max()",
            "chat.close()",
        ]
        notebook = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(source) for source in cells])
        NotebookClient(notebook, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
        table_message, figure_message, maximum = arrived.wait_for(
            lambda items: len(items) >= 3 and items[:3])
    assert table_message["sender"]["name"].lower() == "alice"
    assert table_message["text"] == "Daily p95"
    assert table_message["parts"] == [{"type": "table", "columns": ["day", "p95_ms"],
                                       "rows": [[1, 212.0], [2, 198.5], [3, None]]}]
    (figure,) = figure_message["parts"]
    assert figure["mime"] == "image/png" and pixels(image_bytes(figure))[1][0] > 50
    assert maximum["parts"] == [{"type": "code", "language": "text", "text": "212.0"}]
    printed = "".join(out.get("text", "") for out in notebook.cells[2].outputs
                      if out.output_type == "stream")
    assert printed == f"Sent to general as message {table_message['seq']}.\n"
    assert sys.modules.get("chat_widget.magic") is magic
