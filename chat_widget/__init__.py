"""chat-widget: chat from inside a Jupyter notebook.

`ChatWidget` (the notebook widget) and `ChatClient` (the same without a
widget, for scripts) are imported on first use, so the server process never
loads the widget libraries.
"""

from typing import Any

from .errors import (
    AuthorizationError,
    ChatError,
    InvalidURLError,
    NotConnectedError,
    RateLimitedError,
    ReplyFailedError,
    ReplyTimeoutError,
    ResponsePendingError,
)

__version__ = "0.1.0"

__all__ = [
    "AuthorizationError",
    "ChatClient",
    "ChatError",
    "ChatWidget",
    "InvalidURLError",
    "NotConnectedError",
    "RateLimitedError",
    "ReplyFailedError",
    "ReplyTimeoutError",
    "ResponsePendingError",
    "__version__",
]


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext chat_widget`: the %%chat and %chat_send magics (docs/rich_messages.md)."""
    from .magic import load_ipython_extension as load

    load(ipython)


def __getattr__(name: str) -> Any:
    if name == "ChatClient":
        from .client import ChatClient

        return ChatClient
    if name == "ChatWidget":
        from .widget import ChatWidget

        return ChatWidget
    raise AttributeError(f"module 'chat_widget' has no attribute {name!r}")
