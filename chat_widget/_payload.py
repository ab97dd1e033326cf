"""What `ChatClient.send` accepts, turned into the protocol's `text` and `parts`.

The one place content is converted: a str is the message text, a dict with
"text" and/or "parts" is protocol content passed through as given, and every
other object (a DataFrame, a figure, a list mixing them...) is converted by
`content.to_parts`. Checks run before an authorization string is spent on a
message the server would refuse anyway.
"""

from __future__ import annotations

import json
from typing import Any

from . import content as rich
from . import protocol
from .errors import ChatError


def content_to_payload(content: Any) -> tuple[str, list[dict[str, Any]]]:
    """`(text, parts)` for `content`; a ChatError (bad_request, too_large) if it can't go."""
    if isinstance(content, str):
        text, parts = content, []
    elif rich.is_protocol_content(content):
        text = content.get("text", "")
        parts = content.get("parts") or []
    else:
        text, parts = rich.to_parts(content)
    text = protocol.message_text(text)
    parts = protocol.message_parts(list(parts) if isinstance(parts, tuple) else parts)
    if not text and not parts:
        raise ChatError("nothing to send: the message is empty", code="bad_request")
    size = len(json.dumps({"text": text, "parts": parts}, ensure_ascii=False).encode("utf-8"))
    if size > rich.MAX_CONTENT_BYTES:
        raise ChatError(
            f"the message is {size:,} bytes; a message holds at most "
            f"{protocol.MAX_MESSAGE_BYTES:,} bytes (1 MiB, with about {rich.ENVELOPE_BYTES:,} "
            "kept for the chat id and authorization): send fewer rows (df.head(n)), a "
            "smaller image, or split it into several messages",
            code="too_large",
        )
    return text, parts
