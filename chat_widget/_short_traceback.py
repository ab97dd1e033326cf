"""How a ChatError shows in IPython: its sentence and code, with the full traceback one step away.

An everyday mistake (a bad token, no server, a URL without http://) used to
end in dozens of lines of chained traceback whose last line said little. In
a notebook the error now shows as two lines: what went wrong, with the
protocol's code, and how to see everything. `%tb verbose` (or `%xmode
Verbose` for good) shows the whole chain, because this hook then hands the
work back to IPython's own formatter.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import ChatError

FULL_TRACEBACK_HINT = "(the full traceback: %tb verbose)"


def render(error: ChatError) -> list[str]:
    """The lines IPython shows for `error` (`_render_traceback_`)."""
    formatter = _ipython_formatter()
    if formatter is not None and getattr(formatter, "mode", "") == "Verbose":
        return list(formatter.structured_traceback(type(error), error, error.__traceback__))
    return [f"{type(error).__name__} [{error.code}]: {error.message}", FULL_TRACEBACK_HINT]


def _ipython_formatter() -> Any:
    """The running shell's traceback formatter, if IPython runs this code."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "InteractiveTB", None)
