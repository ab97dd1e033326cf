"""ChatWidget against a real chat server: traits, chat switch, pending flag, front-end messages.

The server is the embedded one (`chat_widget.demo.start_server`), its echo chat
answered by a streaming echo this module controls (a gate holds the answer
back, so "awaiting a response" can be checked without racing the bot). There
is no kernel here: each widget's comm is ipywidgets' stand-in, and `Recorder`
captures what would have gone to the front end, byte for byte.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anywidget.experimental
import pytest

import chat_widget.widget
from bench.history import bulk_load
from bench.widget_bytes import CommMeter
from chat_widget import (
    AuthorizationError,
    NotConnectedError,
    ReplyFailedError,
    ResponsePendingError,
    demo,
    magic,
)
from chat_widget.client import ChatClient
from chat_widget.widget import PAGE_SIZE, ChatWidget, _asset

GATE = threading.Event()
"""Open: the echo answers at once. Cleared by a test: the answer waits until it is set."""
GATE.set()


def streaming_echo(message: dict[str, Any]) -> Iterator[str]:
    """The echo chat's responder here: the same text, streamed word by word, once the gate opens."""
    if message["text"].startswith("fail"):
        raise RuntimeError("asked to fail")
    GATE.wait(30)
    yield from re.findall(r"\S+\s*", message["text"])


@pytest.fixture(scope="module")
def embedded() -> Iterator[Any]:
    server = demo.start_server(
        rate_limit=0,
        responders={"streaming_echo": streaming_echo},
        chat_responders={"echo": "streaming_echo"},
    )
    yield server
    server.stop()


@pytest.fixture
def make_widget(embedded: Any) -> Iterator[Callable[..., ChatWidget]]:
    """ChatWidgets on the module's server, closed after the test."""
    made: list[ChatWidget] = []

    def make(user: str = "alice", chat_id: str = "general", server: Any = None) -> ChatWidget:
        server = server or embedded
        widget = ChatWidget(url=server.url, token=server.tokens[user], chat_id=chat_id)
        made.append(widget)
        return widget

    yield make
    for widget in made:
        widget.close()


class Recorder(CommMeter):
    """Every comm message a widget sends to the front end, with its size in bytes."""

    def customs(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The custom messages (of `type` kind), in the order sent."""
        with self.changed:
            return [
                data["content"]
                for data, _ in self.sizes
                if data.get("method") == "custom"
                and (kind is None or data["content"].get("type") == kind)
            ]

    def states(self) -> list[dict[str, Any]]:
        """The trait updates, in the order sent."""
        with self.changed:
            return [data["state"] for data, _ in self.sizes if data.get("method") == "update"]

    def wait_custom(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """The first custom message matching `predicate`, waiting for it if need be."""
        found: list[dict[str, Any]] = []

        def match() -> bool:
            found[:] = [c for c in self._unlocked_customs() if predicate(c)][:1]
            return bool(found)

        with self.changed:
            assert self.changed.wait_for(match, timeout), "the front end never got it"
        return found[0]

    def wait_state(self, name: str, value: Any, timeout: float = 10.0) -> None:
        def seen() -> bool:
            return any(
                data.get("method") == "update" and data["state"].get(name) == value
                for data, _ in self.sizes
            )

        with self.changed:
            assert self.changed.wait_for(seen, timeout), f"{name}={value!r} never synced"

    def mark(self) -> int:
        with self.changed:
            return len(self.sizes)

    def bytes_since(self, mark: int) -> int:
        with self.changed:
            return sum(size for _, size in self.sizes[mark:])

    def _unlocked_customs(self) -> list[dict[str, Any]]:
        return [d["content"] for d, _ in self.sizes if d.get("method") == "custom"]


def wait_for(widget: ChatWidget, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until `predicate()` holds, re-checking on every trait change of `widget`."""
    changed = threading.Condition()

    def notify(_change: Any) -> None:
        with changed:
            changed.notify_all()

    widget.observe(notify)
    try:
        with changed:
            assert changed.wait_for(predicate, timeout), "condition never held"
    finally:
        widget.unobserve(notify)


def front_end_says(widget: ChatWidget, content: dict[str, Any]) -> float:
    """Deliver a custom message as the front end would; returns how long the handler took (s)."""
    started = time.perf_counter()
    widget._handle_custom_msg(content, [])
    return time.perf_counter() - started


# -- connection and chat -------------------------------------------------------


def test_traits_follow_the_connection(server_factory: Callable[..., Any]) -> None:
    server = server_factory()  # its own process, so it can crash and come back
    widget = ChatWidget(url=server.url, token=server.tokens["alice"], chat_id="general")
    recorder = Recorder(widget)
    try:
        assert (widget.status, widget.connected, widget.error) == ("connected", True, "")
        assert (widget.user_id, widget.chat_id) == ("alice", "general")

        server.kill()
        wait_for(widget, lambda: widget.status == "reconnecting")
        assert not widget.connected
        assert widget.error and "[" not in widget.error  # plain words, no error codes
        recorder.wait_state("status", "reconnecting")
        recorder.wait_state("connected", False)
        with pytest.raises(NotConnectedError):
            widget.send("nobody is listening")
        assert widget.error.startswith("Not connected")
        # What a person types meanwhile waits for the link instead of failing.
        front_end_says(widget, {"type": "send", "request_id": "r0", "local_id": "L0",
                                "text": "typed while reconnecting"})

        server_factory(db_url=server.db_url, port=urlsplit(server.url).port)
        wait_for(widget, lambda: widget.connected, timeout=30)
        sent = recorder.wait_custom(lambda c: c["type"] == "sent" and c["local_id"] == "L0",
                                    timeout=30)
        assert sent["message"]["text"] == "typed while reconnecting"
        assert [c for c in recorder.customs("send_failed") if c["local_id"] == "L0"] == []
        assert (widget.status, widget.error) == ("connected", "")
        recorder.wait_state("status", "connected")
        assert widget.send("back again")["text"] == "back again"
    finally:
        widget.close()
    assert widget.client.status == "disconnected"
    assert widget.comm is None


def test_a_refused_token_raises_at_construction(embedded: Any) -> None:
    with pytest.raises(AuthorizationError) as refused:
        ChatWidget(url=embedded.url, token="not-a-token", chat_id="general")
    assert refused.value.code == "unauthorized"


def test_setting_chat_id_switches_chat(
    make_widget: Callable[..., ChatWidget], embedded: Any
) -> None:
    widget = make_widget(chat_id="general")
    recorder = Recorder(widget)
    widget.chat_id = "echo"
    assert widget.client.chat_id == "echo"
    snapshot = recorder.wait_custom(lambda c: c["type"] == "snapshot" and c["chat_id"] == "echo")
    assert snapshot["request_id"] is None  # for every view
    assert all(message["chat_id"] == "echo" for message in widget.messages)

    # The chat left behind keeps arriving in the client, but no longer reaches the view.
    seen = threading.Event()
    widget.on_message(lambda m: seen.set() if m["text"] == "meanwhile in general" else None)
    with ChatClient(embedded.url, embedded.tokens["bob"]) as bob:
        bob.join("general")
        bob.send("meanwhile in general")
        assert seen.wait(10)
    pushed = [c["message"]["text"] for c in recorder.customs("message")]
    assert "meanwhile in general" not in pushed


def test_a_refused_chat_switch_keeps_the_chat_shown(
    make_widget: Callable[..., ChatWidget],
) -> None:
    widget = make_widget(chat_id="general")
    with pytest.raises(AuthorizationError) as refused:
        widget.chat_id = "staff-room"  # carol's workspace, not alice's
    assert refused.value.code == "forbidden"
    assert widget.chat_id == "general" and widget.client.chat_id == "general"
    assert widget.error and not widget.error.startswith("[")
    widget.send("still in general")
    assert widget.error == ""


# -- the pending flag and the responder ------------------------------------------


def test_awaiting_response_flips_and_clears_with_the_echo_chat(
    make_widget: Callable[..., ChatWidget],
) -> None:
    widget = make_widget(chat_id="echo")
    recorder = Recorder(widget)
    GATE.clear()
    try:
        stored = widget.send("anyone there?")
        assert widget.awaiting_response
        recorder.wait_state("awaiting_response", True)
        with pytest.raises(ResponsePendingError):
            widget.send("too soon")
        assert "awaiting its response" in widget.error
    finally:
        GATE.set()
    reply = widget.wait_for_reply(timeout=10)
    assert (reply["text"], reply["reply_to"]) == ("anyone there?", stored["id"])
    wait_for(widget, lambda: not widget.awaiting_response)
    recorder.wait_state("awaiting_response", False)
    assert widget.error == ""


def test_a_streamed_reply_reaches_the_front_end_in_pieces_then_whole(
    make_widget: Callable[..., ChatWidget],
) -> None:
    widget = make_widget(chat_id="echo")
    recorder = Recorder(widget)
    widget.send("one two three")
    reply = widget.wait_for_reply(timeout=10)
    recorder.wait_custom(lambda c: c["type"] == "message" and c["message"]["id"] == reply["id"])
    pushes = recorder.customs()
    deltas = [c["delta"] for c in pushes if c["type"] == "delta"]
    assert [d["id"] for d in deltas] == [reply["id"]] * 3
    assert "".join(d["delta"] for d in sorted(deltas, key=lambda d: d["index"])) == "one two three"
    last_delta = max(i for i, c in enumerate(pushes) if c["type"] == "delta")
    final = next(i for i, c in enumerate(pushes) if c.get("message", {}).get("id") == reply["id"])
    assert last_delta < final


def test_a_failed_reply_is_reported_in_plain_words(make_widget: Callable[..., ChatWidget]) -> None:
    widget = make_widget(chat_id="echo")
    recorder = Recorder(widget)
    stored = widget.send("fail, please")
    with pytest.raises(ReplyFailedError):
        widget.wait_for_reply(timeout=10)
    failed = recorder.wait_custom(lambda c: c["type"] == "reply_failed")
    assert failed["reply_failed"]["reply_to"] == stored["id"]
    wait_for(widget, lambda: not widget.awaiting_response)
    assert widget.error and not widget.error.startswith("[")


# -- front-end messages ----------------------------------------------------------------


def test_a_front_end_send_is_answered_at_once_and_reported_with_its_local_id(
    make_widget: Callable[..., ChatWidget],
) -> None:
    widget = make_widget()
    recorder = Recorder(widget)
    release = threading.Event()
    real_send = widget.client.send

    def slow_send(*args: Any, **kwargs: Any) -> dict[str, Any]:
        release.wait(10)
        return real_send(*args, **kwargs)

    widget.client.send = slow_send  # type: ignore[method-assign]
    took = front_end_says(
        widget, {"type": "send", "request_id": "r1", "local_id": "L1", "text": "typed in a view"}
    )
    assert took < 0.1  # the comm handler does not wait for the server
    sending = recorder.customs("sending")
    assert [(c["request_id"], c["local_id"]) for c in sending] == [("r1", "L1")]
    assert recorder.customs("sent") == []
    release.set()
    sent = recorder.wait_custom(lambda c: c["type"] == "sent" and c["local_id"] == "L1")
    assert sent["message"]["text"] == "typed in a view"
    assert sent["message"]["sender"]["id"] == widget.user_id


def test_a_failed_front_end_send_keeps_its_reason_and_can_be_retried(
    make_widget: Callable[..., ChatWidget],
) -> None:
    widget = make_widget(chat_id="echo")
    recorder = Recorder(widget)
    GATE.clear()
    try:
        widget.send("first")
        front_end_says(widget, {"type": "send", "request_id": "r2", "local_id": "L2",
                                "text": "second"})
        failed = recorder.wait_custom(lambda c: c["type"] == "send_failed")
        assert failed["local_id"] == "L2"
        assert failed["error"]["code"] == "response_pending"
        assert "awaiting its response" in failed["error"]["message"]
        front_end_says(widget, {"type": "sync", "request_id": "r3"})
        snapshot = recorder.wait_custom(lambda c: c.get("request_id") == "r3")
        assert [(e["local_id"], e["state"]) for e in snapshot["outbox"]] == [("L2", "failed")]
    finally:
        GATE.set()
    widget.wait_for_reply(timeout=10)
    wait_for(widget, lambda: not widget.awaiting_response)
    front_end_says(widget, {"type": "send", "request_id": "r4", "local_id": "L2",
                            "text": "second"})
    sent = recorder.wait_custom(lambda c: c["type"] == "sent" and c["local_id"] == "L2")
    assert sent["message"]["text"] == "second"


def test_each_view_starts_from_the_latest_page_and_scrolls_back(
    make_widget: Callable[..., ChatWidget], embedded: Any
) -> None:
    with ChatClient(embedded.url, embedded.tokens["bob"]) as bob:
        bob.join("general")
        for number in range(PAGE_SIZE + 10):
            bob.send(f"history {number}")
    widget = make_widget()
    recorder = Recorder(widget)
    front_end_says(widget, {"type": "sync", "request_id": "view-1"})
    front_end_says(widget, {"type": "sync", "request_id": "view-2"})
    first = recorder.wait_custom(lambda c: c.get("request_id") == "view-1")
    second = recorder.wait_custom(lambda c: c.get("request_id") == "view-2")
    assert {**first, "request_id": None} == {**second, "request_id": None}  # views in step
    assert len(first["messages"]) == PAGE_SIZE and first["has_more"]
    seqs = [m["seq"] for m in first["messages"]]
    assert seqs == sorted(seqs) and seqs[-1] == widget.messages[-1]["seq"]

    front_end_says(widget, {"type": "older", "request_id": "up", "before_seq": seqs[0]})
    # Acknowledged by the handler itself, before the page (loaded by a worker) goes out.
    assert recorder.customs("received")[-1]["request_id"] == "up"
    older = recorder.wait_custom(lambda c: c["type"] == "older" and c["request_id"] == "up")
    kinds = [(c["type"], c.get("request_id")) for c in recorder.customs()]
    assert kinds.index(("received", "up")) < kinds.index(("older", "up"))
    older_seqs = [m["seq"] for m in older["messages"]]
    expected = list(range(max(1, seqs[0] - PAGE_SIZE), seqs[0]))
    assert older_seqs == expected
    assert older["has_more"] == (expected[0] > 1)


# -- changing a message from a view -------------------------------------------------


def test_a_views_edit_reaction_and_delete_reach_every_view_as_stored(
    make_widget: Callable[..., ChatWidget],
) -> None:
    widget = make_widget()
    recorder = Recorder(widget)
    sent = widget.send({"text": "tpyo", "parts": [{"type": "code", "language": "python",
                                                   "text": "x = 1"}]})

    def ask(request_id: str, **request: Any) -> dict[str, Any]:
        took = front_end_says(widget, {"request_id": request_id, "chat_id": "general",
                                       "id": sent["id"], **request})
        assert took < 0.1  # acknowledged by the handler; the server is asked by the worker
        assert recorder.customs("received")[-1]["request_id"] == request_id
        answer = recorder.wait_custom(lambda c: c.get("request_id") == request_id
                                      and c["type"] in ("changed", "change_failed"))
        assert answer["type"] == "changed", answer
        stored = answer["message"]
        # Every view hears the server's broadcast of the same state too.
        recorder.wait_custom(lambda c: c["type"] == "message_updated"
                             and c["message"]["id"] == sent["id"]
                             and c["message"]["version"] == stored["version"])
        return stored

    edited = ask("e1", type="edit", text="typo fixed")
    assert edited["text"] == "typo fixed" and edited["edited_at"]
    assert edited["parts"] == sent["parts"]  # a view edits the text; the parts stay
    reacted = ask("r1", type="react", emoji="🎉", on=True)
    assert reacted["reactions"] == [{"emoji": "🎉", "users": [widget.user_id]}]
    assert reacted["version"] > edited["version"]
    unreacted = ask("r2", type="react", emoji="🎉", on=False)
    assert unreacted["reactions"] == []
    deleted = ask("d1", type="delete")
    assert deleted["deleted"] and deleted["text"] == "" and deleted["parts"] == []
    front_end_says(widget, {"type": "sync", "request_id": "view"})
    snapshot = recorder.wait_custom(lambda c: c.get("request_id") == "view")
    shown = next(m for m in snapshot["messages"] if m["id"] == sent["id"])
    assert shown["deleted"] and shown["version"] == deleted["version"]  # a new view starts there
    assert widget.error == ""


def test_a_refused_change_is_answered_in_one_sentence_with_its_code(
    make_widget: Callable[..., ChatWidget],
) -> None:
    alice, bob = make_widget(), make_widget("bob")
    recorder = Recorder(alice)
    theirs = bob.send("bob's own words")
    recorder.wait_custom(lambda c: c["type"] == "message" and c["message"]["id"] == theirs["id"])
    asked = [
        ("x1", {"type": "edit", "id": theirs["id"], "text": "not yours"}, "forbidden"),
        ("x2", {"type": "delete", "id": theirs["id"]}, "forbidden"),
        ("x3", {"type": "react", "id": theirs["id"], "emoji": "two words"}, "bad_request"),
        ("x4", {"type": "react", "id": "no-such-message", "emoji": "👍"}, "not_found"),
        ("x5", {"type": "react", "id": theirs["id"], "emoji": "👍", "on": "yes"}, "bad_request"),
    ]
    for request_id, request, _code in asked:
        front_end_says(alice, {"request_id": request_id, "chat_id": "general", **request})
    for request_id, request, code in asked:
        failed = recorder.wait_custom(lambda c, r=request_id: c.get("request_id") == r
                                      and c["type"] in ("changed", "change_failed"))
        assert failed["type"] == "change_failed", failed
        assert (failed["action"], failed["id"]) == (request["type"], request["id"])
        assert failed["error"]["code"] == code
        sentence = failed["error"]["message"]
        assert sentence[0].isupper() and sentence.endswith(".") and "\n" not in sentence
    assert alice.error == failed["error"]["message"]
    assert next(m for m in bob.messages if m["id"] == theirs["id"])["text"] == "bob's own words"


def test_appending_a_message_costs_the_same_bytes_at_10_and_10000_messages(
    server_factory: Callable[..., Any], tmp_path: Any,
) -> None:
    def server_with_history(count: int) -> Any:
        """A server whose `general` already holds `count` messages (bulk-loaded)."""
        db_url = f"sqlite:///{tmp_path / f'history-{count}.db'}"
        asyncio.run(bulk_load(db_url, "general", count))
        return server_factory(db_url=db_url)

    def append(server: Any, widget: ChatWidget, text: str) -> tuple[int, int]:
        """Bob sends `text`; returns its seq and the bytes `widget` sent its views for it:
        the message, and the chat list with its new unread count (protocol 1.1)."""
        wait_for(widget, lambda: bool(widget.chat_list) and bool(widget.member_list))
        with ChatClient(server.url, server.tokens["bob"]) as bob:
            bob.join("general")
            wait_for(widget, lambda: "bob" in {user["id"] for user in widget.present})
            recorder = Recorder(widget)
            message = bob.send(text)
            recorder.wait_custom(
                lambda c: c["type"] == "message" and c["message"]["id"] == message["id"], 30
            )

            def counted() -> bool:
                return any(chat["last_seq"] == message["seq"]
                           for data, _ in recorder.sizes if data.get("method") == "update"
                           for chat in data["state"].get("chat_list", []))

            with recorder.changed:
                assert recorder.changed.wait_for(counted, 30), "the unread count never came"
            return message["seq"], recorder.bytes_since(0)

    def measure(history: int) -> tuple[int, int]:
        """alice's widget holding every message so far (as after scrolling up), then one more."""
        server = server_with_history(history)
        widget = ChatWidget(url=server.url, token=server.tokens["alice"], chat_id="general")
        try:
            while widget.client.history(limit=500)["has_more"]:
                pass
            assert len(widget.messages) == history
            seq, sent = append(server, widget, f"appended message {history + 1:05d}")
            assert len(widget.messages) == history + 1
            return seq, sent
        finally:
            widget.close()

    seq_10, bytes_at_10 = measure(9)
    seq_10000, bytes_at_10000 = measure(9_999)
    assert (seq_10, seq_10000) == (10, 10_000)
    print(f"\ncomm bytes per appended message: {bytes_at_10} at 10, {bytes_at_10000} at 10,000")
    assert bytes_at_10 < 1_000
    # The seq's extra digits (in the message, and as last_seq and unread), nothing more.
    assert abs(bytes_at_10000 - bytes_at_10) <= 16


# -- content is data, never markup ------------------------------------------------------


def test_message_text_reaches_the_front_end_as_data_not_html(
    make_widget: Callable[..., ChatWidget],
) -> None:
    widget = make_widget()
    recorder = Recorder(widget)
    markup = '<img src=x onerror="alert(1)"><script>alert(2)</script> & &amp;'
    stored = widget.send(markup)
    pushed = recorder.wait_custom(
        lambda c: c["type"] in ("message", "sent") and c["message"]["id"] == stored["id"]
    )
    assert pushed["message"]["text"] == markup  # unchanged: not escaped, not rendered
    for state in recorder.states():
        assert "<" not in json.dumps(state)


def _front_end_modules() -> list[Path]:
    """The js/ modules the bundle is built from: widget.js and what it imports, transitively."""
    js = Path(__file__).resolve().parent.parent / "js"
    found: list[Path] = []
    pending = [js / "widget.js"]
    while pending:
        module = pending.pop()
        if module in found:
            continue
        found.append(module)
        for name in re.findall(r'^import .*?"\./([\w-]+\.js)";$', module.read_text(), re.M):
            pending.append(js / name)
    return found


def test_the_front_end_never_inserts_html() -> None:
    modules = _front_end_modules()
    assert {m.name for m in modules} >= {"widget.js", "view.js", "markdown.js", "code.js",
                                         "math.js", "parts.js", "state.js", "timeline.js"}
    for module in modules:
        source = module.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                     "new Function", "highlightElement", "highlightAll", "renderToString"):
            assert sink not in source, (module.name, sink)


def test_the_bundled_front_end_is_package_data() -> None:
    bundle = _asset("widget.js")
    assert bundle.parent == Path(chat_widget.widget.__file__).resolve().parent / "static"
    assert "export{" in bundle.read_text().replace(" ", "")  # one ES module, minified
    assert str(ChatWidget._esm) == bundle.read_text()  # what anywidget serves to each view


# -- what may post into the chat ---------------------------------------------------


class CommandWidget(ChatWidget):
    """A ChatWidget with an anywidget command, which replies through `self.send`."""

    @anywidget.experimental.command
    def ping(self, msg: Any, buffers: list[bytes]) -> tuple[Any, list[bytes]]:
        return {"pong": msg}, [b"raw bytes"]


def test_anywidget_command_replies_reach_the_front_end_never_the_chat(
    embedded: Any, make_widget: Callable[..., ChatWidget]
) -> None:
    widget = CommandWidget(url=embedded.url, token=embedded.tokens["alice"], chat_id="general")
    try:
        recorder = Recorder(widget)
        watcher = make_widget("bob")
        before = widget.client.messages[-1]["seq"] if widget.client.messages else 0
        front_end_says(widget, {"id": "c1", "kind": "anywidget-command", "name": "ping",
                                "msg": {"question": 1}})
        widget.send({"type": "custom", "note": "ipywidgets' form"}, [])
        replies = [c for c in recorder.customs() if c.get("kind") == "anywidget-command-response"]
        assert replies == [{"id": "c1", "kind": "anywidget-command-response",
                            "response": {"pong": {"question": 1}}}]
        assert {"type": "custom", "note": "ipywidgets' form"} in recorder.customs()
        assert recorder.customs("sending") == [] and recorder.customs("sent") == []
        marker = watcher.send("the next message in the chat")
        assert marker["seq"] == before + 1  # nothing was stored in between
        wait_for(widget, lambda: marker["id"] in [m["id"] for m in widget.messages])
        assert [m["seq"] for m in widget.messages if m["seq"] > before] == [marker["seq"]]
    finally:
        widget.close()


class CountedReport:
    """An object with a rich repr that counts how often it is converted."""

    def __init__(self) -> None:
        self.conversions = 0

    def _repr_markdown_(self) -> str:
        self.conversions += 1
        return "**report**"


def test_content_is_converted_once_per_send_whichever_way_it_comes(
    make_widget: Callable[..., ChatWidget],
) -> None:
    widget = make_widget()
    senders = {
        "ChatWidget.send": widget.send,
        "ChatClient.send": widget.client.send,
        "%%chat": lambda report: magic.send_value(report, chat=widget),
    }
    for way, send in senders.items():
        report = CountedReport()
        stored = send(report)
        assert stored["parts"] == [{"type": "markdown", "text": "**report**"}], way
        assert report.conversions == 1, way
