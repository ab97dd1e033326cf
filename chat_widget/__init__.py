"""chat-widget: chat from inside a Jupyter notebook."""

from .errors import (
    AuthorizationError,
    ChatError,
    NotConnectedError,
    RateLimitedError,
    ReplyFailedError,
    ReplyTimeoutError,
    ResponsePendingError,
)

__version__ = "0.1.0"

__all__ = [
    "AuthorizationError",
    "ChatError",
    "NotConnectedError",
    "RateLimitedError",
    "ReplyFailedError",
    "ReplyTimeoutError",
    "ResponsePendingError",
    "__version__",
]
