"""Python objects -> protocol text and parts, without a socket (chat_widget.content).

Each kind of object the client accepts is converted here and checked against
what the protocol allows: tables of JSON scalars, images as base64, markdown,
plain text that keeps its layout, and the size limits checked before sending.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import io
import json
import subprocess
import sys
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from chat_widget import protocol
from chat_widget.content import MessageContent, json_scalar, to_content, to_parts
from chat_widget.errors import ChatError

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the headless backend)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def only_part(obj: Any) -> dict[str, Any]:
    text, parts = to_parts(obj)
    assert text == "" and len(parts) == 1, (text, parts)
    return parts[0]


def decoded(part: dict[str, Any]) -> bytes:
    return base64.b64decode(part["data"], validate=True)


def as_wire(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What JSON makes of the parts: strict JSON (no NaN) that the protocol accepts."""
    wired = json.loads(json.dumps(parts, allow_nan=False))
    protocol.message_parts(wired)
    return wired


@pytest.fixture
def figure() -> Any:
    fig, ax = plt.subplots(figsize=(3, 2), dpi=50)
    ax.plot([1, 2, 3], [3, 1, 2])
    yield fig
    plt.close(fig)


class PngOnly:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def _repr_png_(self) -> bytes:
        return self.data


class HtmlOnly:
    def _repr_html_(self) -> str:
        return "<b onclick='steal()'>bold</b>"

    def __repr__(self) -> str:
        return "HtmlOnly(plain)"


class Markdown:
    def _repr_markdown_(self) -> str:
        return "# Result\n\n*fine*"

    def _repr_html_(self) -> str:
        return "<h1>Result</h1>"


def png_bytes(size: tuple[int, int] = (4, 3)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 10, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


# -- text and protocol content ----------------------------------------------------------


def payload(obj: Any) -> tuple[str, list[Any]]:
    """What `send` would emit for `obj`: its checked text and parts."""
    content = to_content(obj)
    return content.text, content.parts


def test_a_str_is_the_message_text() -> None:
    assert to_parts("**bold** claim") == ("**bold** claim", [])
    assert payload("**bold** claim") == ("**bold** claim", [])


def test_a_dict_with_text_or_parts_is_protocol_content_as_given() -> None:
    parts = [{"type": "markdown", "text": "first"}, {"type": "sparkline", "points": [1]}]
    assert payload({"text": "", "parts": parts}) == ("", parts)
    assert payload({"parts": parts}) == ("", parts)
    assert payload({"text": "hi"}) == ("hi", [])


def test_any_other_dict_is_data_shown_as_its_repr() -> None:
    assert only_part({"rows": 3, "ok": True}) == {
        "type": "code", "language": "text", "text": "{'rows': 3, 'ok': True}"}


@pytest.mark.parametrize(("value", "text"), [(42, "42"), (np.float64(3.5), "3.5"),
                                              (np.int64(7), "7"), (np.bool_(True), "True")])
def test_plain_values_are_their_repr_and_numpy_scalars_read_as_python_ones(
    value: Any, text: str
) -> None:
    assert only_part(value) == {"type": "code", "language": "text", "text": text}


def test_multi_line_text_keeps_its_layout() -> None:
    array = np.arange(40).reshape(4, 10)
    assert only_part(array)["text"] == repr(array)


def test_none_and_empty_text_are_refused_as_empty_messages() -> None:
    for empty in (None, "", {"text": ""}):
        with pytest.raises(ChatError) as caught:
            payload(empty)
        assert caught.value.code == "bad_request"


# -- tables -------------------------------------------------------------------------------


def test_a_data_frame_is_a_table_whose_values_stay_values() -> None:
    frame = pd.DataFrame({
        "city": ["Oslo", "Lima", None],
        "count": np.array([3, 4, 5], dtype=np.int64),
        "share": [0.25, float("nan"), 0.5],
        "flag": [True, False, True],
    })
    part = only_part(frame)
    assert part == {
        "type": "table",
        "columns": ["city", "count", "share", "flag"],
        "rows": [["Oslo", 3, 0.25, True], ["Lima", 4, None, False], [None, 5, 0.5, True]],
    }
    assert [type(value) for value in part["rows"][0]] == [str, int, float, bool]
    assert as_wire([part]) == [part]


def test_every_kind_of_missing_value_and_infinity_is_null() -> None:
    frame = pd.DataFrame({
        "float": [float("nan"), float("inf"), -np.inf],
        "object": [None, np.nan, pd.NA],
        "when": pd.to_datetime(["2024-05-01", None, "2024-05-03"]),
        "nullable_int": pd.array([1, None, 3], dtype="Int64"),
        "nullable_bool": pd.array([None, True, None], dtype="boolean"),
        "string": pd.array([None, "b", "c"], dtype="string"),
        "category": pd.Categorical([None, "x", "y"]),
    })
    rows = only_part(frame)["rows"]
    assert rows[0] == [None, None, "2024-05-01T00:00:00", 1, None, None, None]
    assert rows[1] == [None, None, None, None, True, "b", "x"]
    assert rows[2][:2] == [None, None]
    as_wire(to_parts(frame)[1])


def test_datetimes_become_iso_strings() -> None:
    frame = pd.DataFrame({
        "naive": [pd.Timestamp("2024-05-01 13:45:10.5")],
        "utc": [pd.Timestamp("2024-05-01 13:45", tz="UTC")],
        "date": [datetime.date(2024, 5, 1)],
        "time": [datetime.time(7, 30)],
    })
    assert only_part(frame)["rows"] == [[
        "2024-05-01T13:45:10.500000", "2024-05-01T13:45:00+00:00", "2024-05-01", "07:30:00"]]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.int32(-4), -4),
        (np.uint64(2**63), 2**63),
        (np.float32(0.5), 0.5),
        (np.float64("nan"), None),
        (np.bool_(False), False),
        (np.str_("text"), "text"),
        (np.datetime64("2024-01-02T03:04:05"), "2024-01-02T03:04:05"),
        (np.datetime64("NaT"), None),
        (pd.NaT, None),
        (pd.NA, None),
        (decimal.Decimal("2.5"), 2.5),
        (decimal.Decimal("NaN"), None),
        (datetime.timedelta(minutes=90), "1:30:00"),
        (pd.Timedelta("90min"), "0 days 01:30:00"),
        (1 + 2j, "(1+2j)"),
        ([1, 2], "[1, 2]"),
    ],
)
def test_cells_are_json_scalars(value: Any, expected: Any) -> None:
    converted = json_scalar(value)
    assert converted == expected and type(converted) is type(expected)


def test_a_default_range_index_is_left_out_but_a_meaningful_index_is_kept() -> None:
    frame = pd.DataFrame({"value": [10, 20, 30]})
    assert only_part(frame)["columns"] == ["value"]
    named = frame.rename_axis("day")
    assert only_part(named) == {"type": "table", "columns": ["day", "value"],
                                "rows": [[0, 10], [1, 20], [2, 30]]}
    labelled = frame.set_axis(["a", "b", "c"])
    assert only_part(labelled)["rows"][0] == ["a", 10]
    assert only_part(labelled)["columns"] == ["", "value"]
    assert only_part(frame.tail(1))["rows"] == [[2, 30]]  # rows 2.. of a RangeIndex
    dated = frame.set_axis(pd.date_range("2024-01-01", periods=3))
    assert only_part(dated)["rows"][0] == ["2024-01-01T00:00:00", 10]


def test_multi_indexes_become_several_columns_and_joined_headers() -> None:
    frame = pd.DataFrame({"region": ["n", "n", "s"], "year": [1, 2, 1], "sales": [5, 6, 7]})
    summary = frame.groupby(["region", "year"]).agg({"sales": ["sum", "max"]})
    assert only_part(summary) == {
        "type": "table",
        "columns": ["region", "year", "sales / sum", "sales / max"],
        "rows": [["n", 1, 5, 5], ["n", 2, 6, 6], ["s", 1, 7, 7]],
    }


def test_a_series_is_a_one_column_table() -> None:
    assert only_part(pd.Series([1.5, None], name="score")) == {
        "type": "table", "columns": ["score"], "rows": [[1.5], [None]]}
    assert only_part(pd.Series([1, 2]))["columns"] == [""]
    counts = pd.Series(["a", "b", "a"], name="letter").value_counts()
    assert only_part(counts) == {"type": "table", "columns": ["letter", "count"],
                                 "rows": [["a", 2], ["b", 1]]}


def test_a_styler_sends_its_data() -> None:
    frame = pd.DataFrame({"x": [1.23456]})
    assert only_part(frame.style.format("{:.1f}")) == only_part(frame)


def test_tables_are_capped_at_1000_rows_and_say_how_many_there_were() -> None:
    frame = pd.DataFrame({"n": range(2500)})
    text, parts = to_parts(frame)
    assert text == "" and len(parts) == 2
    table, note = parts
    assert table["rows"] == [[n] for n in range(1000)]
    assert note == {"type": "markdown", "text": "Showing the first 1,000 of 2,500 rows."}
    assert len(only_part(frame.head(1000))["rows"]) == 1000  # at the cap: all, no note


def test_a_table_too_big_for_a_message_is_refused_before_sending() -> None:
    wide = pd.DataFrame({f"c{i}": ["x" * 100] * 1000 for i in range(12)})
    with pytest.raises(ChatError) as caught:
        payload(wide)
    assert caught.value.code == "too_large"
    assert "1 MiB" in caught.value.message and "df.head" in caught.value.message


# -- images -----------------------------------------------------------------------------


def test_a_matplotlib_figure_is_a_png_image(figure: Any) -> None:
    part = only_part(figure)
    assert part["type"] == "image" and part["mime"] == "image/png"
    data = decoded(part)
    assert data.startswith(PNG_SIGNATURE)
    assert Image.open(io.BytesIO(data)).size[0] > 50


def test_an_axes_or_a_plot_s_lines_stand_for_their_figure_once(figure: Any) -> None:
    axes = figure.axes[0]
    assert only_part(axes) == only_part(figure)
    lines = axes.plot([1, 2], [2, 1]) + axes.plot([1, 2], [1, 1])
    image = only_part(figure)
    assert to_parts(lines) == ("", [image])  # two lines, one figure: one image
    assert to_parts(["Look:", figure, figure]) == ("Look:", [image, image])  # asked twice


def test_a_pil_image_is_a_lossless_png() -> None:
    original = Image.new("RGBA", (7, 5), (10, 20, 30, 128))
    original.putpixel((3, 2), (255, 0, 0, 255))
    part = only_part(original)
    assert part["mime"] == "image/png"
    received = Image.open(io.BytesIO(decoded(part)))
    assert received.mode == "RGBA" and received.tobytes() == original.tobytes()


def test_a_pil_image_read_from_a_jpeg_stays_jpeg_and_other_modes_become_rgb() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 128, 255)).save(buffer, format="JPEG")
    photo = Image.open(io.BytesIO(buffer.getvalue()))
    part = only_part(photo)
    assert part["mime"] == "image/jpeg" and decoded(part).startswith(b"\xff\xd8")
    cmyk = Image.new("CMYK", (4, 4), (0, 0, 0, 0))
    assert Image.open(io.BytesIO(decoded(only_part(cmyk)))).mode == "RGB"


def test_objects_with_image_reprs_are_images() -> None:
    png = png_bytes()
    assert decoded(only_part(PngOnly(png))) == png

    class Base64Png:
        def _repr_png_(self) -> str:  # the older convention: already base64
            return base64.encodebytes(png).decode("ascii")

    assert decoded(only_part(Base64Png())) == png

    class Jpeg:
        def _repr_jpeg_(self) -> tuple[bytes, dict[str, Any]]:  # (data, metadata)
            return b"\xff\xd8jpeg", {"width": 2}

    assert only_part(Jpeg()) == {"type": "image", "mime": "image/jpeg",
                                 "data": base64.b64encode(b"\xff\xd8jpeg").decode()}

    class Svg:
        def _repr_svg_(self) -> str:
            return "<svg xmlns='http://www.w3.org/2000/svg'><circle r='3'/></svg>"

    svg = only_part(Svg())
    assert svg["mime"] == "image/svg+xml" and decoded(svg).decode() == Svg()._repr_svg_()


def test_a_mime_bundle_is_read_like_ipython_reads_it() -> None:
    png = png_bytes()

    class Bundle:
        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
            return ({"text/html": "<i>x</i>", "image/png": base64.b64encode(png).decode(),
                     "text/plain": "Bundle()"}, {})

    assert decoded(only_part(Bundle())) == png

    class HtmlBundle:
        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
            return {"text/html": "<table></table>", "text/plain": "a plain table"}

    assert only_part(HtmlBundle()) == {"type": "code", "language": "text",
                                       "text": "a plain table"}


def test_an_image_over_the_message_limit_is_too_large_with_a_clear_error() -> None:
    with pytest.raises(ChatError) as caught:
        to_parts(PngOnly(b"\x89PNG" + bytes(800 * 1024)))
    assert caught.value.code == "too_large"
    assert "MiB" in caught.value.message and "smaller" in caught.value.message


def test_images_that_fit_alone_but_not_together_are_too_large() -> None:
    half = PngOnly(bytes(450 * 1024))
    assert payload(half)[1][0]["type"] == "image"
    with pytest.raises(ChatError) as caught:
        payload(["two plots", half, half])
    assert caught.value.code == "too_large"


def test_text_over_64_kib_is_too_large() -> None:
    with pytest.raises(ChatError) as caught:
        payload("é" * (protocol.MAX_TEXT_BYTES // 2 + 1))
    assert caught.value.code == "too_large"


# -- the display protocol -----------------------------------------------------------------


def test_an_html_only_object_is_sent_as_its_plain_text_never_as_html() -> None:
    part = only_part(HtmlOnly())
    assert part == {"type": "code", "language": "text", "text": "HtmlOnly(plain)"}
    assert "<b" not in json.dumps(to_parts(["x", HtmlOnly()]))


def test_markdown_reprs_are_markdown_before_html() -> None:
    assert only_part(Markdown()) == {"type": "markdown", "text": "# Result\n\n*fine*"}


def test_json_reprs_are_json_code() -> None:
    class Json:
        def _repr_json_(self) -> dict[str, Any]:
            return {"b": [1, 2], "a": None}

    part = only_part(Json())
    assert part["type"] == "code" and part["language"] == "json"
    assert json.loads(part["text"]) == {"b": [1, 2], "a": None}


def test_a_broken_repr_method_is_skipped_like_ipython_does() -> None:
    class Broken:
        def _repr_png_(self) -> bytes:
            raise RuntimeError("no renderer")

        def __repr__(self) -> str:
            return "Broken()"

    assert only_part(Broken())["text"] == "Broken()"


def test_a_class_is_its_name_not_its_instances_display() -> None:
    assert only_part(PngOnly) == {"type": "code", "language": "text",
                                  "text": f"{__name__}.PngOnly"}


# -- lists mixing kinds ---------------------------------------------------------------------


def test_a_list_mixes_text_tables_images_and_reprs_in_order(figure: Any) -> None:
    frame = pd.DataFrame({"n": [1, 2]})
    text, parts = to_parts(["Results:", frame, figure, "And the notes", Markdown(), 42])
    assert text == "Results:"
    assert [part["type"] for part in parts] == ["table", "image", "markdown", "markdown", "code"]
    assert parts[0] == only_part(frame) and parts[1] == only_part(figure)
    assert parts[2] == {"type": "markdown", "text": "And the notes"}
    assert parts[4]["text"] == "42"
    assert to_parts(("Results:", frame)) == ("Results:", [only_part(frame)])


def test_a_list_that_starts_with_a_rich_object_keeps_later_text_as_parts() -> None:
    frame = pd.DataFrame({"n": [1]})
    assert to_parts([frame, "caption"]) == (
        "", [only_part(frame), {"type": "markdown", "text": "caption"}])


def test_protocol_content_inside_a_list_keeps_its_text_and_parts() -> None:
    code = {"type": "code", "language": "sql", "text": "select 1"}
    assert to_parts(["intro", {"text": "query:", "parts": [code]}]) == (
        "intro", [{"type": "markdown", "text": "query:"}, code])


def test_a_list_of_plain_values_is_one_value_and_nested_lists_stay_values() -> None:
    assert only_part((3, 5)) == {"type": "code", "language": "text", "text": "(3, 5)"}
    assert to_parts(["shape:", (3, 5)]) == (
        "shape:", [{"type": "code", "language": "text", "text": "(3, 5)"}])


def test_a_list_with_none_leaves_it_out_and_an_empty_list_is_a_value() -> None:
    assert to_parts(["caption", None]) == ("caption", [])
    assert only_part([])["text"] == "[]"


# -- optional libraries -------------------------------------------------------------------------


def test_converting_plain_objects_imports_no_optional_library() -> None:
    script = (
        "import sys\n"
        "from chat_widget.content import to_parts\n"
        "to_parts(['text', 42, {'a': 1}, object(), (1, 2)])\n"
        "loaded = {'pandas', 'numpy', 'matplotlib', 'PIL'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)



def test_content_converted_once_passes_through_untouched() -> None:
    content = to_content(["a caption", pd.DataFrame({"x": [1, 2]})])
    assert isinstance(content, MessageContent)
    assert to_content(content) is content


def test_a_part_without_a_type_is_refused_before_sending() -> None:
    with pytest.raises(ChatError) as caught:
        to_content({"parts": [{"no": "type"}]})
    assert caught.value.code == "bad_request"
