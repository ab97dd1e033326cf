"""IPython magics that send a cell's result, or any value, to the active chat.

    %load_ext chat_widget            (or chat_widget.magic)

    %%chat [-c CHAT_ID] [CAPTION]    run the cell, send its result
    %chat_send [-c CHAT_ID] EXPRESSION

The result is the cell's last expression, converted like any `send()`
argument (see `chat_widget.content`): a DataFrame arrives as a table, a
figure as an image. A cell whose last line gives nothing (`plt.plot(...);`)
sends the matplotlib figures it opened. CAPTION, if given, is markdown sent
before the result in the same message. The chat is the one chosen with
`use()`, else the most recently created ChatClient or ChatWidget.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

from .active import active, remember, use
from .content import to_content
from .errors import ChatError

__all__ = ["ChatMagics", "active", "load_ipython_extension", "remember", "send_value", "use"]

_OPTIONS = re.compile(r"^\s*(?:(?:-c|--chat)(?:\s+|=)(?P<chat_id>\S+))?\s*(?P<rest>.*)$", re.S)


def send_value(value: Any, chat_id: str | None = None, chat: Any = None) -> Any:
    """Send `value` to `chat` (default: the active chat) and return the stored message.

    The value is converted here, once (before the chat is looked up, so bad
    content fails first); a ChatWidget and a ChatClient pass the converted
    content on as it is.
    """
    content = to_content(value)
    return (chat or active()).send(content, chat_id=chat_id)


def _options(line: str) -> tuple[str | None, str]:
    """`-c CHAT_ID` / `--chat CHAT_ID`, then the rest of the line verbatim."""
    match = _OPTIONS.match(line)
    assert match is not None  # the pattern matches every string
    return match["chat_id"], match["rest"].strip()


@magics_class
class ChatMagics(Magics):
    """`%%chat` and `%chat_send`: the cell's result or a value, to the active chat."""

    @cell_magic
    def chat(self, line: str, cell: str) -> None:
        """Run the cell, then send its result (and an optional caption) to the active chat.

        Usage: %%chat [-c CHAT_ID] [CAPTION]. A cell that raises sends nothing, and the
        magic fails too, so "run all" stops there as it would without the magic.
        """
        chat_id, caption = _options(line)
        before = _open_figures()
        result = self._ipython().run_cell(cell)
        if not result.success:  # its traceback is shown already; fail this cell too
            raise UsageError("%%chat: the cell raised an error, so nothing was sent")
        value = result.result
        if value is None:
            new_figures = [figure for number, figure in _open_figures().items()
                           if number not in before]
            value = new_figures[0] if len(new_figures) == 1 else new_figures or None
        if value is None:
            raise UsageError(
                "%%chat: the cell has no result to send; end it with an expression "
                "(a DataFrame, a figure, some text)"
            )
        self._send([caption, value] if caption else value, chat_id)

    @line_magic
    def chat_send(self, line: str) -> None:
        """Send the value of an expression (a variable, say) to the active chat.

        Usage: %chat_send [-c CHAT_ID] EXPRESSION
        """
        chat_id, expression = _options(line)
        if not expression:
            raise UsageError("%chat_send needs an expression: %chat_send [-c CHAT_ID] EXPRESSION")
        self._send(self._ipython().ev(expression), chat_id)

    def _ipython(self) -> Any:
        """The shell these magics are registered with (always set once registered)."""
        assert self.shell is not None
        return self.shell

    def _send(self, value: Any, chat_id: str | None) -> None:
        try:
            chat = active(self._ipython().user_ns)
        except ChatError as error:
            raise UsageError(error.message) from None
        message = send_value(value, chat_id, chat)
        print(f"Sent to {message.get('chat_id')} as message {message.get('seq')}.")


def _open_figures() -> dict[int, Any]:
    """pyplot's open figures by number (as Jupyter's inline backend finds them to show).

    Empty when pyplot was never imported; read without making any figure current.
    """
    if "matplotlib.pyplot" not in sys.modules:
        return {}
    from matplotlib._pylab_helpers import Gcf

    return {int(manager.num): manager.canvas.figure for manager in Gcf.get_all_fig_managers()}


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics: `%load_ext chat_widget.magic` (or `chat_widget`, once re-exported)."""
    ipython.register_magics(ChatMagics)
