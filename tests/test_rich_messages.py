"""Analysis results sent from Python arrive whole at another client, through the real server.

Alice sends a DataFrame, a Series, a matplotlib figure, a PIL image, objects
with rich reprs and lists mixing them; Bob, a second ChatClient in the same
chat, must receive exactly what was sent: every row, and image bytes that
decode to the same pixels. The magics are run in an IPython shell in this
process and in a real ipykernel (through nbclient), sending a cell's result.
"""

from __future__ import annotations

import base64
import io
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import matplotlib
import nbformat
import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from nbclient import NotebookClient
from PIL import Image
from traitlets.config import Config

from chat_widget import _active, magic
from chat_widget._payload import content_to_payload
from chat_widget.client import ChatClient
from chat_widget.errors import ChatError
from tests.test_client import Recorder, client_for, wait_until

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the headless backend)


@pytest.fixture
def alice_and_bob(server: Any) -> Iterator[tuple[ChatClient, ChatClient]]:
    """Alice and Bob, each with a ChatClient joined to "general"."""
    with client_for(server.url, server.tokens["alice"]) as alice, \
            client_for(server.url, server.tokens["bob"]) as bob:
        alice.join("general")
        bob.join("general")
        yield alice, bob


def received(bob: ChatClient, stored: dict[str, Any]) -> dict[str, Any]:
    """The message as Bob's client got it from the server's broadcast."""
    return wait_until(
        lambda: next((m for m in bob.messages if m["id"] == stored["id"]), None),
        what=f"message {stored['id']} at bob",
    )


def send_and_receive(alice: ChatClient, bob: ChatClient, obj: Any) -> dict[str, Any]:
    """Send `obj` as Alice; return Bob's copy after checking it is what was meant to go."""
    text, parts = content_to_payload(obj)
    stored = alice.send(obj)
    arrived = received(bob, stored)
    assert (arrived["text"], arrived["parts"]) == (text, parts)
    return arrived


def latest(bob: ChatClient, matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The newest message at Bob's that `matches`, once it has arrived."""
    return wait_until(lambda: next((m for m in reversed(bob.messages) if matches(m)), None),
                      what="the message at bob")


def sent_seq(capsys: pytest.CaptureFixture[str]) -> int:
    """The seq the magic said it stored the message as (it prints one line)."""
    found = re.findall(r"^Sent to general as message (\d+)\.$", capsys.readouterr().out, re.M)
    assert len(found) == 1, found
    return int(found[0])


def image_bytes(part: dict[str, Any]) -> bytes:
    return base64.b64decode(part["data"], validate=True)


def pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    image = Image.open(io.BytesIO(data))
    return image.mode, image.size, image.tobytes()


def line_figure() -> Any:
    fig, ax = plt.subplots(figsize=(4, 3), dpi=60)
    ax.plot(range(10), [n * n for n in range(10)], label="squares")
    ax.legend()
    return fig


# -- each kind of object, whole -----------------------------------------------------------


def test_a_data_frame_arrives_with_every_row_and_its_values(alice_and_bob) -> None:
    alice, bob = alice_and_bob
    size = 1000
    frame = pd.DataFrame({
        "id": range(size),
        "latency_ms": [None if n % 7 == 0 else n / 4 for n in range(size)],
        "host": [f"web-{n % 3}" for n in range(size)],
        "at": pd.date_range("2024-03-01", periods=size, freq="min"),
    })
    arrived = send_and_receive(alice, bob, frame)
    assert arrived["text"] == ""
    (table,) = arrived["parts"]
    assert table["columns"] == ["id", "latency_ms", "host", "at"]
    assert len(table["rows"]) == size
    for n, row in enumerate(table["rows"]):
        expected_at = (pd.Timestamp("2024-03-01") + pd.Timedelta(minutes=n)).isoformat()
        assert row == [n, None if n % 7 == 0 else n / 4, f"web-{n % 3}", expected_at]
    assert type(table["rows"][1][0]) is int and type(table["rows"][1][1]) is float


def test_a_long_data_frame_arrives_capped_with_its_true_length(alice_and_bob) -> None:
    alice, bob = alice_and_bob
    arrived = send_and_receive(alice, bob, pd.DataFrame({"n": range(4321)}))
    table, note = arrived["parts"]
    assert table["rows"] == [[n] for n in range(1000)]
    assert note == {"type": "markdown", "text": "Showing the first 1,000 of 4,321 rows."}


def test_a_series_arrives_as_a_table_with_its_index(alice_and_bob) -> None:
    alice, bob = alice_and_bob
    hosts = pd.Series(["a", "b", "a", "c", "a"], name="host").value_counts()
    arrived = send_and_receive(alice, bob, hosts)
    assert arrived["parts"] == [{"type": "table", "columns": ["host", "count"],
                                 "rows": [["a", 3], ["b", 1], ["c", 1]]}]


def test_a_matplotlib_figure_arrives_as_the_same_png(alice_and_bob) -> None:
    alice, bob = alice_and_bob
    fig = line_figure()
    try:
        arrived = send_and_receive(alice, bob, fig)
        expected = io.BytesIO()
        fig.savefig(expected, format="png", bbox_inches="tight")
    finally:
        plt.close(fig)
    (image,) = arrived["parts"]
    assert image["mime"] == "image/png"
    assert pixels(image_bytes(image)) == pixels(expected.getvalue())


def test_a_pil_image_arrives_pixel_for_pixel(alice_and_bob) -> None:
    alice, bob = alice_and_bob
    original = Image.linear_gradient("L").resize((64, 48)).convert("RGB")
    original.putpixel((5, 5), (255, 0, 0))
    arrived = send_and_receive(alice, bob, original)
    (image,) = arrived["parts"]
    assert image["mime"] == "image/png"
    assert pixels(image_bytes(image)) == ("RGB", (64, 48), original.tobytes())


class Report:
    """An object that shows itself as markdown in Jupyter (and as HTML, which is not sent)."""

    def _repr_markdown_(self) -> str:
        return "## Weekly report\n\n- p95 **down** 12%"

    def _repr_html_(self) -> str:
        return "<h2>Weekly report</h2>"


class Chart:
    """An object that shows itself as a PNG and as SVG, as plotting libraries do."""

    def __init__(self) -> None:
        buffer = io.BytesIO()
        Image.new("RGB", (10, 10), (0, 90, 200)).save(buffer, format="PNG")
        self.png = buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png

    def _repr_svg_(self) -> str:
        return "<svg xmlns='http://www.w3.org/2000/svg'/>"


class Diagram:
    def _repr_svg_(self) -> str:
        return "<svg xmlns='http://www.w3.org/2000/svg'><rect width='4' height='2'/></svg>"


class HtmlWidget:
    def _repr_html_(self) -> str:
        return "<script>alert(1)</script>"

    def __repr__(self) -> str:
        return "HtmlWidget(rows=3)"


def test_objects_with_rich_reprs_arrive_as_markdown_images_or_text(alice_and_bob) -> None:
    alice, bob = alice_and_bob
    assert send_and_receive(alice, bob, Report())["parts"] == [
        {"type": "markdown", "text": "## Weekly report\n\n- p95 **down** 12%"}]
    chart = Chart()
    (png,) = send_and_receive(alice, bob, chart)["parts"]
    assert png["mime"] == "image/png" and image_bytes(png) == chart.png
    (svg,) = send_and_receive(alice, bob, Diagram())["parts"]
    assert svg["mime"] == "image/svg+xml"
    assert image_bytes(svg).decode() == Diagram()._repr_svg_()
    assert send_and_receive(alice, bob, HtmlWidget())["parts"] == [
        {"type": "code", "language": "text", "text": "HtmlWidget(rows=3)"}]


def test_a_list_arrives_as_one_message_in_the_order_sent(alice_and_bob) -> None:
    alice, bob = alice_and_bob
    frame = pd.DataFrame({"region": ["north", "south"], "sales": [120, 95]})
    fig = line_figure()
    try:
        arrived = send_and_receive(
            alice, bob, ["Sales are **up**.", frame, fig, "Details:", Report(), (2, 2)])
    finally:
        plt.close(fig)
    assert arrived["text"] == "Sales are **up**."
    table, image, details, report, shape = arrived["parts"]
    assert table == {"type": "table", "columns": ["region", "sales"],
                     "rows": [["north", 120], ["south", 95]]}
    assert image["mime"] == "image/png" and pixels(image_bytes(image))[1][0] > 100
    assert details == {"type": "markdown", "text": "Details:"}
    assert report["type"] == "markdown"
    assert shape == {"type": "code", "language": "text", "text": "(2, 2)"}


def test_too_large_content_is_refused_before_sending_and_the_client_goes_on(
    alice_and_bob,
) -> None:
    alice, bob = alice_and_bob
    before = len(bob.messages)
    huge = Image.effect_noise((800, 800), 100).convert("RGB")  # noise does not compress
    with pytest.raises(ChatError) as caught:
        alice.send(["the raw image", huge])
    assert caught.value.code == "too_large" and "smaller" in caught.value.message
    assert not alice.awaiting_response
    stored = alice.send("after the refusal")
    assert received(bob, stored)["text"] == "after the refusal"
    assert [m["text"] for m in bob.messages[before:]] == ["after the refusal"]


# -- the magics ---------------------------------------------------------------------------


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """No chat remembered or chosen, whatever earlier tests created."""
    monkeypatch.setattr(_active, "_created", [])
    monkeypatch.setattr(_active, "_chosen", None)


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
        monkeypatch.setattr(_active, "_created", [])
        monkeypatch.setattr(_active, "_chosen", None)
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
