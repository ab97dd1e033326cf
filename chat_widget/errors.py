"""Every error chat-widget raises, in one place.

Each carries `.code`: the protocol's error code where the server gave one, or
a client-side code (`not_connected`, `response_pending`, `timeout`,
`disconnected`, `not_sent`) for what happens before or after the wire.
"""

from __future__ import annotations

from typing import Any


class ChatError(Exception):
    """Base of all chat-widget errors; `code` says which kind, in protocol words."""

    default_code = "internal"

    def __init__(self, message: str, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.code = code or self.default_code
        self.message = message
        self.details = details

    @classmethod
    def from_error(
        cls, error: dict[str, Any] | None, fallback: str = "request failed"
    ) -> ChatError:
        """Build the most specific error class for a protocol Error object."""
        error = error if isinstance(error, dict) else {}
        code = str(error.get("code") or "internal")
        message = str(error.get("message") or fallback)
        extra = {k: v for k, v in error.items() if k not in ("code", "message")}
        klass = _CLASS_BY_CODE.get(code, cls if cls is not ChatError else ChatError)
        return klass(message, code=code, **extra)

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def _render_traceback_(self) -> list[str]:
        """IPython's hook: in a notebook this error shows as its sentence, not a traceback."""
        from ._short_traceback import render

        return render(self)


class NotConnectedError(ChatError):
    """An operation needed a live connection and there was none."""

    default_code = "not_connected"


class InvalidURLError(ChatError, ValueError):
    """A chat server URL that cannot work (no http://, no host, a bad port), caught up front."""

    default_code = "bad_request"


class ResponsePendingError(ChatError):
    """A send was refused because an earlier message still awaits its response."""

    default_code = "response_pending"


class AuthorizationError(ChatError):
    """The server refused a token or a message authorization string."""

    default_code = "unauthorized"


class RateLimitedError(ChatError):
    """Too many messages too fast; `retry_after` says how long to wait."""

    default_code = "rate_limited"

    @property
    def retry_after(self) -> float | None:
        return self.details.get("retry_after")


class ReplyTimeoutError(ChatError):
    """No answer came from the responder within the reply timeout."""

    default_code = "timeout"


class ReplyFailedError(ChatError):
    """The server's responder could not answer (`reply_failed`)."""

    default_code = "internal"


_CLASS_BY_CODE: dict[str, type[ChatError]] = {
    "unauthorized": AuthorizationError,
    "forbidden": AuthorizationError,
    "invalid_auth": AuthorizationError,
    "auth_expired": AuthorizationError,
    "auth_reused": AuthorizationError,
    "rate_limited": RateLimitedError,
}


def plain_error(error: BaseException) -> str:
    """An error as one sentence for people: the message without codes or tracebacks."""
    text = error.message if isinstance(error, ChatError) else str(error)
    text = text.strip() or "something went wrong"
    retry_after = error.details.get("retry_after") if isinstance(error, ChatError) else None
    if retry_after:
        text += f"; try again in {float(retry_after):.0f} s"
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
