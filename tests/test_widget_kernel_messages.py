"""What one send from the view costs in kernel messages, counted in a real kernel.

Every kernel message crosses ZMQ and the Jupyter server, which spends CPU on
each and relays them one by one, so the `sent` that the view is waiting for
queues behind whatever the send's own path pushed before it. This test plays
the front end over the kernel's own channels (a comm message on shell, as a
view sends it; IOPub read as JupyterLab reads it) and lists what comes back:
it fails when a send syncs traits the views would not draw differently (the
pending flag flipping on and off in a chat without a responder, the chat list
when only its `last_seq` moved), pushes its broadcast beside `sent`, or says
`sending` before a `sent` that came while the request was still handled.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from nbclient.util import run_sync

from chat_widget import demo, widget
from chat_widget.client import ChatClient
from tests.kernels import Kernel

SETTLE_SECONDS = 30  # a kernel-side wait's limit (it ends as soon as its condition holds)

START_CELL = '''
import json, time
import chat_widget.widget
from chat_widget import ChatWidget

chat_widget.widget._ANSWER_WAIT = {answer_wait}

def settle(condition):
    """Wait in the kernel until `condition()` holds: what it caused was published before."""
    deadline = time.monotonic() + {settle}
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    print(json.dumps(bool(condition())))

widgets = {{}}
for chat in ("general", "echo"):
    widgets[chat] = ChatWidget({url!r}, {token!r}, chat)
    settle(lambda: bool(widgets[chat].chat_list) and bool(widgets[chat].member_list))
print(json.dumps({{chat: w.model_id for chat, w in widgets.items()}}))
'''


REPLY_RELEASED = threading.Event()  # the echo chat's responder answers once this is set


def held_echo(message: dict[str, Any]) -> dict[str, Any]:
    """The echo, held until the test lets it answer: its reply then always comes after `sent`.

    (When a reply beats `sent`, the flag was never on for the views and no
    update goes at all; the test pins the usual order instead of racing it.)
    """
    REPLY_RELEASED.wait(SETTLE_SECONDS)
    return {"text": message["text"], "parts": message["parts"]}


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    running = demo.start_server(rate_limit=0, responders={"held_echo": held_echo},
                                chat_responders={"echo": "held_echo"})
    yield running
    running.stop()


class FrontEnd:
    """The kernel's channels as JupyterLab uses them: comm messages out, IOPub in."""

    def __init__(self, kernel: Kernel) -> None:
        self.kc = kernel.client.kc
        self.drain()

    def drain(self) -> None:
        """Forget what IOPub holds so far."""
        while True:
            try:
                run_sync(self.kc.get_iopub_msg)(timeout=0.2)
            except queue.Empty:
                return

    def to_widget(self, model_id: str, content: dict[str, Any]) -> str:
        """A custom message to the widget, as a view's `model.send` makes it; its msg_id."""
        message = self.kc.session.msg("comm_msg", {
            "comm_id": model_id, "data": {"method": "custom", "content": content}})
        self.kc.shell_channel.send(message)
        return str(message["header"]["msg_id"])

    def run(self, code: str) -> str:
        """Run code in the kernel (a cell no one sees); its msg_id."""
        return str(self.kc.execute(code, silent=False, store_history=False))

    def read_until_idle(self, msg_id: str) -> list[dict[str, Any]]:
        """IOPub's messages up to the kernel's idle after request `msg_id`."""
        seen = []
        while True:
            message = run_sync(self.kc.get_iopub_msg)(timeout=SETTLE_SECONDS * 2)
            seen.append(message)
            if (message["msg_type"] == "status"
                    and message["parent_header"].get("msg_id") == msg_id
                    and message["content"]["execution_state"] == "idle"):
                return seen

    def settle(self, condition: str) -> list[dict[str, Any]]:
        """Everything IOPub carried until `condition` held in the kernel (which it must)."""
        seen = self.read_until_idle(self.run(f"settle(lambda: {condition})"))
        printed = "".join(m["content"]["text"] for m in seen if m["msg_type"] == "stream")
        assert json.loads(printed) is True, f"never held in the kernel: {condition}"
        return seen


def label(message: dict[str, Any], request: str) -> str | None:
    """What a kernel message is, for the list; None for the settling cell's own messages."""
    kind, content = message["msg_type"], message["content"]
    if kind == "status":
        parent = message["parent_header"].get("msg_id")
        return f"status {content['execution_state']}" if parent == request else None
    if kind != "comm_msg":
        return None  # the settling cell's input and output
    data = content["data"]
    if data.get("method") == "update":
        return "update " + ",".join(sorted(data["state"]))
    pushed = data.get("content") or {}
    if pushed.get("type") == "event":
        return f"event {pushed['event']['kind']}"
    return str(pushed.get("type"))


def labels(messages: list[dict[str, Any]], request: str, model_id: str) -> list[str]:
    return [text for message in messages
            if message["msg_type"] != "comm_msg" or message["content"]["comm_id"] == model_id
            if (text := label(message, request)) is not None]


def to_views(messages: list[dict[str, Any]], model_id: str, method: str) -> list[Any]:
    """What one widget sent its views: custom messages' content, or updates' state."""
    return [m["content"]["data"].get("content" if method == "custom" else "state")
            for m in messages if m["msg_type"] == "comm_msg"
            and m["content"]["comm_id"] == model_id
            and m["content"]["data"].get("method") == method]


def pushed(messages: list[dict[str, Any]], model_id: str, kind: str) -> list[dict[str, Any]]:
    return [content for content in to_views(messages, model_id, "custom")
            if content.get("type") == kind]


@pytest.fixture(scope="module")
def kernel(server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    with Kernel(Path(tmp_path_factory.mktemp("kernel-messages"))) as running:
        yield running


@contextmanager
def server_held(server: Any) -> Iterator[None]:
    """The chat server's event loop blocked: it answers nothing (no auth fetch, no ack) until
    the block ends, as a server too slow for the comm handler's wait."""
    entered, release = threading.Event(), threading.Event()

    def block() -> None:
        entered.set()
        release.wait(SETTLE_SECONDS)

    server._loop.call_soon_threadsafe(block)
    assert entered.wait(SETTLE_SECONDS), "the server's loop never ran the block"
    try:
        yield
    finally:
        release.set()


def start(kernel: Kernel, server: Any,
          answer_wait: float = SETTLE_SECONDS) -> tuple[FrontEnd, dict[str, str]]:
    """New widgets in the kernel; the comm handler waits up to `answer_wait` s for a send.

    By default that is long enough for any send here, whatever the machine's
    load, so a test of the quick shape never races the wait.
    """
    cell = kernel.run(START_CELL.format(url=server.url, token=server.tokens["alice"],
                                        settle=SETTLE_SECONDS, answer_wait=answer_wait)).ok()
    model_ids: dict[str, str] = json.loads(cell.printed.strip().splitlines()[-1])
    return FrontEnd(kernel), model_ids


def test_a_quick_send_in_a_chat_without_responder_is_busy_sent_idle(
        kernel: Kernel, server: Any) -> None:
    front, model_ids = start(kernel, server)
    model_id = model_ids["general"]
    request = front.to_widget(model_id, {"type": "send", "request_id": "req-1",
                                         "local_id": "js-count-1", "text": "counted",
                                         "stop_typing": "general"})
    seen = front.read_until_idle(request)
    seen += front.settle("not widgets['general']._outbox and {'ack', 'broadcast'} <= "
                         "{e['kind'] for e in widgets['general'].timeline('js-count-1')} "
                         "and widgets['general']._late_timer is None")  # the late steps went
    [sent] = pushed(seen, model_id, "sent")
    seq = sent["message"]["seq"]
    # The chat_activity of this message reached the kernel: Python's chat list has it...
    seen += front.settle(f"any(c['last_seq'] == {seq} for c in widgets['general'].chat_list)")
    order = labels(seen, request, model_id)
    # Stored while the request was handled: `sent` is its answer, as a bare echo's would be.
    assert order[:3] == ["status busy", "sent", "status idle"], order
    assert "sending" not in order, order
    assert sent["request_id"] == "req-1"
    # ...but no trait went to the views: none of what they draw changed.
    assert [text for text in order if text.startswith("update")] == [], order
    assert pushed(seen, model_id, "message") == []  # its broadcast: the views have it from `sent`
    # The timeline's steps the kernel had by then rode on `sent`; the rest came together after.
    assert pushed(seen, model_id, "event") == []
    steps = [event["kind"] for event in sent["events"]]
    steps += [event["kind"] for push in pushed(seen, model_id, "events")
              for event in push["events"]]
    assert sorted(steps) == ["ack", "auth_fetch_start", "auth_fetched", "broadcast", "emit"], steps

    # Someone else's message does change what the views draw: the unread count.
    front.drain()
    with ChatClient(server.url, server.tokens["bob"]) as bob:
        bob.join("general")
        theirs = bob.send("not yours")
    seen = front.settle(f"any(c['last_seq'] == {theirs['seq']} "
                        "for c in widgets['general'].chat_list)")
    assert [m["message"]["id"] for m in pushed(seen, model_id, "message")] == [theirs["id"]]
    updates = to_views(seen, model_id, "update")
    assert any("chat_list" in update for update in updates), updates


def test_in_a_chat_with_a_responder_the_pending_flag_goes_once_just_before_sent(
        kernel: Kernel, server: Any) -> None:
    front, model_ids = start(kernel, server)
    model_id = model_ids["echo"]
    REPLY_RELEASED.clear()
    request = front.to_widget(model_id, {"type": "send", "request_id": "req-2",
                                         "local_id": "js-count-2", "text": "echo me"})
    seen = front.read_until_idle(request)
    # The outbox holds the send from its request on: it is empty once `sent` went.
    seen += front.settle("not widgets['echo']._outbox")
    REPLY_RELEASED.set()
    seen += front.settle("not widgets['echo'].awaiting_response")
    order = labels(seen, request, model_id)
    # The flag the Send button waits on goes once, just before `sent`.
    assert order[:4] == ["status busy", "update awaiting_response", "sent", "status idle"], order
    flags = [state["awaiting_response"] for state in to_views(seen, model_id, "update")
             if "awaiting_response" in state]
    assert flags == [True, False], order  # on before `sent`, off when the reply came


def test_a_send_the_server_holds_is_told_as_sending_at_once_then_sent(
        kernel: Kernel, server: Any) -> None:
    front, model_ids = start(kernel, server, answer_wait=widget._ANSWER_WAIT)
    model_id = model_ids["general"]
    with server_held(server):
        request = front.to_widget(model_id, {"type": "send", "request_id": "req-3",
                                             "local_id": "js-count-3", "text": "held"})
        seen = front.read_until_idle(request)  # the handler returned while the server was held
    seen += front.settle("not widgets['general']._outbox")
    order = labels(seen, request, model_id)
    assert order[:3] == ["status busy", "sending", "status idle"], order
    assert order.count("sent") == 1 and order.index("sent") > 2, order
    [sending] = pushed(seen, model_id, "sending")
    assert (sending["request_id"], sending["local_id"]) == ("req-3", "js-count-3")
    [sent] = pushed(seen, model_id, "sent")  # `sending` answered the request; `sent` needn't
    assert "request_id" not in sent and sent["message"]["text"] == "held"
