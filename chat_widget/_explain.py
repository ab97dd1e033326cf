"""The sentences the client says when it cannot reach a server: what failed, and what to try.

A person reads these in a notebook (as the error, or the widget's error
line), so each names the URL, says what went wrong in words, and suggests
the next step.
"""

from __future__ import annotations

import math
import socket
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from .errors import ChatError, NotConnectedError


def connect_failure(url: str, refusal: dict[str, Any] | None) -> ChatError:
    """Why connecting to `url` failed: the server's refusal, or what stood in the way."""
    if refusal is not None:
        error = ChatError.from_error(refusal, fallback="the server refused the connection")
        if error.code != "unauthorized":
            return error
        return type(error)(
            f"the chat server at {url} refused this token ({error.message}): check the "
            "token; `chat-widget tokens` prints the demo users' tokens", code=error.code)
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        socket.getaddrinfo(host, parts.port or 80)
    except (OSError, UnicodeError):
        return NotConnectedError(
            f"cannot find the host {host!r} of {url}: check the URL's spelling")
    return NotConnectedError(
        f"no chat server answers at {url}: is it running? Start one with "
        "`chat-widget serve --demo`, or check the URL and its port")


def still_reconnecting(urls: Sequence[str], seconds: float, next_delay: float) -> ChatError:
    """The status of a client whose server has been gone for `seconds`."""
    where = urls[0] if len(urls) == 1 else f"any of {', '.join(urls)}"
    return NotConnectedError(
        f"no answer from the chat server at {where} for {duration(seconds)}; still trying, "
        f"next in {duration(next_delay)}", code="disconnected")


def duration(seconds: float) -> str:
    """`seconds` for people, rounded up: 4 s, 2 min 5 s, 1 h 3 min (never "0 s")."""
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"
