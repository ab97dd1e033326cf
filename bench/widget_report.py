"""The widget path's part of docs/performance.md: its row, its hops, and what was decided."""

from __future__ import annotations

from typing import Any

HOPS = [
    ("keydown_to_comm_send", "Enter → the comm message leaves the page's JavaScript "
     "(the view, anywidget, JupyterLab's kernel connection)"),
    ("comm_send_page_to_network", "page → Chromium's network layer"),
    ("comm_send_to_kernel_busy", "browser → Jupyter server → ZMQ → the kernel's shell thread "
     "takes it (its `status: busy`)"),
    ("sending_pushed", "(count, median of 0 or 1) whether the send had a \"sending\" push: "
     "only one not stored within the comm handler's wait does"),
    ("kernel_busy_to_auth_fetch_start", "the comm handler's outbox entry; the widget's send "
     "thread picks the send up"),
    ("auth_fetch", "step 4: `POST /api/message-auth` (keep-alive HTTP)"),
    ("auth_fetched_to_emit", "the payload built, emitted"),
    ("emit_to_server_store", "Socket.IO to the chat server, checks, the transaction "
     "(`created_at`, whole ms)"),
    ("server_store_to_ack_or_broadcast", "back at the kernel's client: the broadcast or the "
     "ack, whichever is first"),
    ("ack_or_broadcast_to_sent_push", "`ChatClient.send` returns; the widget pushes \"sent\""),
    ("sent_push_kernel_to_browser_network", "the \"sent\" push: kernel → IOPub → ZMQ → Jupyter "
     "server → websocket → Chromium's network layer"),
    ("sent_push_kernel_to_jupyter_server", "… of which: kernel → the Jupyter server's event loop "
     "takes it from ZMQ (the kernel's IOPub thread, ZMQ, the server's loop)"),
    ("sent_push_jupyter_server_to_network", "… and: the Jupyter server → Chromium's network "
     "layer (its rate limits, the websocket write, TCP)"),
    ("sent_push_network_to_page_handler", "network layer → the page's message handler"),
    ("first_push_in_page_to_stored_shown", "the front end draws ✓ stored"),
    ("kernel_busy_to_idle", "(beside the path) the comm handler's whole run, busy → idle"),
    ("kernel_messages_per_send", "(count) kernel messages the page receives per send"),
]


def rows(figures: dict[str, Any]) -> list[str]:
    """The summary table's row for `widget_send_ratio`."""
    widget = figures.get("widget")
    if not widget:
        return []
    shipped, nodelay = widget["shipped"], widget["nodelay"]
    kernel = widget["kernel_chat_client_send"]
    raw = (f"Enter → ✓ stored p50 {shipped['enter_to_stored']['p50_ms']} ms in JupyterLab as "
           f"shipped; floor {widget['floor_ms']} ms = bare anywidget echo with TCP_NODELAY p50 "
           f"{nodelay['echo']['p50_ms']} ms + `ChatClient.send` in the kernel p50 "
           f"{kernel['p50_ms']} ms; echo as shipped p50 {shipped['echo']['p50_ms']} ms; with "
           f"the `chat_widget.jupyter_nodelay` extension Enter → stored p50 "
           f"{nodelay['enter_to_stored']['p50_ms']} ms (ratio "
           f"{widget['widget_send_ratio_nodelay_extension']})")
    return [f"| widget_send_ratio | {widget['widget_send_ratio']} | ≤ 1.2 | {raw} |"]


def section(figures: dict[str, Any]) -> list[str]:
    """The hop-by-hop table and the notes on the widget's path."""
    widget = figures.get("widget")
    if not widget:
        return []
    shipped, nodelay = widget["shipped"], widget["nodelay"]
    lines = [
        "", "## The widget's path", "",
        f"`python -m bench --only widget`, measured {widget.get('when')} (load average "
        f"{widget.get('load_average_1min')} at the end of the run, on 2 cores). Two "
        "JupyterLabs, one as shipped and one with the opt-in extension, one Chromium, one "
        "chat server; samples alternate between them. Each hop is the median over the sends "
        "of the difference between two timestamps: the page's clock (shifted onto Python's: "
        f"offset {shipped['page_clock_offset_ms']} ms, drift over the run "
        f"{shipped['page_clock_drift_ms']} ms), Chromium's network layer (DevTools websocket "
        "frame events), the kernel's message dates, the client's send timeline and the "
        "server's `created_at`. Hops are medians each, so they do not add up exactly to the "
        "p50 of the whole; about a millisecond either way (a negative hop) is the clocks' "
        "calibration (the offset and drift just given).", "",
        "| hop | as shipped p50 ms | with TCP_NODELAY p50 ms | what |",
        "|---|---|---|---|",
    ]
    for key, what in HOPS:
        lines.append(f"| {key} | {shipped['hops_p50_ms'].get(key)} | "
                     f"{nodelay['hops_p50_ms'].get(key)} | {what} |")
    lines += ["", *message_lists(shipped)]
    lines += [
        "",
        "Each kernel message of a send, by its position in the send's burst: ms from the "
        "kernel's message date to Chromium's network layer, and that split at the moment the "
        "Jupyter server's event loop took it from ZMQ (a probe extension loaded in the "
        "benchmark's Labs only, bench/jupyter_probe.py):", "",
        *[f"- {label}, {what}: {part.get(key)}"
          for label, part in (("as shipped", shipped), ("with TCP_NODELAY", nodelay))
          for what, key in (
              ("kernel → network", "kernel_to_network_lag_by_position_p50_ms"),
              ("kernel → Jupyter server", "kernel_to_jupyter_server_lag_by_position_p50_ms"),
              ("Jupyter server → network", "jupyter_server_to_network_lag_by_position_p50_ms"))],
        "",
        f"Jupyter server CPU per kernel message relayed (all its CPU during the measurement "
        f"over the messages): {shipped.get('jupyter_server_cpu_ms_per_kernel_message')} ms as "
        f"shipped, {nodelay.get('jupyter_server_cpu_ms_per_kernel_message')} ms with "
        "TCP_NODELAY.", "",
        "Bare echo: the pong's kernel → network time p50 "
        f"{shipped['echo'].get('pong_kernel_to_network_p50_ms')} ms as shipped, "
        f"{nodelay['echo'].get('pong_kernel_to_network_p50_ms')} ms with TCP_NODELAY; pongs "
        f"that waited over 20 ms: {shipped['echo'].get('pong_waits_over_20ms')} of "
        f"{shipped['echo'].get('pings')} as shipped, "
        f"{nodelay['echo'].get('pong_waits_over_20ms')} of {nodelay['echo'].get('pings')} "
        "with TCP_NODELAY.", "",
        *NOTES,
    ]
    return lines


def message_lists(shipped: dict[str, Any]) -> list[str]:
    """The kernel messages of one send, in order: up to "stored" and with all that follows."""
    typical = shipped.get("kernel_messages_of_a_send") or {}
    caused = shipped.get("kernel_messages_caused_by_a_send") or []
    if not typical:
        return []
    return [
        f"The kernel messages of one send as shipped, in the order the page had them (`→`: the "
        f"page's own; the commonest list, {typical['sends_with_this_list']} of "
        f"{typical['sends']} sends; {typical['received']} received, taken 50 ms after "
        f"✓ stored): " + ", ".join(f"`{m}`" for m in typical["messages"]) + ".", "",
        "All that one send causes, from typing its text (half a second before Enter) to "
        "1.5 s after ✓ stored (the view reports the message read once it saw it): "
        + ", ".join(f"`{m}`" for m in caused) + ".",
    ]


NOTES = [
    "- **Why the bare echo stalls.** A kernel answers a custom message with three small "
    "websocket messages (status busy, the answer, status idle). jupyter_server never sets "
    "TCP_NODELAY on its websockets (read back from a Lab's own sockets: the kernel "
    "websocket has it off as shipped and on with the extension, the events websocket off "
    "either way), so with Nagle's algorithm the answer waits in the server until the "
    "browser acknowledges `busy`, and the browser delays that ACK (up to 40 ms on Linux). "
    "On a quiet machine that is most round trips (the issue measured 46 ms p50 as shipped, "
    "15 ms with TCP_NODELAY); on a loaded one every hop is slower, the ACK is often back "
    "before the next write, and the stall shows in the tail (the pongs that waited over "
    "20 ms, above) more than in the p50.",
    "- **The decision: an opt-in server extension, shipped.** `chat_widget.jupyter_nodelay` "
    "wraps the configured kernel websocket connection class (a gateway's too) so that each "
    "kernel websocket sets TCP_NODELAY when it opens; HTTP, terminals and the other "
    "websockets are left as they are, and so is everything else the connection class does. "
    "It is opt-in because it changes a server-wide behaviour of Jupyter for every kernel, "
    "not only chat widgets: small messages leave at once instead of being coalesced, a few "
    "more packets on a slow link. Enable it for one run with "
    "`jupyter lab --ServerApp.jpserver_extensions=chat_widget.jupyter_nodelay=True`, or for "
    "good with `{\"ServerApp\": {\"jpserver_extensions\": {\"chat_widget.jupyter_nodelay\": "
    "true}}}` in `jupyter_server_config.json` in the Jupyter config folder "
    "(docs/widget.md). Nothing a "
    "widget or a kernel can do reaches the Jupyter server's socket, and a front-end trick "
    "(sending something back to make the browser ACK at once) would cost the kernel a "
    "message per message and was not pursued.",
    "- **What the extension does to the chat widget's send.** Over six quick runs on "
    "2026-12-01 (this shared 2-core machine, load average 9 to 16), when a send was a dozen "
    "kernel messages or more, Enter → stored with the extension was 0.69× to 1.22× of the "
    "same run as shipped: the run-to-run noise was larger than the effect. The \"sending\" "
    "push goes first, so the path's last message seldom waits for an ACK; it waited in a "
    "queue. The lag from the kernel's message date to Chromium's network layer grows along "
    "the burst (the lists above), with or without TCP_NODELAY: the Jupyter server spends "
    "CPU on each message (above) and takes them from ZMQ one by one, and the kernel's IOPub "
    "thread passes them one by one, so on a busy machine a burst drains at the pace those "
    "two processes get the CPU. (Hop medians are taken one by one, so a split's two parts "
    "need not add up to the whole.)",
    "- **The widget's own kernel messages, cut (2026-12-01).** One send from the view was "
    "15 to 18 kernel messages to the page by the time ✓ stored showed, and 22 with what "
    "followed: the typing hints' busy and idle, the pending flag on and off (a chat without "
    "a responder is pending only until the ack), five timeline steps a push each, the own "
    "broadcast beside \"sent\", the chat list's new `last_seq` once per widget in the "
    "kernel, and after the view reported the message read, the chat list again. Now (the "
    "lists above): three up to ✓ stored when the send is stored within 30 ms (the "
    "kernel's busy, \"sent\", idle: the bare echo's shape, since the comm handler waits "
    "that long for the send and answers with \"sent\" itself), and four otherwise (busy, "
    "\"sending\" once the 30 ms are out, idle, \"sent\"); \"sent\" carries the "
    "timeline's steps so far (the rest follow as one `events` push). The pending flag "
    "reaches the views with the outcome; the "
    "chat list goes to the views only when what they draw changes; a send ends its typing "
    "hint itself (the server ends it when the message is stored). docs/widget.md lists the "
    "messages; `tests/test_widget_kernel_messages.py` counts them in a real kernel, and the "
    "browser tests pass unchanged. The benchmark now types the text a pause before Enter, "
    "as a person does, so the typing hint (sent at the first keystroke) is not in the "
    "send's burst; before, it typed and pressed Enter in the same instant. Measured on this "
    "benchmark in alternating quick runs (load average 7 to 25), the widget before: "
    "Enter → stored p50 66 to 93 ms, 15 to 16 messages, widget_send_ratio 3.1 to 5.0; "
    "after: 31 to 55 ms, 5 messages, ratio 1.7 to 2.3.",
    "- **What stands in the way of ≤ 1.2.** Everything that is left on the path is in the "
    "floor too, or is the widget's answer by design. The page → kernel hop "
    "(comm_send_to_kernel_busy) is the echo's own outbound trip; the send inside the "
    "widget (emit, store, ack) is `ChatClient.send` without its authorization fetch: "
    "the widget asks for the string while the user types (`ChatClient.prepare_send` on "
    "the view's typing hint, since 2026-12-02), so auth_fetch is near 0 here where it "
    "was 3 to 4 ms. What is left of the send is slower here than measured alone because "
    "the Jupyter server and the kernel's IOPub thread relay the kernel's busy and idle "
    "on the same two cores at that moment. When the send takes longer than the comm "
    "handler's 30 ms wait, \"sent\" comes back as the fourth message of the burst where the "
    "echo's pong is the second, behind \"sending\" and the kernel's idle (sending_pushed in "
    "the hop table says how often). The wait is bounded on purpose: the view tells a busy "
    "kernel (a running cell) from a slow server by the answer (docs/widget.md, and "
    "tests/test_widget.py checks that the handler answers within 0.1 s when the server is "
    "slow), and the handler holds the kernel's shell thread while it waits. As shipped, the "
    "answer is also the small write that waits for the browser's delayed ACK as the bare "
    "echo's pong does (the floor takes the echo with TCP_NODELAY, the ratio the widget as "
    "shipped). Beside those, the view's own work before the request leaves "
    "(keydown_to_comm_send) and the drawing of ✓ stored, a millisecond or two each. On this "
    "loaded machine the p50 of the whole also carries the variance of every process hop "
    "(the sum of the hop medians is well under it); a quiet machine should show both the "
    "path and the floor lower.",
    "- **On a quicker machine the ratio rose (2026-12-03).** The same machine, some three "
    "times quicker than the day before (a bare Python loop of ten million steps 0.74 s "
    "against 1.8): Enter → stored p50 21.4 ms against 40.6, the floor 11.3 ms against 31.5, "
    "so the ratio went from 1.29 to 1.89 though the path was 19 ms shorter. What the path "
    "has and the floor has not shrank less: the send inside the kernel, from the shell "
    "thread taking the request to `ChatClient.send` returning, was about 4.5 ms of hops "
    "(the handler's hand-over to the send thread 0.76, emit to the server's `created_at` "
    "1.2, from there to the ack or broadcast in the kernel 2.1) where `ChatClient.send` "
    "alone in the kernel, its authorization fetch of about 1 ms included, took 2.3; the "
    "\"sent\" push took 9.9 ms from the kernel to Chromium's network layer where the "
    "echo's pong took 8.7 (as shipped); and the page drew ✓ stored in 1.1 ms. The send's "
    "extra 2 to 3 ms in the kernel is waiting, not the kernel's own work: py-spy on the "
    "kernel through a quick run of this benchmark (500 samples a second for 12 s) took "
    "202 samples, the kernel on the CPU about 3 % of the time, spread over ten threads. "
    "A send from the view crosses five of them (the shell's subshell, the widget's send "
    "thread, engine.io's write loop, its read loop, the client's inbox), each a wake-up "
    "that waits for a core while the Jupyter server and Chromium relay and draw the same "
    "send; `ChatClient.send` timed in a cell crosses four, while nothing else is relayed.",
    "- **Run it:** `python -m bench --quick --only widget --json F` (about a minute: two "
    "JupyterLabs start, two notebooks run); there is no start-up test for it in the test "
    "suite because it does not fit in 30 s. The extension's own test is "
    "`tests/browser/test_nodelay_extension.py`.",
]
