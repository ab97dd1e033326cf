"""What the protocol asks of a file's name and type, and how a download is labelled.

Plain functions, no I/O. A download never runs in the browser as a page: a
type that could (HTML, SVG, XML, JavaScript) is served as
application/octet-stream, every download says `nosniff`, and it is always an
attachment, its name given as RFC 6266 asks (an ASCII `filename` and the
exact UTF-8 `filename*`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote

from ..errors import ChatError
from ..protocol import check_encodable

MAX_NAME_LENGTH = 255
MAX_MIME_LENGTH = 255
DEFAULT_MIME = "application/octet-stream"

_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
# Types a browser could run as a page or a script, matched on the subtype's words.
_ACTIVE_WORDS = ("html", "xml", "svg", "javascript", "ecmascript", "jscript", "xsl")


def file_name(value: Any) -> str:
    """A file's name: 1..255 characters without `/`, `\\` or control characters."""
    if not isinstance(value, str) or not value:
        raise ChatError("name must be given: the file's name, 1 to 255 characters",
                        code="bad_request")
    if len(value) > MAX_NAME_LENGTH:
        raise ChatError(f"name is longer than {MAX_NAME_LENGTH} characters", code="bad_request")
    check_encodable(value, "name")
    if "/" in value or "\\" in value:
        raise ChatError("name must not contain '/' or '\\'", code="bad_request")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ChatError("name must not contain control characters", code="bad_request")
    return value


def declared_mime(content_type: str | None) -> str:
    """The upload's type from its Content-Type (parameters dropped, lowercased);
    none given is application/octet-stream."""
    if not content_type or not content_type.strip():
        return DEFAULT_MIME
    mime = content_type.split(";", 1)[0].strip().lower()
    if len(mime) > MAX_MIME_LENGTH or not _MIME.match(mime):
        raise ChatError(f"Content-Type {content_type[:80]!r} is not a media type",
                        code="bad_request")
    return mime


def served_mime(mime: str) -> str:
    """The Content-Type a download gets: the stored type unless a browser could run it."""
    subtype = mime.partition("/")[2]
    if any(word in subtype for word in _ACTIVE_WORDS):
        return DEFAULT_MIME
    return mime


def content_disposition(name: str) -> str:
    """`attachment` with the file's name: an ASCII fallback and the exact UTF-8 form."""
    fallback = "".join(ch if " " <= ch < "\x7f" and ch not in '"\\%' else "_" for ch in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
