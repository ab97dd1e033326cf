"""Python objects -> the protocol's message `text` and `parts` (tables, images, markdown).

Pure functions, no I/O, and tests call them without a socket. `to_content`
is the one entry: `ChatClient.send` calls it, and so do `ChatWidget.send` and
the magics to fail early; what it returns (`MessageContent`, checked against
the protocol's limits) passes through every later `to_content` untouched, so
a send converts its content once, whichever way it came in.

pandas, matplotlib and PIL are optional. An object is only checked against
one of their classes when the library is already imported (`sys.modules`),
so nothing here imports pandas to look at a number: an object from a library
the user never imported cannot be an instance of it.

How an object becomes parts, first match wins:

- `str`: markdown; a dict with "text" / "parts": protocol content as given;
- a pandas DataFrame, Series or Styler: one `table` part (at most
  `MAX_TABLE_ROWS` rows, then a markdown note with the true row count);
- a matplotlib Figure (or any artist of one, an Axes say), a PIL image: an
  `image` part (PNG; a PIL image read from a JPEG file stays JPEG);
- anything else, through IPython's display protocol (`_repr_mimebundle_`,
  then `_repr_markdown_`, `_repr_png_`, `_repr_jpeg_`, `_repr_svg_`,
  `_repr_json_`): the first of markdown, PNG, JPEG, SVG, JSON it offers.
  HTML is never sent (a chat must not carry markup from arbitrary objects),
  so an object that only offers HTML is sent as its plain text, like every
  object without a rich form: a `code` part (language "text") holding its
  `text/plain` repr, so that its layout survives;
- a list or tuple mixes all of the above in one message, in order (one
  holding only plain values, `(3, 5)` say, is a single value instead).

The message `text` carries the leading markdown: a `str` on its own, or the
first element of a list when it is a `str`; every later string becomes a
`markdown` part, so the order of a list is the order shown.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import io
import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import protocol
from .errors import ChatError
from .protocol import Part

MAX_TABLE_ROWS = 1000
# Room left in the 1 MiB message for what the client adds around text and
# parts (chat_id, client_id, the authorization string): the server counts them.
ENVELOPE_BYTES = 1024
MAX_CONTENT_BYTES = protocol.MAX_MESSAGE_BYTES - ENVELOPE_BYTES

_REPR_METHODS = {
    "text/markdown": "_repr_markdown_",
    "image/png": "_repr_png_",
    "image/jpeg": "_repr_jpeg_",
    "image/svg+xml": "_repr_svg_",
    "application/json": "_repr_json_",
}
# Richest first, as Jupyter ranks them, without HTML, LaTeX or JavaScript.
_MIME_ORDER = ("text/markdown", *protocol.IMAGE_MIMES, "application/json")


@dataclass(frozen=True)
class MessageContent:
    """A message's `text` and `parts`, converted and checked: ready for `send_message`."""

    text: str
    parts: list[Part]


def to_content(content: Any) -> MessageContent:
    """What `send` accepts, as checked protocol content; a ChatError if it cannot go.

    A str is the message text, a dict with "text" and/or "parts" is protocol
    content as given, a MessageContent is returned as it is, and every other
    object goes through `to_parts`. The checks (bad_request, too_large) run
    before an authorization string is spent on a message the server would
    refuse anyway.
    """
    if isinstance(content, MessageContent):
        return content
    text: Any
    parts: Any
    if isinstance(content, str):
        text, parts = content, []
    elif is_protocol_content(content):
        text = content.get("text", "")
        parts = content.get("parts") or []
    else:
        text, parts = to_parts(content)
    text = protocol.message_text(text)
    parts = protocol.message_parts(list(parts) if isinstance(parts, tuple) else parts)
    if not text and not parts:
        raise ChatError("nothing to send: the message is empty", code="bad_request")
    size = len(json.dumps({"text": text, "parts": parts}, ensure_ascii=False).encode("utf-8"))
    if size > MAX_CONTENT_BYTES:
        raise ChatError(
            f"the message is {size:,} bytes; a message holds at most "
            f"{protocol.MAX_MESSAGE_BYTES:,} bytes (1 MiB, with about {ENVELOPE_BYTES:,} "
            "kept for the chat id and authorization): send fewer rows (df.head(n)), a "
            "smaller image, or split it into several messages",
            code="too_large",
        )
    return MessageContent(text, parts)


def to_parts(obj: Any) -> tuple[str, list[Part]]:
    """`(text, parts)` for any object: the message `text` and its rich `parts`, in order.

    A top-level list or tuple mixes kinds in one message when an element has a
    form of its own (text, a table, an image, a rich repr); one of plain values
    only, such as `df.shape`, is one value shown as its repr, as is a list
    nested inside a mixing one. `None` gives nothing (an empty
    message, which `send` refuses), so `[caption, None]` sends the caption.
    """
    if type(obj) in (list, tuple) and any(_has_rich_form(item) for item in obj):
        seen_figures: set[int] = set()
        text, parts = "", list[Part]()
        for index, item in enumerate(obj):
            item_text, item_parts = _convert(item, seen_figures)
            if index == 0:
                text = item_text
            elif item_text:
                parts.append(markdown_part(item_text))
            parts.extend(item_parts)
        return text, parts
    return _convert(obj, set())


def _has_rich_form(obj: Any) -> bool:
    """Whether a list element is more than a plain value: text, a table, an image, a repr."""
    return (
        isinstance(obj, str)
        or is_protocol_content(obj)
        or _is_table(obj)
        or _matplotlib_figure(obj) is not None
        or _is_pil_image(obj)
        or any(_repr_method(obj, name) for name in ("_repr_mimebundle_", *_REPR_METHODS.values()))
    )


def _convert(obj: Any, seen_figures: set[int]) -> tuple[str, list[Part]]:
    """One value: its markdown text (str and protocol dicts only) and its parts."""
    if obj is None:
        return "", []
    if isinstance(obj, str):
        return str(obj), []
    if is_protocol_content(obj):
        return obj.get("text", ""), list(obj.get("parts") or [])
    if _is_table(obj):
        return "", table_parts(obj)
    figure = _matplotlib_figure(obj)
    if figure is not None:
        if figure is not obj and id(figure) in seen_figures:
            return "", []  # several artists of one figure (a plot's lines): one image
        seen_figures.add(id(figure))
        return "", [figure_part(figure)]
    if _is_pil_image(obj):
        return "", [pil_image_part(obj)]
    return "", repr_parts(obj)


def is_protocol_content(obj: Any) -> bool:
    """A mapping with "text" or "parts" is protocol content; other dicts are data."""
    return isinstance(obj, Mapping) and ("text" in obj or "parts" in obj)


def markdown_part(text: str) -> Part:
    """A `markdown` part."""
    return {"type": "markdown", "text": text}


def text_part(text: str) -> Part:
    """Plain text shown as is: a `code` part, so spacing and line breaks survive."""
    return {"type": "code", "language": "text", "text": text}


# -- tables ---------------------------------------------------------------------


def _module(name: str) -> Any:
    """A library module if the user's code imported it already, else None."""
    return sys.modules.get(name)


def _is_table(obj: Any) -> bool:
    pandas = _module("pandas")
    if pandas is None:
        return False
    if isinstance(obj, (pandas.DataFrame, pandas.Series)):
        return True
    style = _module("pandas.io.formats.style")
    return style is not None and isinstance(obj, style.Styler)


def table_parts(obj: Any, max_rows: int = MAX_TABLE_ROWS) -> list[Part]:
    """A DataFrame, Series or Styler as a `table` part, plus a note when rows were cut.

    Values stay values: numbers stay numbers, every kind of missing value is
    null, datetimes are ISO strings. The index becomes the first column(s)
    when it carries information: when it is named, or is not the default
    0, 1, 2, ... (a RangeIndex that starts elsewhere, as after `tail()`, counts).
    """
    frame = _as_frame(obj)
    shown = frame.iloc[:max_rows]
    columns: list[str] = []
    values: list[list[Any]] = []
    if _index_is_meaningful(frame.index):
        for level, name in enumerate(shown.index.names):
            columns.append("" if name is None else _label(name))
            values.append(shown.index.get_level_values(level).tolist())
    for position, label in enumerate(shown.columns):
        columns.append(_label(label))
        values.append(shown.iloc[:, position].tolist())
    rows = [[json_scalar(column[row]) for column in values] for row in range(len(shown))]
    parts: list[Part] = [{"type": "table", "columns": columns, "rows": rows}]
    if len(frame) > max_rows:
        parts.append(markdown_part(f"Showing the first {max_rows:,} of {len(frame):,} rows."))
    return parts


def _as_frame(obj: Any) -> Any:
    """The DataFrame behind a DataFrame, Series or Styler (a Styler's formatting is dropped)."""
    pandas = _module("pandas")
    if isinstance(obj, pandas.Series):
        # An unnamed Series gets no header, as pandas shows it (to_frame would say "0").
        return obj.to_frame(name="" if obj.name is None else obj.name)
    if isinstance(obj, pandas.DataFrame):
        return obj
    return obj.data  # a Styler


def _index_is_meaningful(index: Any) -> bool:
    if any(name is not None for name in index.names):
        return True
    range_index = _module("pandas").RangeIndex
    return not (isinstance(index, range_index) and index.start == 0 and index.step == 1)


def _label(label: Any) -> str:
    """A column header: MultiIndex labels joined with " / ", empty levels left out."""
    if isinstance(label, tuple):
        return " / ".join(str(level) for level in label if str(level) != "")
    return str(label)


def json_scalar(value: Any) -> str | int | float | bool | None:
    """A table cell as a JSON scalar: the protocol's rows hold nothing else.

    Missing values (None, NaN, NaT, pd.NA) and infinities are null, numpy
    scalars are Python scalars, dates and times are ISO strings, and anything
    else (a timedelta, a Decimal that is not finite, a list in a cell) is its str.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if type(value).__module__ == "numpy":
        return _numpy_scalar(value)
    pandas = _module("pandas")
    if pandas is not None and (value is pandas.NA or value is pandas.NaT):
        return None
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else None
    return str(value)


def _numpy_scalar(value: Any) -> str | int | float | bool | None:
    numpy = _module("numpy")
    if isinstance(value, numpy.datetime64):
        return None if numpy.isnat(value) else str(numpy.datetime_as_string(value))
    if isinstance(value, numpy.timedelta64):
        return None if numpy.isnat(value) else str(value)
    if isinstance(value, numpy.generic):
        return json_scalar(value.item())
    return str(value)


# -- images ---------------------------------------------------------------------


def image_part(data: bytes, mime: str) -> Part:
    """An `image` part from encoded bytes; too_large if it cannot fit in a message."""
    if mime not in protocol.IMAGE_MIMES:
        raise ChatError(f"cannot send an image of type {mime!r}", code="bad_request")
    encoded = base64.b64encode(data).decode("ascii")
    if len(encoded) > MAX_CONTENT_BYTES:
        raise ChatError(
            f"the image is {_mib(len(encoded))} as base64 ({mime}); a message holds at most "
            f"{_mib(protocol.MAX_MESSAGE_BYTES)}: make it smaller (a lower dpi or figsize, "
            "or resize it) and send again",
            code="too_large",
        )
    return {"type": "image", "mime": mime, "data": encoded}


def _matplotlib_figure(obj: Any) -> Any:
    """The root Figure of a Figure or of any artist drawn in one (an Axes, a line), or None."""
    figure_module, artist_module = _module("matplotlib.figure"), _module("matplotlib.artist")
    if figure_module is None or artist_module is None:
        return None
    if not isinstance(obj, (figure_module.FigureBase, artist_module.Artist)):
        return None
    figure = obj
    for _ in range(10):  # a SubFigure's parent chain is short
        if isinstance(figure, figure_module.Figure) or figure is None:
            return figure
        figure = getattr(figure, "figure", None)
    return None


def figure_part(figure: Any) -> Part:
    """A matplotlib Figure as a PNG `image` part, cropped as Jupyter's inline backend does."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return image_part(buffer.getvalue(), "image/png")


def _is_pil_image(obj: Any) -> bool:
    image_module = _module("PIL.Image")
    return image_module is not None and isinstance(obj, image_module.Image)


def pil_image_part(image: Any) -> Part:
    """A PIL image as PNG (lossless), or JPEG when it was read from a JPEG file.

    Re-encoding a photo as PNG would make it several times larger for no gain.
    Modes PNG cannot hold (CMYK, float...) are converted to RGB first.
    """
    buffer = io.BytesIO()
    if image.format == "JPEG" and image.mode in ("RGB", "L", "CMYK"):
        image.save(buffer, format="JPEG", quality=95)
        return image_part(buffer.getvalue(), "image/jpeg")
    if image.mode not in ("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.mode else "RGB")
    image.save(buffer, format="PNG")
    return image_part(buffer.getvalue(), "image/png")


# -- the display protocol ---------------------------------------------------------


def repr_parts(obj: Any) -> list[Part]:
    """An object through IPython's display protocol, without HTML; its text as the fallback."""
    numpy = _module("numpy")
    if numpy is not None and isinstance(obj, numpy.generic):
        obj = obj.item()  # 3.5, not np.float64(3.5)
    bundle = display_bundle(obj)
    for mime in _MIME_ORDER:
        data = bundle.get(mime)
        if data is None:
            continue
        if mime == "text/markdown":
            return [markdown_part(str(data))]
        if mime == "application/json":
            return [{"type": "code", "language": "json",
                     "text": json.dumps(data, indent=2, ensure_ascii=False, default=str)}]
        return [image_part(_image_bytes(data, mime), mime)]
    text = bundle.get("text/plain")
    return [text_part(str(text) if text is not None else plain_text(obj))]


def display_bundle(obj: Any) -> dict[str, Any]:
    """The object's mime bundle: `_repr_mimebundle_` first, `_repr_*_` methods fill the rest.

    This mirrors IPython's DisplayFormatter without needing a running shell.
    A method that raises or returns None offers nothing, as in IPython.
    """
    bundle: dict[str, Any] = {}
    method = _repr_method(obj, "_repr_mimebundle_")
    if method is not None:
        data = _call(method, include=None, exclude=None)
        if isinstance(data, tuple):
            data = data[0]
        if isinstance(data, Mapping):
            bundle.update(data)
    for mime, name in _REPR_METHODS.items():
        method = _repr_method(obj, name)
        if mime in bundle or method is None:
            continue
        data = _call(method)
        if isinstance(data, tuple):
            data = data[0]
        if data is not None:
            bundle[mime] = data
    return bundle


def _repr_method(obj: Any, name: str) -> Any:
    """A bound `_repr_*_` method; classes themselves are shown as their repr, as IPython does."""
    if isinstance(obj, type):
        return None
    method = getattr(obj, name, None)
    return method if callable(method) else None


def _call(method: Any, **kwargs: Any) -> Any:
    try:
        return method(**kwargs)
    except Exception:  # IPython shows a broken formatter's object by the next one too
        return None


def _image_bytes(data: Any, mime: str) -> bytes:
    """Image data as the display protocol gives it: bytes, SVG text, or base64 text."""
    if isinstance(data, bytes):
        return data
    if mime == "image/svg+xml":
        return str(data).encode("utf-8")
    try:
        return base64.b64decode("".join(str(data).split()), validate=True)
    except binascii.Error:
        message = f"the object's {mime} data is not valid base64"
        raise ChatError(message, code="bad_request") from None


def plain_text(obj: Any) -> str:
    """The object's text/plain form: IPython's pretty printer when installed, else repr."""
    try:
        from IPython.lib.pretty import pretty
    except ImportError:
        return repr(obj)
    return str(pretty(obj))  # type: ignore[no-untyped-call]  # IPython is untyped


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.2f} MiB" if size >= 100 * 1024 else f"{size / 1024:.0f} KiB"
