"""The example responders' first name: they live in `chat_widget.server.examples` now.

Kept so that `--responder general=chat_widget.responders_examples:analyze`,
written before the move, still loads the same function.
"""

from .server.examples import analyze, describe, numbers_in, plot, stream_words

__all__ = ["analyze", "describe", "numbers_in", "plot", "stream_words"]
