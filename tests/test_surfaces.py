"""ChatWidget and ChatClient keep one surface: what the docs promise on both works the same on both.

A script written for the client (`for m in x.messages`, `x.send(df)`) must run
unchanged on a widget. Each promised name has a kind on each class: a method
(same signature on both), a read-only property, or, on the widget only, a
synced trait standing where the client has a read-only property (a trait reads
like a property and is also observable and synced to the front end).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import traitlets

from chat_widget import ChatClient, ChatWidget, demo
from tests.client.common import Recorder

ROOT = Path(__file__).resolve().parent.parent

SHARED: dict[str, tuple[str, set[str]]] = {
    # name: (kind on ChatClient, kinds allowed on ChatWidget)
    "send": ("method", {"method"}),
    "wait_for_reply": ("method", {"method"}),
    "on_message": ("method", {"method"}),
    "on_message_updated": ("method", {"method"}),
    "edit": ("method", {"method"}),
    "delete": ("method", {"method"}),
    "react": ("method", {"method"}),
    "close": ("method", {"method"}),
    "upload": ("method", {"method"}),
    "download": ("method", {"method"}),
    "file_link": ("method", {"method"}),
    "search": ("method", {"method"}),
    "messages": ("property", {"property"}),
    "awaiting_response": ("property", {"trait"}),
    "connected": ("property", {"trait"}),
    "chat_id": ("property", {"trait"}),
    "status": ("property", {"trait"}),
    # protocol 1.1: who is here, who is typing, what was read
    "present": ("property", {"property", "trait"}),
    "typing_users": ("property", {"property", "trait"}),
    "set_typing": ("method", {"method"}),
    "mark_read": ("method", {"method"}),
    "chats": ("method", {"method"}),
    "members": ("method", {"method"}),
    "wait_for_mention": ("method", {"method"}),
    "on_presence": ("method", {"method"}),
    "on_typing": ("method", {"method"}),
    "on_activity": ("method", {"method"}),
    "on_read": ("method", {"method"}),
}
"""Every name README.md and docs/widget.md promise on both classes, with its kind."""


def kind_of(cls: type, name: str) -> str:
    """method, property or trait: how `name` is defined on `cls` (or `missing`)."""
    try:
        attribute = inspect.getattr_static(cls, name)
    except AttributeError:
        return "missing"
    if isinstance(attribute, property):
        return "property"
    if isinstance(attribute, traitlets.TraitType):
        return "trait"
    if inspect.isfunction(attribute):
        return "method"
    return type(attribute).__name__


def signature_of(cls: type, name: str) -> list[tuple[str, Any, Any, str]]:
    """A method's parameters after `self`: name, kind, default and annotation (as written)."""
    parameters = list(inspect.signature(getattr(cls, name)).parameters.values())[1:]
    return [(p.name, p.kind, p.default, str(p.annotation)) for p in parameters]


@pytest.mark.parametrize("name", sorted(SHARED))
def test_each_shared_name_has_the_same_kind_on_both(name: str) -> None:
    client_kind, widget_kinds = SHARED[name]
    assert kind_of(ChatClient, name) == client_kind
    assert kind_of(ChatWidget, name) in widget_kinds


@pytest.mark.parametrize("name", sorted(n for n, (k, _) in SHARED.items() if k == "method"))
def test_each_shared_method_has_the_same_signature_on_both(name: str) -> None:
    assert signature_of(ChatWidget, name) == signature_of(ChatClient, name)


def test_the_docs_promise_every_shared_name() -> None:
    """The table above is the docs' list: a name the docs drop or add shows here."""
    api = (ROOT / "docs" / "widget.md").read_text().split("## Python API", 1)[1]
    promised = set(re.findall(r"`(\w+)(?:\([^`]*\))?`", api))
    assert set(SHARED) <= promised, set(SHARED) - promised


@pytest.fixture(scope="module")
def embedded() -> Iterator[Any]:
    server = demo.start_server(rate_limit=0)
    yield server
    server.stop()


def test_a_script_written_for_the_client_runs_on_the_widget(embedded: Any) -> None:
    """The same lines, on a ChatClient and on a ChatWidget, read the same state."""
    client = ChatClient(embedded.url, embedded.tokens["alice"])
    client.connect()
    client.join("general")
    widget = ChatWidget(url=embedded.url, token=embedded.tokens["bob"], chat_id="general")
    try:
        for chat in (client, widget):
            stored = chat.send(f"from {type(chat).__name__}")
            seen = [m["id"] for m in chat.messages]  # iterable, not a method
            assert stored["id"] in seen
            updates = Recorder()
            remove = chat.on_message_updated(updates)
            edited = chat.edit(stored["id"], f"edited on {type(chat).__name__}")
            reacted = chat.react(stored["id"], "👍")
            updates.wait_for(lambda items: len(items) >= 2)
            assert [m["version"] for m in updates.items] == [edited["version"],
                                                              reacted["version"]]
            assert next(m for m in chat.messages if m["id"] == stored["id"]) == reacted
            remove()
            assert chat.connected is True and chat.chat_id == "general"
            assert chat.status == "connected" and chat.awaiting_response is False
            with pytest.raises(AttributeError):
                chat.messages = []  # type: ignore[misc]
        assert widget.messages == widget.client.messages
    finally:
        widget.close()
        client.close()
    assert widget.client.connected is False and client.connected is False


def test_files_and_search_work_the_same_through_the_widget(embedded: Any, tmp_path: Path) -> None:
    widget = ChatWidget(url=embedded.url, token=embedded.tokens["bob"], chat_id="general")
    try:
        source = tmp_path / "widget-notes.txt"
        source.write_text("kept as a file")
        sent = widget.send(source)
        (part,) = sent["parts"]
        assert widget.download(part) == b"kept as a file"
        assert widget.file_link(part).startswith(embedded.url + "/api/files/")
        stored = widget.upload(b"raw", "raw.bin")
        assert widget.download(stored["id"]) == b"raw"
        word = f"widgetword{sent['id'][:8]}"
        said = widget.send(f"look for {word}")
        assert [m["id"] for m in widget.search(word)] == [said["id"]]
    finally:
        widget.close()
