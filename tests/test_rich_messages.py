"""Analysis results sent from Python arrive whole at another client, through the real server.

Alice sends a DataFrame, a Series, a matplotlib figure, a PIL image, objects
with rich reprs and lists mixing them; Bob, a second ChatClient in the same
chat, must receive exactly what was sent: every row, and image bytes that
decode to the same pixels. The magics that send a cell's result are in
test_magic.py.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib
import pandas as pd
import pytest
from PIL import Image

from chat_widget.client import ChatClient
from chat_widget.content import to_content
from chat_widget.errors import ChatError
from tests.client.common import image_bytes, pixels, wait_until

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the headless backend)


def received(bob: ChatClient, stored: dict[str, Any]) -> dict[str, Any]:
    """The message as Bob's client got it from the server's broadcast."""
    return wait_until(
        lambda: next((m for m in bob.messages if m["id"] == stored["id"]), None),
        what=f"message {stored['id']} at bob",
    )


def send_and_receive(alice: ChatClient, bob: ChatClient, obj: Any) -> dict[str, Any]:
    """Send `obj` as Alice; return Bob's copy after checking it is what was meant to go."""
    content = to_content(obj)
    stored = alice.send(obj)
    arrived = received(bob, stored)
    assert (arrived["text"], arrived["parts"]) == (content.text, content.parts)
    return arrived


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
