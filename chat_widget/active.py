"""The active chat: where `%%chat` and `%chat_send` send, without naming a client.

The one chosen with `use()`, else the most recently created ChatClient or
ChatWidget still alive (they `remember()` themselves when built). Objects are
held by weak references, so remembering one never keeps a closed chat alive.
Kept apart from `magic` so that clients can register without importing IPython.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Iterable
from typing import Any

from .errors import ChatError

_created: list[weakref.ref[Any]] = []
_chosen: weakref.ref[Any] | None = None


def remember(chat: Any) -> None:
    """Note a newly created ChatClient or ChatWidget: the newest one is the default chat."""
    _created[:] = [ref for ref in _created if ref() is not None]
    _created.append(weakref.ref(chat))


def use(chat: Any) -> Any:
    """Make `chat` (a ChatClient or ChatWidget) the one the magics send to; None undoes it.

    Returns `chat`, so `chat = use(ChatWidget(...))` reads naturally.
    """
    global _chosen
    if chat is not None and not callable(getattr(chat, "send", None)):
        raise TypeError(f"use() needs a ChatClient or ChatWidget, not {type(chat).__name__}")
    _chosen = None if chat is None else weakref.ref(chat)
    return chat


def active(namespace: dict[str, Any] | None = None) -> Any:
    """The chat to send to: the one `use()` chose, else the newest one created.

    With neither (a client class that does not register itself), the chats
    bound to names in `namespace` (the notebook's variables) are looked at: a
    single one is used, several need `use()` to say which.
    """
    for ref in ([_chosen] if _chosen is not None else []) + _created[::-1]:
        chat = ref()
        if chat is not None:
            return chat
    found = _chats_in(namespace.values() if namespace else ())
    if len(found) == 1:
        return found[0]
    if found:
        raise ChatError(
            "several chats are open: choose one with chat_widget.magic.use(chat)",
            code="bad_request",
        )
    raise ChatError(
        "no chat to send to: create a ChatWidget or a connected ChatClient first",
        code="bad_request",
    )


def _chats_in(values: Iterable[Any]) -> list[Any]:
    """Distinct ChatClients and ChatWidgets among `values`; a widget stands for its client."""
    kinds = tuple(
        getattr(sys.modules.get(module), name)
        for module, name in (("chat_widget.client.session", "ChatClient"),
                             ("chat_widget.widget", "ChatWidget"))
        if module in sys.modules
    )
    chats: dict[int, Any] = {}
    for value in values:
        if kinds and isinstance(value, kinds):
            chats[id(value)] = value
    for chat in list(chats.values()):
        chats.pop(id(getattr(chat, "client", None)), None)
    return list(chats.values())
