"""A chat server URL checked before any connection is tried.

python-socketio and requests reject a malformed URL late and obscurely
("hostname is invalid", "Connection error"); the checks here say what is
wrong with it, and how it should look, before anything goes on the wire.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .errors import InvalidURLError

EXAMPLE = "http://127.0.0.1:8765"


def checked_url(url: object) -> str:
    """`url` without a trailing slash, or `InvalidURLError` saying what is wrong with it."""
    if not isinstance(url, str):
        raise InvalidURLError(
            f"a chat server URL is a string like {EXAMPLE!r}, not {type(url).__name__}")
    text = url.strip().rstrip("/")
    if "://" not in text:
        raise InvalidURLError(f"the server URL {url!r} has no scheme: write 'http://{text}'")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in ("ws", "wss"):
        secure = "s" if scheme == "wss" else ""
        raise InvalidURLError(
            f"write the server URL {url!r} with http{secure}:// (the client opens the "
            f"websocket itself): 'http{secure}://{text.split('://', 1)[1]}'")
    if scheme not in ("http", "https"):
        raise InvalidURLError(
            f"the server URL {url!r} starts with {parts.scheme}://; it should start with "
            f"http:// or https://, like {EXAMPLE!r}")
    host = parts.hostname or ""
    if not host or any(character.isspace() for character in host):
        raise InvalidURLError(
            f"the server URL {url!r} has no valid host: write it like {EXAMPLE!r}")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 0 < port < 65536:
        raise InvalidURLError(
            f"the port in the server URL {url!r} is not a number from 1 to 65535")
    return text
