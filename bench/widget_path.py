"""The widget's own path: Enter in the page to "stored" in the page, against its two floors.

One run, one chat server (`chat-widget serve --demo`), one Chromium, two
JupyterLabs: one as shipped, one with the opt-in `chat_widget.jupyter_nodelay`
server extension (TCP_NODELAY on its kernel websockets). Each Lab's notebook
shows a bare anywidget echo (the front end sends a custom message, Python
answers at once from the handler) and a ChatWidget as alice. Samples
alternate between the four (echo and widget send, in each Lab), a person's
pause apart, so both conditions see the same machine.

- (a) echo p50, with and without TCP_NODELAY: the floor of any widget's round trip;
- (b) the ChatWidget's Enter -> "✓ stored" p50, in the page (MEASURE_SEND_JS);
- (c) `ChatClient.send` p50 in the kernel, measured by bench.latency's own code
  (before that kernel's widget exists; the other Lab's widget is in another chat).

`widget_send_ratio` = (b, as shipped) / ((a, TCP_NODELAY) + (c)). The hops
of (b) come from the kernel websocket's frames, recorded in the page with
their arrival time, Chromium's network layer's time for each (DevTools),
the time the Jupyter server took each from ZMQ (bench/jupyter_probe.py, in
these Labs only), and the timestamps inside them (the kernel's message
dates, the client's send timeline, the server's `created_at`): see `hops`.
Each send's kernel messages are listed in order (`message_list`), and one
last send's with all that follows it, the read marker included.
"""

from __future__ import annotations

import base64
import json
import os
import statistics
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from . import jupyter_probe
from .jupyter import (
    DEEP_QUERY_JS,
    MEASURE_SEND_JS,
    REPO,
    JupyterLab,
    NotebookPage,
    launch_chromium,
    open_notebook_page,
    start_jupyterlab,
    write_notebook,
)
from .processes import chat_server, prepare_rooms
from .stats import percentile

NODELAY_EXTENSION = "--ServerApp.jpserver_extensions=chat_widget.jupyter_nodelay=True"
"""How a user turns the shipped extension on for one run (docs/performance.md)."""

ECHO_CELL = '''
import json, os
import anywidget

class Echo(anywidget.AnyWidget):
    """Answers each front-end message at once, from the comm handler."""
    _esm = """
    export default { render({ model, el }) {
      let waiting = null;
      model.on("msg:custom", (content) => { if (waiting) waiting(content); });
      el.classList.add("bench-echo");
      el.textContent = "echo";
      el.ping = (n) => new Promise((resolve) => {
        const started = performance.now();
        waiting = () => { waiting = null; resolve(performance.now() - started); };
        model.send({ type: "ping", n });
      });
    } };
    """

    def __init__(self):
        super().__init__()
        self.on_msg(lambda widget, content, buffers: widget.send({**content, "type": "pong"}))

Echo()
'''

KERNEL_SEND_CELL = '''
from bench.latency import chat_client_send
samples = chat_client_send(os.environ["CHAT_WIDGET_URL"], os.environ["CHAT_WIDGET_TOKEN"], {count})
open({path!r}, "w").write(json.dumps(samples))
print("kernel sends timed")
'''

WIDGET_CELL = '''
from chat_widget import ChatWidget
widget = ChatWidget(os.environ["CHAT_WIDGET_URL"], os.environ["CHAT_WIDGET_TOKEN"], {chat_id!r})
widget
'''

READY_CELL = 'print("bench ready")'

TYPE_JS = """
([index, text]) => {
""" + DEEP_QUERY_JS + """
  const input = deepQueryAll('.cw-root')[index].querySelector('.cw-input');
  input.value = text;
  input.dispatchEvent(new Event('input'));
}
"""
"""Types a message's text into a widget's box without sending it (the typing hint goes out)."""

CLOCK_JS = "() => performance.timeOrigin + performance.now()"
PING_JS = "(n) => document.querySelector('.bench-echo').ping(n)"

RECORD_FRAMES_JS = """
(() => {
  const Native = window.WebSocket;
  const frames = [];
  const now = () => performance.timeOrigin + performance.now();
  window.__frames = frames;
  window.__recordFrames = false;
  class Recorded extends Native {
    constructor(...args) {
      super(...args);
      this.__kernel = String(args[0]).includes('/channels');
      // Added before JupyterLab's own handler: the time is the frame's arrival.
      this.addEventListener('message', (event) => {
        if (!window.__recordFrames || !this.__kernel) return;
        frames.push({ out: false, t: now(), data: event.data });
      });
    }
    send(data) {
      if (window.__recordFrames && this.__kernel) frames.push({ out: true, t: now(), data });
      super.send(data);
    }
  }
  window.WebSocket = Recorded;
})();
"""
"""Records every kernel websocket frame (either way) with its epoch-ms time, while switched on."""

TAKE_FRAMES_JS = """
() => {
  const text = new TextDecoder();
  const decode = (data) => {
    if (typeof data === 'string') return JSON.parse(data);
    const view = new DataView(data);  // v1.kernel.websocket.jupyter.org: offsets, then parts
    const count = Number(view.getBigUint64(0, true));
    const offsets = [];
    for (let i = 0; i < count; i++) offsets.push(Number(view.getBigUint64(8 * (i + 1), true)));
    const part = (i) => text.decode(new Uint8Array(data, offsets[i], offsets[i + 1] - offsets[i]));
    return { channel: part(0), header: JSON.parse(part(1)), parent_header: JSON.parse(part(2)),
      content: JSON.parse(part(4)) };
  };
  const taken = window.__frames.splice(0).map((frame) => {
    const message = decode(frame.data);
    const data = (message.content && message.content.data) || {};
    return { out: frame.out, t: frame.t, id: message.header.msg_id, channel: message.channel,
      type: message.header.msg_type, date: message.header.date,
      parent: (message.parent_header || {}).msg_id || null,
      state: (message.content || {}).execution_state || null, data };
  });
  return taken;
}
"""
"""The recorded frames, decoded (legacy JSON or the v1 binary protocol), and forgotten."""


class NetworkTimes:
    """When Chromium's network layer sent or received each kernel message, by msg_id.

    From the DevTools protocol's websocket frame events: their timestamps are
    the browser's monotonic clock (CLOCK_MONOTONIC, as Python's), taken before
    the page's main thread sees the frame, so they split "on the wire" from
    "waiting for the page's JavaScript".
    """

    def __init__(self, page: Any) -> None:
        self.to_wall_ms = (time.time() - time.monotonic()) * 1000.0
        self.times: dict[str, float] = {}
        self.at_server: dict[str, float] = {}  # msg_id -> when the Jupyter server took it
        self.session = page.context.new_cdp_session(page)
        self.session.on("Network.webSocketFrameReceived", self._frame)
        self.session.on("Network.webSocketFrameSent", self._frame)
        self.session.send("Network.enable")

    def _frame(self, event: dict[str, Any]) -> None:
        msg_id = kernel_msg_id(event["response"])
        if msg_id:
            self.times[msg_id] = event["timestamp"] * 1000.0 + self.to_wall_ms


def kernel_msg_id(frame: dict[str, Any]) -> str | None:
    """The msg_id of a kernel websocket frame as the DevTools protocol gives it (text or base64)."""
    try:
        if frame["opcode"] == 1:
            return str(json.loads(frame["payloadData"])["header"]["msg_id"])
        data = base64.b64decode(frame["payloadData"])
        count = int.from_bytes(data[:8], "little")
        offsets = [int.from_bytes(data[8 * (i + 1):8 * (i + 2)], "little") for i in range(count)]
        return str(json.loads(data[offsets[1]:offsets[2]])["msg_id"])
    except (KeyError, ValueError, IndexError, TypeError):
        return None  # not a kernel message (a ping, another protocol)


def _epoch_ms(stamp: str) -> float:
    """An ISO 8601 / RFC 3339 time (a kernel message's date, a stored message's created_at)."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000.0


def _push(frame: dict[str, Any]) -> dict[str, Any]:
    """What a widget's custom message carries (ipywidgets wraps it in {method, content})."""
    if frame["type"] != "comm_msg" or frame["data"].get("method") != "custom":
        return {}
    content = frame["data"].get("content")
    return content if isinstance(content, dict) else {}


def _push_of(frame: dict[str, Any], kind: str) -> bool:
    return _push(frame).get("type") == kind


def hops(frames: list[dict[str, Any]], keydown: float,
         stored: float) -> dict[str, float] | None:
    """One send's path as elapsed ms between its timestamps, from the frames recorded for it.

    Clocks: the page's (`performance.timeOrigin + now()`, already shifted onto
    Python's by the measured offset), the kernel's message dates and the
    client's timeline (`time.time()`), the server's `created_at` (whole
    milliseconds): one machine, one wall clock.
    """
    request = next((f for f in frames if f["out"] and _push_of(f, "send")), None)
    if request is None:
        return None
    local_id = _push(request).get("local_id")
    mine = [f for f in frames if not f["out"]]
    # The kernel's busy and idle around the send request itself (not a typing hint's).
    busy = next((f for f in mine if f["state"] == "busy" and f["parent"] == request["id"]), None)
    idle = next((f for f in mine if f["state"] == "idle" and f["parent"] == request["id"]), None)
    sending = next((f for f in mine if _push_of(f, "sending")), None)
    sent = next((f for f in mine if _push_of(f, "sent") and _push(f).get("local_id") == local_id),
                None)
    # Older widgets pushed their own broadcast beside "sent"; now "sent" alone carries it.
    broadcast = next((f for f in mine if _push_of(f, "message")
                      and _push(f)["message"].get("client_id") == local_id), sent)
    steps = [event for f in mine for event in (
        [_push(f)["event"]] if _push_of(f, "event") else _push(f).get("events") or [])]
    events = {event["kind"]: event["t"] * 1000.0 for event in steps
              if event.get("client_id") == local_id}
    needed = ("auth_fetch_start", "auth_fetched", "emit")
    if not (busy and idle and sent and broadcast) or not all(
            k in events for k in needed) or None in (request["net"], sent["net"], sent["server"]):
        return None
    stored_at = _epoch_ms(_push(sent)["message"]["created_at"])
    # The client counts the send stored at the ack or at its own broadcast, whichever is first.
    back = min(events.get("ack", float("inf")), events.get("broadcast", float("inf")))
    first_push = min(sent["t"], broadcast["t"])
    marks = [
        ("keydown_to_comm_send", keydown, request["t"]),
        ("comm_send_page_to_network", request["t"], request["net"]),
        ("comm_send_to_kernel_busy", request["t"], _epoch_ms(busy["date"])),
        # A send stored within the comm handler's wait has no "sending" (busy, sent, idle).
        ("sending_pushed", 0.0, 0.0 if sending is None else 1.0),
        ("kernel_busy_to_auth_fetch_start", _epoch_ms(busy["date"]), events["auth_fetch_start"]),
        ("auth_fetch", events["auth_fetch_start"], events["auth_fetched"]),
        ("auth_fetched_to_emit", events["auth_fetched"], events["emit"]),
        ("emit_to_server_store", events["emit"], stored_at),
        ("server_store_to_ack_or_broadcast", stored_at, back),
        ("ack_or_broadcast_to_sent_push", back, _epoch_ms(sent["date"])),
        ("sent_push_to_page", _epoch_ms(sent["date"]), sent["t"]),
        ("sent_push_kernel_to_browser_network", _epoch_ms(sent["date"]), sent["net"]),
        ("sent_push_kernel_to_jupyter_server", _epoch_ms(sent["date"]), sent["server"]),
        ("sent_push_jupyter_server_to_network", sent["server"], sent["net"]),
        ("sent_push_network_to_page_handler", sent["net"], sent["t"]),
        ("first_push_in_page_to_stored_shown", first_push, stored),
        ("kernel_busy_to_idle", _epoch_ms(busy["date"]), _epoch_ms(idle["date"])),
        ("kernel_messages_per_send", 0.0, float(len(mine))),
    ]
    return {name: round(end - start, 3) for name, start, end in marks}


def message_label(frame: dict[str, Any], parents: dict[str, str]) -> str:
    """What one kernel websocket frame is, in a word or two, for the list of a send's messages.

    `→` marks the page's own messages to the kernel; a status names the request
    it belongs to (`parents`: msg_id -> label of the page's message).
    """
    if frame["out"]:
        push = _push(frame)
        return f"→ {push.get('type') or frame['type']}"
    if frame["type"] == "status":
        return f"status {frame['state']} ({parents.get(frame['parent'] or '', 'other')})"
    data = frame["data"]
    if frame["type"] == "comm_msg" and data.get("method") == "update":
        return "update " + ",".join(sorted(data.get("state") or {}))
    push = _push(frame)
    if push.get("type") == "event":
        return f"event {push['event'].get('kind')}"
    if push:
        return str(push.get("type"))
    return str(frame["type"])


def message_list(frames: list[dict[str, Any]]) -> list[str]:
    """Every kernel websocket message of one send, either way, in the page's order."""
    parents = {f["id"]: str(_push(f).get("type") or f["type"]) for f in frames if f["out"]}
    return [message_label(frame, parents) for frame in frames]


def lag_by_position(frames: list[dict[str, Any]], start: str = "date",
                    end: str = "net") -> list[float]:
    """From one timestamp of each kernel message to another, ms, in arrival order.

    `date` is the kernel's, `server` when the Jupyter server took it from ZMQ,
    `net` when Chromium's network layer had it. A lag that grows along a
    burst is a queue, not the wire.
    """
    def at(frame: dict[str, Any], key: str) -> float | None:
        return _epoch_ms(frame["date"]) if key == "date" else frame[key]

    lags = []
    for frame in frames:
        begin, finish = at(frame, start), at(frame, end)
        if not frame["out"] and begin is not None and finish is not None:
            lags.append(round(finish - begin, 3))
    return lags


def _median_hops(samples: list[dict[str, float]]) -> dict[str, float]:
    return {name: round(statistics.median(s[name] for s in samples), 3) for name in samples[0]}


def _median_lags(lags: list[list[float]]) -> list[float]:
    """Per position in a send's burst, the median lag over the sends that had that many."""
    longest = max((len(one) for one in lags), default=0)
    return [round(statistics.median(one[i] for one in lags if len(one) > i), 3)
            for i in range(longest)]


def _typical(lists: list[list[str]]) -> dict[str, Any]:
    """The commonest message list of a send (its messages in order) and how many sends had it."""
    if not lists:
        return {}
    counted = Counter(tuple(one) for one in lists)
    common, times = counted.most_common(1)[0]
    return {"messages": list(common), "received": sum(1 for m in common if not m.startswith("→")),
            "sends_with_this_list": times, "sends": len(lists)}


def _stall_share(frames_per_ping: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """For the echo: how long the pong waited between the kernel and the page."""
    waits, wire = [], []
    for frames in frames_per_ping:
        pong = next((f for f in frames if not f["out"] and _push_of(f, "pong")), None)
        if pong is not None:
            waits.append(pong["t"] - _epoch_ms(pong["date"]))
            if pong["net"] is not None:
                wire.append(pong["net"] - _epoch_ms(pong["date"]))
    if not waits:
        return {}
    return {"pong_kernel_to_page_p50_ms": round(percentile(waits, 0.5), 3),
            "pong_kernel_to_network_p50_ms": round(percentile(wire, 0.5), 3) if wire else None,
            "pong_waits_over_20ms": sum(1 for w in waits if w > 20), "pings": len(waits)}


def _summary(samples_ms: list[float]) -> dict[str, Any]:
    return {"p50_ms": round(percentile(samples_ms, 0.5), 3),
            "p90_ms": round(percentile(samples_ms, 0.9), 3),
            "min_ms": round(min(samples_ms), 3), "n": len(samples_ms)}


def run(samples: int = 30, kernel_sends: int = 200, pause: float = 0.1) -> dict[str, Any]:
    """The widget path's figures; `pause` (untimed) is a person's time between sends."""
    from playwright.sync_api import sync_playwright

    began = time.perf_counter()

    def stage(what: str) -> None:
        print(f"  widget path: {what} at {time.perf_counter() - began:.1f} s", flush=True)

    folder = Path(tempfile.mkdtemp(prefix="chat-widget-widget-path-"))
    kernel_out = folder / "kernel_sends.json"
    cells = {
        "shipped": [ECHO_CELL, KERNEL_SEND_CELL.format(count=kernel_sends, path=str(kernel_out)),
                    WIDGET_CELL.format(chat_id="general"), READY_CELL],
        # A chat of its own: neither Lab's kernel gets the other's messages.
        "nodelay": [ECHO_CELL, WIDGET_CELL.format(chat_id="room-0"), READY_CELL],
    }
    probe = "--ServerApp.jpserver_extensions=bench.jupyter_probe=True"
    extra = {"shipped": (probe,), "nodelay": (probe, NODELAY_EXTENSION)}
    probe_files = {name: str(folder / f"{name}-probe.log") for name in cells}
    with chat_server(prepare=lambda db_url: prepare_rooms(db_url, 2)) as info:
        env = {**os.environ, "CHAT_WIDGET_URL": info["url"],
               "CHAT_WIDGET_TOKEN": info["tokens"]["alice"],
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO),
                                                           os.environ.get("PYTHONPATH")]))}

        def start(name: str) -> JupyterLab:
            root = folder / name / "notebooks"
            root.mkdir(parents=True)
            write_notebook(root / "bench.ipynb", cells[name])
            return start_jupyterlab(root, {**env, jupyter_probe.PROBE_FILE: probe_files[name]},
                                    extra_args=extra[name])

        labs: dict[str, JupyterLab] = {}
        try:
            with ThreadPoolExecutor(2) as starting:
                futures = {name: starting.submit(start, name) for name in cells}
            labs.update((name, future.result()) for name, future in futures.items()
                        if future.exception() is None)  # stopped below, even if one failed
            for future in futures.values():
                future.result()
            stage("JupyterLabs up")
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                pages = {name: open_notebook_page(browser, lab.url("lab/tree/bench.ipynb"),
                                                  60_000, before_load=_record_frames, wait=False)
                         for name, lab in labs.items()}
                for notebook in pages.values():
                    notebook.wait_for_kernel()
                stage("notebooks open, kernels idle")
                for notebook in pages.values():
                    notebook.run_all()
                for notebook in pages.values():
                    _wait_ready(notebook)
                stage("cells run")
                results = _measure(pages, labs, samples, pause, probe_files)
                stage("measured")
                browser.close()
        finally:
            with ThreadPoolExecutor(2) as stopping:
                list(stopping.map(JupyterLab.stop, labs.values()))
    kernel = [s * 1000.0 for s in json.loads(kernel_out.read_text())]
    return _figures(results, kernel)


def _wait_ready(notebook: NotebookPage) -> None:
    """Until the last cell printed; a cell's error shows in the exception."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        notebook.wait_for_output("bench ready", timeout=180)
    except PlaywrightTimeout:
        outputs = notebook.page.locator(".jp-OutputArea-output").all_inner_texts()
        raise RuntimeError(f"the benchmark's notebook did not finish: {outputs}") from None


def _record_frames(page: Any) -> None:
    page.add_init_script(RECORD_FRAMES_JS)


def clock_offset_ms(page: Any, readings: int = 20) -> float:
    """The page's clock minus Python's `time.time()`, from the tightest of a few readings."""
    best = (float("inf"), 0.0)
    for _ in range(readings):
        before = time.time() * 1000.0
        in_page = page.evaluate(CLOCK_JS)
        after = time.time() * 1000.0
        best = min(best, (after - before, in_page - (before + after) / 2))
    return best[1]


def _on_python_clock(frames: list[dict[str, Any]], offset: float,
                     network: NetworkTimes) -> list[dict[str, Any]]:
    """The page's times shifted onto Python's clock, with the network layer's time as `net`."""
    return [{**frame, "t": frame["t"] - offset, "net": network.times.get(frame["id"]),
             "server": network.at_server.get(frame["id"])} for frame in frames]


def _type(page: Any, index: int, text: str, pause: float) -> None:
    """A person types the text, then pauses before Enter: the typing hint is not in the send's
    burst (it goes at the first keystroke, seconds before Enter, for a person)."""
    page.evaluate(TYPE_JS, [index, text])
    time.sleep(pause)


def _messages_caused(page: Any, text: str, settle: float = 1.5) -> list[str]:
    """Every kernel message one send causes, in order, from typing its text to the late ones.

    The measured sends take their frames 50 ms after "stored"; what comes later
    (the read marker the view reports once it saw the message, and what that
    syncs) shows only here, `settle` seconds on.
    """
    time.sleep(settle)
    page.evaluate("() => { window.__frames.length = 0; window.__recordFrames = true; }")
    _type(page, 0, text, 0.5)
    page.evaluate(MEASURE_SEND_JS, [0, text])
    time.sleep(settle)
    frames = page.evaluate(TAKE_FRAMES_JS)
    page.evaluate("() => { window.__recordFrames = false; }")
    return message_list(frames)


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(pages: dict[str, NotebookPage], labs: dict[str, JupyterLab], samples: int,
             pause: float, probe_files: dict[str, str]) -> dict[str, Any]:
    """Echo and widget send, in each Lab in turn, `samples` times (after 5 untimed rounds)."""
    results: dict[str, Any] = {
        name: {"echo": [], "send": [], "hops": [], "lags": [], "kernel_lags": [],
               "server_lags": [], "echo_frames": [], "frames": 0, "lists": []}
        for name in pages}
    cpu_before = {name: _cpu_seconds(lab.process.pid) for name, lab in labs.items()}
    offsets = {name: clock_offset_ms(notebook.page) for name, notebook in pages.items()}
    network = {name: NetworkTimes(notebook.page) for name, notebook in pages.items()}
    recorded: dict[str, list[tuple[float, float, list[dict[str, Any]]]]] = {
        name: [] for name in pages}
    for round_ in range(samples + 5):
        for name, notebook in pages.items():
            page, result = notebook.page, results[name]
            time.sleep(pause)
            page.evaluate("() => { window.__frames.length = 0; window.__recordFrames = true; }")
            echo = page.evaluate(PING_JS, round_)
            echo_frames = page.evaluate(TAKE_FRAMES_JS)
            time.sleep(pause)
            text = f"widget path {name} {round_}"
            _type(page, 0, text, pause)
            page.evaluate("() => { window.__frames.length = 0; }")
            send = page.evaluate(MEASURE_SEND_JS, [0, text])
            keydown = page.evaluate("() => window.__sendStartedAt")
            time.sleep(0.05)  # the pushes after "stored" (the broadcast, the timeline) land
            frames = page.evaluate(TAKE_FRAMES_JS)
            page.evaluate("() => { window.__recordFrames = false; }")
            if round_ < 5:
                continue
            result["echo"].append(echo)
            result["echo_frames"].append(echo_frames)
            result["frames"] += len(frames) + len(echo_frames)
            result["send"].append(send)
            recorded[name].append((keydown - offsets[name], send, frames))
    for name, notebook in pages.items():  # one more send, with all that follows it
        results[name]["full_list"] = _messages_caused(notebook.page, f"widget path {name} last")
    for name, result in results.items():  # now that every network event has come in
        network[name].at_server = jupyter_probe.read(probe_files[name])
        result["echo_frames"] = [_on_python_clock(frames, offsets[name], network[name])
                                 for frames in result["echo_frames"]]
        for keydown, send, frames in recorded[name]:
            path = hops(_on_python_clock(frames, offsets[name], network[name]), keydown,
                        keydown + send)
            result["lists"].append(message_list(frames))
            if path is not None:
                result["hops"].append(path)
                shifted = _on_python_clock(frames, offsets[name], network[name])
                result["lags"].append(lag_by_position(shifted))
                result["kernel_lags"].append(lag_by_position(shifted, "date", "server"))
                result["server_lags"].append(lag_by_position(shifted, "server", "net"))
    for name, lab in labs.items():  # the Jupyter server's CPU per kernel message it relayed
        cpu = _cpu_seconds(lab.process.pid) - cpu_before[name]
        results[name]["server_cpu_ms_per_message"] = round(
            cpu * 1000.0 / max(1, results[name]["frames"]), 3)
    for name, notebook in pages.items():  # the clocks' drift over the run, for the record
        results[name]["clock_offset_ms"] = round(offsets[name], 3)
        results[name]["clock_drift_ms"] = round(clock_offset_ms(notebook.page) - offsets[name], 3)
    return results


def _figures(results: dict[str, Any], kernel_ms: list[float]) -> dict[str, Any]:
    echo_nodelay = percentile(results["nodelay"]["echo"], 0.5)
    kernel_p50 = percentile(kernel_ms, 0.5)
    floor = echo_nodelay + kernel_p50
    figures: dict[str, Any] = {
        "widget_send_ratio": round(percentile(results["shipped"]["send"], 0.5) / floor, 3),
        "widget_send_ratio_nodelay_extension": round(
            percentile(results["nodelay"]["send"], 0.5) / floor, 3),
        "floor_ms": round(floor, 3),
        "kernel_chat_client_send": _summary(kernel_ms),
    }
    for name, result in results.items():
        figures[name] = {
            "echo": {**_summary(result["echo"]), **_stall_share(result["echo_frames"])},
            "enter_to_stored": _summary(result["send"]),
            "hops_p50_ms": _median_hops(result["hops"]) if result["hops"] else {},
            "hops_n": len(result["hops"]),
            "kernel_messages_of_a_send": _typical(result["lists"]),
            "kernel_messages_caused_by_a_send": result["full_list"],
            "kernel_to_network_lag_by_position_p50_ms": _median_lags(result["lags"]),
            "kernel_to_jupyter_server_lag_by_position_p50_ms": _median_lags(
                result["kernel_lags"]),
            "jupyter_server_to_network_lag_by_position_p50_ms": _median_lags(
                result["server_lags"]),
            "jupyter_server_cpu_ms_per_kernel_message": result["server_cpu_ms_per_message"],
            "page_clock_offset_ms": result["clock_offset_ms"],
            "page_clock_drift_ms": result["clock_drift_ms"],
        }
        figures[f"{name}_echo_samples_ms"] = [round(v, 3) for v in result["echo"]]
        figures[f"{name}_enter_to_stored_samples_ms"] = [round(v, 3) for v in result["send"]]
    figures["kernel_send_samples_ms"] = [round(v, 3) for v in kernel_ms]
    figures["load_average_1min"] = round(os.getloadavg()[0], 2)
    figures["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return figures


if __name__ == "__main__":
    import sys

    figures = run(int(sys.argv[1]) if len(sys.argv) > 1 else 30,
                  pause=float(sys.argv[2]) if len(sys.argv) > 2 else 0.1)
    print(json.dumps({k: v for k, v in figures.items() if not k.endswith("_samples_ms")},
                     indent=1, default=str))
