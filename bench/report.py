"""Turn the benchmark's figures into docs/performance.md and docs/performance.png."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import scale_report, widget_report

DOCS = Path(__file__).resolve().parent.parent / "docs"


def plot(figures: dict[str, Any], path: Path) -> None:
    """Latency distributions and the fan-out curve, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    latency = figures.get("latency", {})
    for label, key in (("ChatClient.send", "chat_client_send_samples_ms"),
                       ("raw protocol send", "raw_protocol_send_samples_ms"),
                       ("floor: emit+ack + GET", "floor_emit_get_samples_ms"),
                       ("floor: emit+ack", "floor_emit_samples_ms")):
        samples = latency.get(key)
        if samples:
            ordered = sorted(samples)
            left.plot(ordered, [i / len(ordered) for i in range(len(ordered))], label=label)
    left.set_xscale("log")
    left.set_xlabel("round trip (ms, log scale)")
    left.set_ylabel("fraction of sends")
    left.set_title("Send round trip, cumulative")
    left.legend(fontsize=8)
    curve = figures.get("fanout", {}).get("curve", {})
    if curve:
        sizes = sorted(curve, key=int)
        for label, kind in (("chat server", "chat"), ("bare python-socketio", "bare")):
            right.plot([int(s) for s in sizes],
                       [curve[s][kind]["deliveries_per_server_cpu_s"] for s in sizes],
                       marker="o", label=label)
        node = figures["fanout"].get("node_100")
        if node:
            right.scatter([100], [node["deliveries_per_server_cpu_s"]], color="black",
                          label="bare Node socket.io (100)")
        right.set_xscale("log")
        right.set_xlabel("clients in the chat")
        right.set_ylabel("deliveries per second of server CPU")
        right.set_title("Fan-out")
        right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


PROFILE_NOTES = [
    "Profiled with py-spy on the server process under the latency and fan-out loads "
    "(`py-spy record -p PID -f raw`), and with cProfile on the service in-process.",
    "",
    "- **Send round trip.** A send is the floor's two round trips plus what the chat "
    "itself needs: the SQLite transaction that spends the authorization nonce, checks "
    "the client_id, takes the next seq and inserts (about 0.25 ms, of which raw sqlite3 "
    "needs about 0.2 ms; it runs on the event loop's thread since handing it to a worker "
    "thread cost more than the SQL), checking the signature and the payload, and a "
    "larger ack plus the message's broadcast back to the sender. The ChatClient's own "
    "bookkeeping (one lock, the timeline, the callback thread) adds a little over the raw "
    "protocol client. Its HTTP requests resolve the environment's proxies and CA bundle "
    "once per server (`client/http.py`): requests' default reads them, and ~/.netrc, on "
    "every request, 0.1 to 0.25 ms of CPU a request here, which the floor's plain "
    "`requests.Session` GET still pays. The authorization request is prepared once per "
    "chat and sent again (preparing was about 0.1 ms of a 0.58 ms fetch); the client's "
    "websocket skips websocket-client's pure-Python UTF-8 check of each text frame (about "
    "60 µs a frame, which the floor's client still pays; the strict decode after it "
    "refuses the same bytes) (2026-12-04). Timed hop by "
    "hop over 300 sends that day (perf_counter marks in the client and the server), the "
    "send's 0.72 ms over the floor was about 0.44 ms in the server's websocket round trip "
    "(the SQLite transaction 0.21 ms where raw sqlite3 needs 0.09, the checks, the "
    "broadcast's flush one loop pass after the commit), 0.13 ms in the message-auth "
    "route, and the rest the client's hand-offs and bookkeeping. "
    "Fetching the authorization string ahead (`prefetch_auth=True`) "
    "takes the HTTP round trip off the path; the transaction and the broadcast remain, "
    "which is why the stretch goal (1.2 x a bare emit-with-ack, which stores nothing) is "
    "out of reach for a durable send.",
    "- **Fan-out.** A broadcast's websocket frame is built once and written straight to "
    "each plain websocket's transport, and every frame a connection is due in one "
    "event-loop pass leaves in one `transport.write` (`server/frame_writer.py`); engine.io's "
    "queue, its writer task per connection and aiohttp's frame building per receiver are "
    "skipped where nothing could tell (long-polling, permessage-deflate, a queue holding "
    "packets, a slow reader over its high-water mark, a closing socket keep the queue). "
    "Per frame written the chat server now spends well under the bare python-socketio "
    "server (fanout_100_frame_ratio), so the chat_activity frame the protocol adds per "
    "message no longer puts the ratio under 0.8. `chat_activity` frames are lazy on this "
    "path: they wait up to 0.5 s for the connection's next write, so here each rides out "
    "with the next `message` frame (one write per message per listener, not two; the "
    "order of each connection's frames is kept), and over Redis a message's "
    "`chat_activity` to the whole workspace is one pub/sub message, not one per member. "
    "Each message's counts are carried forward from the last event's "
    "(`server/member_counts.py`), and the store tells of each message as its commit "
    "returns (`Store.on_created`): told any later, a burst of sends made every event "
    "recount every member's unread messages in full, a cost that grew with the chat's "
    "length and left the chat_activity task behind the sender. Node's socket.io spends "
    "about half of "
    "our CPU per delivery. Browsers offer permessage-deflate, which aiohttp accepts, so a "
    "browser connected straight to the chat server takes the queue path; the widget's "
    "clients (python-socketio in the kernel) do not offer it.",
    "- **Heartbeat.** engine.io pings each connection from a task of its own per ping, "
    "sweeps timeouts with a `wait_for` per connection, and reads and writes each packet "
    "through a task wrapped in `wait_for`. One queue of due pings, a sweep of the "
    "connections awaiting a pong (`server/heartbeat.py`) and read and write loops on "
    "`asyncio.timeout` (`server/websocket_loop.py`, for connections that open as "
    "websockets) took the idle CPU at 5,000 connections from 0.345 to 0.13 of a core "
    "(alternating runs on one quiet machine); what is left is mostly the ping frame's own "
    "write system call.",
    "- **Throughput (8 and 64 senders in one chat).** Sends that arrive while a commit is "
    "in flight share the next one (`server/group_commit.py`; on PostgreSQL one group in "
    "flight per chat). A PostgreSQL group is two statements (`server/postgres_sends.py`: "
    "one spends the nonces and looks up the client_ids, one takes the seqs and inserts), "
    "and a connection back in the pool within 0.2 s is not pinged, so a group waits on 4 "
    "round trips, not 7; small reads run in autocommit. On SQLite the hot statements run "
    "straight on sqlite3 once compiled (`server/direct.py`). What is left at 8 senders: "
    "SQLite's COMMIT, aiohttp's request handling of the authorization strings, and the "
    "fan-out, which the bare server pays too. Protocol 1.1 sends every listener a "
    "`chat_activity` after each stored message, two events where the floor sends one, "
    "and here the senders, which listen too, share the two cores with the server: the "
    "bare server sending the same two events (`bare_same_events`) managed 59 % of its "
    "own rate at 8 senders and 52 % at 64 on 2026-12-03 (full counts), and against that "
    "floor the chat server on SQLite measured 0.98 at 8 senders and 1.05 at 64 "
    "(PostgreSQL 0.74 and 1.05; on 2026-12-02, before the send groups gathered, SQLite "
    "0.85 and 1.08, PostgreSQL 0.58 and 1.03). PostgreSQL's own processes spent 300 to "
    "420 µs of CPU a message at 8 senders (`perf record` on them): planning about 18 % "
    "(each execution of a prepared statement is planned again for its arrays; generic "
    "plans, tried with "
    "`plan_cache_mode`, cost more, 566 against 305 µs), the WAL's fdatasync at each "
    "commit 9 %, the index inserts 8 %.",
    "- **Fixed on 2026-12-02 (second round):** a PostgreSQL send group's check for "
    "repeated client_ids read every message of the chat: with no statistics on the chat "
    "(a new database, or a chat new since the last ANALYZE) the planner filtered the "
    "chat's rows rather than probe the unique index, a cost growing with the chat "
    "(2,000 rows read for a group of three at 2,000 messages; now 3, "
    "`tests/server/test_send_round_trips.py`). The unique index now leads with the chat "
    "and the client_id (migration 0006) and each client_id is one probe. In alternating "
    "5-second runs at 8 senders PostgreSQL went from 779 and 710 to 931 and 756 "
    "messages/s; the longer the run, the longer the chat and the larger the gain.",
    "- **Server CPU per message** (one listener, `bench/cpu.py`; py-spy on the server, "
    "SQLite, about 0.85 ms a message on 2026-12-02): the store path about 28 % (SQLite's "
    "COMMIT 11 %, the insert with its indexes and the search index's trigger 9 %: a "
    "send's commit writes some 19 pages to the WAL, 8 of them the FTS5 index's), "
    "aiohttp's request handling (the authorization string's HTTP request) about a sixth, "
    "chat_activity about 7 % (one read of the members' markers per group of messages, "
    "`server/member_counts.py`), frame writes 6 %, the authorization route's handler "
    "2 %; the event loop and python-socketio's dispatch most of the rest. The bare "
    "server does none of the store, the HTTP request or chat_activity. The chat's own "
    "checks are a few per cent: users and memberships come from memory "
    "(`server/caches.py`, at most 5 s old), the authorization string's signature is "
    "checked with its HMAC key derived once, and packets skip python-socketio's search "
    "for bytes (`server/packets.py`). On PostgreSQL (8 senders) SQLAlchemy's asyncio "
    "layer over asyncpg (its greenlet and cursor adapter) is about 30 % of the samples.",
    "- **Fixed on 2026-12-02 from the profile:** the store now tells of each message as "
    "its commit returns (`Store.on_created`); told after the broadcast, a burst of sends "
    "made nearly every chat_activity recount every member's unread messages in full "
    "(`members_fields`, 14 % of the samples, growing with the chat), and the events "
    "lagged the sender. The members' markers are read in one autocommit statement "
    "(no BEGIN IMMEDIATE and COMMIT, `Database.read_statement`), once for all the "
    "messages waiting for their events. A SQLite group's nonces and client_ids are "
    "each looked up with a statement run on the driver, not one list SQLAlchemy expands "
    "and compiles per group. One listener's CPU per message went from 1,510 to about "
    "800 µs, PostgreSQL's at 8 senders from about 1,440 to 1,020 µs.",
    "- **Fixed on 2026-12-03: a send group gathers before it commits.** At one listener "
    "with eight sends in flight, a SQLite commit held 1.4 sends on average: a send is "
    "several event-loop passes from its websocket frame to the store (python-socketio "
    "starts a task per event, the handler checks the authorization string), so a group "
    "committed on the pass after its first send, while the sends read with it were "
    "still on their way, and each of those paid a commit of its own. A group now lets "
    "the loop run four passes first (`SEND_GATHER_PASSES`, `server/group_commit.py`; "
    "no timer, so a lone send on an idle loop waits microseconds): 3.2 sends a commit, "
    "the chat server's CPU per message 0.72 to 0.52 ms and its rate 1,300 to 1,800 "
    "messages/s in that layout (alternating runs; 2 passes gave 0.55 ms, 8 gave 0.51). "
    "PostgreSQL at 8 senders went from 664, 714 and 725 to 779, 858 and 799 messages/s "
    "in alternating 4-second runs. A lone `ChatClient.send` p50 moved within the runs' "
    "noise (2.19 to 2.47 ms either way).",
    "- **Where a message's CPU goes now (2026-12-03, one listener, SQLite, py-spy; about "
    "520 µs a message against the bare server's 220):** the store path about 39 %, the "
    "authorization string's HTTP request 22 % (the bare server's keep-alive GET is a "
    "third of its own 220 µs, about 75), frame writes 11 %, python-socketio's dispatch "
    "10 %, chat_activity 5 to 8 % (the server without it measured 2.12 to 2.19 against "
    "2.37 to 2.40 with it), the event loop itself the rest. The store's SQL measured "
    "alone on raw sqlite3 with the server's schema (groups of three sends, 2,000 "
    "groups): 84 to 101 µs of CPU a message, of which the search index's insert "
    "trigger 35 to 42 (its `message_search_ids` row 14, the FTS5 insert the rest: FTS5 "
    "writes a segment per transaction); FTS5's `columnsize=0`, `detail=column` and "
    "`detail=none` each stayed within 5 % of it. A WAL checkpoint runs about every 170 "
    "messages inside a commit (p50 commit 23 µs a message, mean 72), on the event loop. "
    "The bare server does none of the store, the HTTP request or chat_activity.",
    "- **Fixed on 2026-12-03: the search index takes new messages in batches (SQLite, "
    "migration 0007).** The same raw-sqlite3 measurement with the insert trigger "
    "dropped and the index caught up every 64 messages in a transaction of its own: 72 "
    "and 73 µs a message against 100 and 102 with the trigger and 59 and 60 with no "
    "index at all. Each chat's `indexed_seq` says how far it is indexed; every search "
    "catches up the chats it covers first, so it finds every stored message, and the "
    "store indexes a chat's batch once 64 of its messages wait (`server/search.py`, "
    "`server/search_backlog.py`). Server CPU per message at one listener, alternating "
    "runs against the previous commit (the bare server 256 to 286 µs in them): 584, "
    "634, 620 µs before, 566, 577, 587 after, about 5 % less.",
    "- **PostgreSQL's throughput is the machine's cores (2026-12-03, 8 senders):** the "
    "load generator used 0.69 of a core, the chat server 0.67 and PostgreSQL's processes "
    "0.67, together the machine's two cores; the bare server's floor has no database "
    "process at all. In the chat server the send group's statements are about a fifth "
    "of its samples (asyncpg's bind and execute 11 %, BEGIN and COMMIT about 5 %), so "
    "one statement instead of four round trips would save a few per cent of one of "
    "the three.",
    "- **Done on the profile's word:** statements built once instead of per call, the "
    "SQLite writer on the loop with its connection held, a reply index in the client's "
    "message log (a scan of the whole log per send showed as latency growing with "
    "history), uvloop (measured against asyncio in the same layout).",
    "- **Not done:** permessage-deflate is left as aiohttp negotiates it (browsers offer "
    "it; those connections take engine.io's queue path, above). A PostgreSQL send group "
    "could be one statement (one round trip) by writing the group's checks a second time "
    "in SQL; not done.",
    "- **Tried on SQLite's settings and dropped (2026-12-02, evening; alternating runs of "
    "the one-listener CPU measurement):** with the search trigger dropped altogether "
    "(an upper bound, not a choice) the ratio went from 2.89 and 2.75 to 2.46 and 2.52, "
    "about 12 % of the chat server's CPU per message; FTS5's `automerge` at 0 or 16 "
    "instead of 4, `wal_autocheckpoint=10000` and `mmap_size` at 256 MiB each stayed "
    "within the runs' own spread (base 2.62 to 2.84 over three rounds, each variant "
    "2.42 to 2.84). None is kept. chat_activity's cost does not grow with the run: 3- and "
    "12-second runs measured the same CPU per message.",
    "- **2026-12-04, the JSON the server still wrote with the json module:** the store's "
    "JSON columns (SQLAlchemy's `json_serializer`, and PostgreSQL's arrays of them), the "
    "authorization string's payload and the 1 MiB check now go through orjson "
    "(`json_text.py`; the check measures orjson's compact text first and the json "
    "module's only within three times of the limit). In alternating quick runs of the "
    "one-listener CPU measurement: 2.06 and 2.00 before, 1.86 and 1.92 after. What is "
    "left is spread thin (py-spy, one listener): aiohttp's handling of the "
    "authorization request about 15 % (its route 5 %), the send group's transaction "
    "10 % (SQLite's COMMIT, which writes the WAL, is most of its wall time), frame "
    "writes 9 %, python-socketio's dispatch 9 %, chat_activity 5 %; no other piece of "
    "our code above 2 %.",
    "- **Tried on the client and taken back (2026-12-04):** handling each packet on the "
    "thread that reads the websocket instead of handing it to the inbox thread saved "
    "about 0.1 ms of a send (p50 1.40, 1.35, 1.75, 1.50 ms against 1.60, 1.42, 1.53, "
    "1.70 in alternating runs), but a clean-clone run failed the busy-kernel widget test "
    "once with that change, under extra load, its send stuck; not reproduced, so it is "
    "out until that is understood. Also dropped: yielding the GIL after each "
    "handled packet (`time.sleep(0)`, so a caller woken by a settled send runs first): "
    "ChatClient.send p50 1.77, 1.66, 2.03, 1.68 ms without against 1.84, 2.30, 1.74, "
    "2.05 with, in alternating runs on one server.",
]


def _row(name: str, value: Any, goal: str, raw: str) -> str:
    return f"| {name} | {value} | {goal} | {raw} |"


def _throughput_rows(part: dict[str, Any]) -> list[str]:
    """`throughput_<n>_ratio` for each sender count: the lower store's, both stores beside."""
    rows = []
    for count in sorted((key for key in part if key.isdigit()), key=int):
        result = part[count]
        stores = "; ".join(f"{name} {store['chat_messages_per_s']}/s ({store['throughput_ratio']})"
                           for name, store in result["stores"].items())
        same_events = ""
        if "bare_same_events_messages_per_s" in result:
            over_same = ", ".join(f"{name} {store['throughput_ratio_same_events']}"
                                  for name, store in result["stores"].items())
            same_events = (f"; the same with a `chat_activity` event after each message "
                           f"{result['bare_same_events_messages_per_s']}/s ({over_same})")
        rows.append(_row(f"throughput_{count}_ratio", part[f"throughput_{count}_ratio"], "≥ 0.9",
                         f"{count} senders, one chat: {stores}; bare python-socketio "
                         f"{result['bare_messages_per_s']}/s{same_events}"))
    return rows


def markdown(figures: dict[str, Any]) -> str:
    lat = figures.get("latency", {})
    fan = figures.get("fanout", {})
    comm = figures.get("comm", {})
    hist = figures.get("history", {})
    mem = figures.get("memory", {})
    lines = [
        "# Performance",
        "",
        f"Measured {figures.get('when')} on {figures.get('machine')} (2 cores), Python "
        f"{figures.get('python')}{' (quick run)' if figures.get('quick') else ''}. "
        "Regenerate with `python -m bench --json docs/performance.json --report` "
        "(`--quick` takes about 5 minutes on 2 cores). Every figure is a ratio to a floor "
        "measured in the same run, on the same machine; raw numbers beside it."
        + (f" The scale part: {figures['scale_measured']}." if figures.get("scale_measured")
           else "")
        + "".join(f" The {part} part: {how}." for part, how in
                  figures.get("parts_measured_apart", {}).items()),
        "",
        "![latency and fan-out](performance.png)",
        "",
        "| figure | value | goal | raw |",
        "|---|---|---|---|",
    ]
    lines += _throughput_rows(figures.get("throughput", {}))
    if lat:
        floor = lat["floors"]
        lines.append(_row(
            "send_p50_ratio", lat["send_p50_ratio"], "≤ 1.3 (stretch: ≤ 1.2 of emit+ack)",
            f"ChatClient.send p50 {lat['chat_client_send']['p50_ms']} ms, p99 "
            f"{lat['chat_client_send']['p99_ms']} ms; floor emit+ack+GET p50 "
            f"{floor['emit_ack_plus_get']['p50_ms']} ms; emit+ack p50 "
            f"{floor['emit_ack']['p50_ms']} ms"))
        prefetched = lat["chat_client_send_prefetch"]["p50_ms"]
        lines.append(_row(
            "send_p50_ratio, prefetch_auth=True",
            round(prefetched / floor["emit_ack_plus_get"]["p50_ms"], 3), "≤ 1.3",
            f"the same floor; the string for the next send fetched after each send "
            f"(5 ms think time between sends, untimed); p50 {prefetched} ms"))
        if "prefetch_send_ratio" in lat:
            commit = floor["sqlite_commit"]
            lines.append(_row(
                "prefetch_send_ratio", lat["prefetch_send_ratio"], "≤ 1.2",
                f"ChatClient(prefetch_auth=True).send p50 {prefetched} ms over emit+ack p50 "
                f"{floor['emit_ack']['p50_ms']} ms + the commit's own floor, a raw sqlite3 "
                f"WAL commit of a send's rows: p50 {commit['p50_ms']} ms, p99 "
                f"{commit['p99_ms']} ms"))
        if "prefetch_send_ratio_same_pause" in lat:
            lines.append(_row(
                "prefetch_send_ratio, floor after the same think time",
                lat["prefetch_send_ratio_same_pause"], "(context)",
                f"the floor's emits also 5 ms apart: emit+ack p50 "
                f"{floor['emit_ack_after_pause']['p50_ms']} ms (back to back "
                f"{floor['emit_ack']['p50_ms']} ms) + the commit's floor"))
        lines.append(_row(
            "prefetch: send p50 over emit+ack", lat["prefetch_send_p50_over_emit_ack"],
            "≤ 1.2 (stretch)",
            f"ChatClient(prefetch_auth=True).send p50 "
            f"{lat['chat_client_send_prefetch']['p50_ms']} ms, p99 "
            f"{lat['chat_client_send_prefetch']['p99_ms']} ms"))
    cpu = figures.get("cpu", {})
    if cpu:
        lines.append(_row(
            "server_cpu_per_message_ratio", cpu["server_cpu_per_message_ratio"], "≤ 2.0",
            f"server CPU per message at one listener: chat {cpu['chat_cpu_us_per_message']} µs "
            f"vs bare python-socketio {cpu['bare_cpu_us_per_message']} µs; without "
            f"chat_activity {cpu['server_cpu_per_message_ratio_without_chat_activity']}"
            + (f"; median of {len(cpu['rounds'])} rounds, each against the same round's "
               f"floor: {[r['server_cpu_per_message_ratio'] for r in cpu['rounds']]}"
               if cpu.get("rounds") else "")))
    if fan:
        c100 = fan["curve"].get("100") or fan["curve"].get(100)
        rounds = fan.get("fanout_100_rounds", [])
        if c100:
            lines.append(_row(
                "fanout_100_ratio", fan["fanout_100_ratio"], "≥ 0.8",
                f"chat {c100['chat']['deliveries_per_server_cpu_s']} vs bare "
                f"{c100['bare']['deliveries_per_server_cpu_s']} deliveries per server-CPU "
                f"second ({c100['chat']['server_cpu_us_per_delivery']} vs "
                f"{c100['bare']['server_cpu_us_per_delivery']} µs per delivery); median of "
                f"{len(rounds) or 1} rounds, each ratio against the same round's floor: "
                f"{[r['ratio'] for r in rounds] or [fan['fanout_100_ratio']]}"
                f" (load average {c100['chat'].get('load_average')})"))
        if "fanout_100_frame_ratio" in fan and c100:
            lines.append(_row(
                "fanout_100_frame_ratio", fan["fanout_100_frame_ratio"],
                "(cost per frame written)",
                f"every frame counted, message and chat_activity: chat "
                f"{c100['chat']['frames_per_server_cpu_s']} vs bare "
                f"{c100['bare']['frames_per_server_cpu_s']} frames per server-CPU second; "
                f"the chat server writes one chat_activity frame per message frame here "
                f"(load average {c100['chat'].get('load_average')})"))
        if "fanout_100_ratio_without_chat_activity" in fan:
            quiet = fan["chat_100_without_chat_activity"]
            lines.append(_row(
                "fanout_100_ratio_without_chat_activity",
                fan["fanout_100_ratio_without_chat_activity"], "(cost of chat_activity)",
                f"the same chat server started without its chat_activity events: "
                f"{quiet['deliveries_per_server_cpu_s']} deliveries per server-CPU second"))
        if "node_fanout_100_ratio" in fan:
            lines.append(_row(
                "node_fanout_100_ratio", fan["node_fanout_100_ratio"], "(peer)",
                f"Node socket.io {fan['node_100']['deliveries_per_server_cpu_s']} deliveries "
                f"per server-CPU second ({fan['node_100']['server_cpu_us_per_delivery']} µs "
                f"each); bare python-socketio over Node: {fan.get('bare_over_node_100')}"))
    lines += widget_report.rows(figures)
    lines += scale_report.rows(figures)
    page = figures.get("frontend", {})
    if page:
        lines.append(_row(
            "frontend: page of 50 messages, new over old", page["new_over_old"],
            "≤ 1 (a page within one frame, 16.7 ms, is the aim)",
            f"new front end {page['new_page_ms']} ms for a fresh view's first page (p90 "
            f"{page['new_p90_ms']} ms), {page['new_next_page_ms']} ms for the next 50; old "
            f"hand-written renderer {page['old_page_ms']} ms and {page['old_next_page_ms']} ms; "
            "markdown, code, a table, math, in Chromium, up to the list's layout"))
    if comm:
        burst = comm["burst"]
        lines.append(_row("comm_bytes_growth", comm["comm_bytes_growth"], "≤ 1.1",
                          f"{comm['bytes_at_10']} B at 10, {comm['bytes_at_history']} B at "
                          f"{comm['history']:,} messages of history; a burst of "
                          f"{burst['burst']:,} incoming messages landed in the widget in "
                          f"{burst['landed_in_widget_s']} s, {burst['lag_after_last_ack_s']} s "
                          f"after the server acknowledged the last"))
    for engine, result in hist.items():
        lines.append(_row(
            f"history latest 50 ({engine})", f"{result['latest_50_http']['p50_ms']} ms p50",
            "< 10 ms", f"{result['stored_messages']:,} stored; p99 "
            f"{result['latest_50_http']['p99_ms']} ms; catch-up of 10,000 missed: "
            f"{result['catch_up_10000_s']} s"))
    files = figures.get("files", {})
    if files:
        for way, word in (("up", "upload"), ("down", "download")):
            lines.append(_row(
                f"file {word}, chat over bare", files[f"{way}_ratio"], "(report)",
                f"{files['chat'][f'{way}_mib_s']} vs {files['bare'][f'{way}_mib_s']} MiB/s, "
                f"a {files['file_mib']} MiB file, median of {files['rounds']}"))
    for engine, result in figures.get("search", {}).items():
        lines.append(_row(
            f"search, two words ({engine})", f"{result['two_words']['p50_ms']} ms p50",
            "< 20 ms", f"{result['stored_messages']:,} stored; p99 "
            f"{result['two_words']['p99_ms']} ms; one of the 100 commonest words: p50 "
            f"{result['one_common_word']['p50_ms']} ms, p99 "
            f"{result['one_common_word']['p99_ms']} ms"))
    if mem:
        lines.append(_row("memory per idle connection (server)",
                          f"{mem.get('server_kib_per_idle_connection')} KiB", "(report)",
                          f"{mem.get('connections')} connections"))
        lines.append(_row("memory per stored message (client)",
                          f"{mem.get('client_bytes_per_message')} B", "(report)",
                          f"{mem.get('client_messages')} messages held by a ChatClient"))
    if fan.get("curve"):
        lines += ["", "## Fan-out curve", "",
                  "| clients | chat deliveries/s | bare deliveries/s | chat per server-CPU s "
                  "| bare per server-CPU s | ratio |", "|---|---|---|---|---|---|"]
        for size in sorted(fan["curve"], key=int):
            row = fan["curve"][size]
            lines.append(f"| {size} | {row['chat']['deliveries_per_s']} | "
                         f"{row['bare']['deliveries_per_s']} | "
                         f"{row['chat']['deliveries_per_server_cpu_s']} | "
                         f"{row['bare']['deliveries_per_server_cpu_s']} | {row['ratio']} |")
        redis = fan.get("redis_two_processes_100")
        if redis:
            lines += ["", f"Two chat processes over Redis, 100 clients: `{json.dumps(redis)}`"]
    stacks = figures.get("stacks")
    if stacks:
        lines += ["", "## Server stack", "",
                  "Bare emit-with-ack round trip (p50 ms) on each stack:", ""]
        for stack in ("aiohttp", "uvicorn"):
            result = stacks[stack]
            lines.append(f"- {stack}: emit+ack {result['emit_ack']['p50_ms']} ms, "
                         f"emit+ack+GET {result['emit_ack_plus_get']['p50_ms']} ms")
        loops = stacks.get("loops")
        if loops:
            lines += ["", "Event loop, by a bare server's fan-out to 100 clients:", ""]
            for loop, result in loops.items():
                lines.append(f"- {loop}: {result['deliveries_per_server_cpu_s']} deliveries "
                             f"per server-CPU second ({result['server_cpu_us_per_delivery']} µs "
                             "each)")
    lines += widget_report.section(figures)
    lines += scale_report.section(figures)
    lines += ["", "## What the profiles show", "", *PROFILE_NOTES]
    return "\n".join(lines) + "\n"


def write(figures: dict[str, Any]) -> None:
    DOCS.mkdir(exist_ok=True)
    plot(figures, DOCS / "performance.png")
    (DOCS / "performance.md").write_text(markdown(figures))
