"""What `ChatClient.send` accepts, turned into the protocol's `text` and `parts`.

The one place content is converted: today a str, or a dict with "text" and
"parts" passed through; richer Python objects (tables, images) plug in here.
Checks run before an authorization string is spent on a message the server
would refuse anyway.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from . import protocol
from .errors import ChatError


def content_to_payload(content: Any) -> tuple[str, list[dict[str, Any]]]:
    """`(text, parts)` for `content`; a ChatError (bad_request, too_large) if it can't go."""
    if isinstance(content, str):
        text, parts = content, []
    elif isinstance(content, Mapping):
        text = content.get("text", "")
        parts = content.get("parts") or []
    else:
        raise ChatError(
            f"cannot send a {type(content).__name__}: pass a str or a dict with text and parts",
            code="bad_request",
        )
    text = protocol.message_text(text)
    parts = protocol.message_parts(list(parts) if isinstance(parts, tuple) else parts)
    if not text and not parts:
        raise ChatError("nothing to send: the message is empty", code="bad_request")
    size = len(json.dumps({"text": text, "parts": parts}, ensure_ascii=False).encode("utf-8"))
    if size > protocol.MAX_MESSAGE_BYTES:
        raise ChatError(
            f"the message is larger than {protocol.MAX_MESSAGE_BYTES} bytes", code="too_large"
        )
    return text, parts
