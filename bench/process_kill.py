"""One server process of three SIGKILLed every 20 s under steady traffic: nothing lost, no ghosts.

`clients` ChatClients (one user each, bench/steady_fleet.py) on `processes`
server processes over a private PostgreSQL and a private redis-server each
send a message every `send_every` s. Most are given every URL of the
deployment, their own process's first (`ChatClient([url1, url2, url3])`),
and fail over when it dies; one in five of each process (at least one) is
given its own URL alone: it stands for a user who goes away with the
process, and comes back when the process is restarted.

Every `every` s one process (in turn) is SIGKILLed; it is started again on
its port `down_for` s after the kill. Presence is read as a user sees it,
from each client's `present` (the join ack and the `presence` events):

- ghosts gone: every other client connected and none shows a user that went
  away with the killed process, measured from the kill; a dead process's
  connections are dropped from presence by the survivors' heartbeat once its
  own has lapsed, within PRESENCE_TIMEOUT_S;
- views exact: besides, every user that failed over shows present to all;
- after the restart: every client connected again and every user present.

What must hold: 0 acknowledged messages lost or missing at any client, 0
doubled, every client's history equal at the end, ghosts gone within
PRESENCE_TIMEOUT_S (+ the time a `presence` event takes to arrive).

    python -m bench.process_kill --clients 50 --processes 3 --kills 3
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from chat_widget.server.redis_presence import ALIVE_SECONDS, HEARTBEAT_SECONDS

from .steady_fleet import (
    Sender,
    all_see,
    deployment,
    first_times,
    fleet_arguments,
    present_ids,
    start_fleet,
    stop_fleet,
    verdict,
)

PRESENCE_TIMEOUT_S = ALIVE_SECONDS + HEARTBEAT_SECONDS


def none_see(watchers: list[Sender], gone: set[str]) -> bool:
    """No client shows a gone user (one whose link the load dropped meanwhile shows
    nothing now; it is judged again from its join ack once back)."""
    return all(not present_ids(watcher) & gone for watcher in watchers
               if watcher.client.connected)


def run(clients: int = 50, processes: int = 3, kills: int = 3, every: float = 20.0,
        down_for: float = 10.0, send_every: float = 0.5) -> dict[str, Any]:
    stay_per_process = max(1, math.ceil(clients / processes) // 5)

    def home(index: int) -> int:
        return index % processes

    def stays(index: int) -> bool:  # given its own process's URL alone
        return index // processes < stay_per_process

    with deployment(processes, clients) as setup:
        urls = setup.urls

        def urls_for(index: int) -> list[str]:
            first = home(index)
            return [urls[first]] if stays(index) else urls[first:] + urls[:first]

        senders = start_fleet(setup, urls_for, send_every)
        sending_from = time.monotonic()
        everyone = set(setup.tokens)
        settled = first_times(time.monotonic(), 30.0, {
            "all_present_at_start_s": lambda: all_see(senders, everyone)})
        per_kill = []
        for kill in range(kills):
            victim = kill % processes
            went_away = [s for s in senders if home(s.index) == victim and stays(s.index)]
            gone = {f"member-{s.index}" for s in went_away}
            watchers = [s for s in senders if s not in went_away]
            on_victim = sum(1 for s in watchers if s.client.url == urls[victim])
            killed_at = time.monotonic()
            setup.servers[victim].kill()
            seen = first_times(killed_at, down_for, {
                "ghosts_gone_after_s": lambda w=watchers, g=gone: none_see(w, g),
                "views_exact_after_s": lambda w=watchers, e=everyone - gone: all_see(w, e)})
            time.sleep(max(0.0, killed_at + down_for - time.monotonic()))
            setup.servers[victim].start()
            back = first_times(time.monotonic(), 30.0, {
                "all_present_after_restart_s": lambda: all_see(senders, everyone)})
            per_kill.append({"killed": victim, "failed_over": on_victim,
                             "went_away": len(gone), **seen, **back})
            time.sleep(max(0.0, killed_at + every - time.monotonic()))
        stop_fleet(senders)
        sending_s = time.monotonic() - sending_from
        report = verdict(setup)
    report["sends_per_s"] = round(report["sends"] / sending_s, 1)
    ghosts = [kill["ghosts_gone_after_s"] for kill in per_kill]
    failovers = sorted(seconds for s in senders if not stays(s.index) for seconds in s.offline_s)
    report.update({
        "clients": clients, "processes": processes, "kills": kills, "every_s": every,
        "down_for_s": down_for, "send_every_s": send_every,
        "given_every_url": sum(1 for index in range(clients) if not stays(index)),
        "given_one_url": sum(1 for index in range(clients) if stays(index)),
        # A send made while its client had no server (a one-URL client until the restart,
        # another during its failover) is refused `not_connected` before it leaves.
        "failed_sends_of_one_url_clients": sum(len(s.failures) for s in senders
                                               if stays(s.index)),
        "failovers": len(failovers),
        "failover_s": {"p50": round(failovers[len(failovers) // 2], 2),
                       "max": round(failovers[-1], 2)} if failovers else None,
        "presence_timeout_s": PRESENCE_TIMEOUT_S, **settled, "per_kill": per_kill,
        "slowest_ghosts_gone_s": None if None in ghosts else max(ghosts, default=None),
    })
    return report


def main() -> None:
    parser = fleet_arguments(__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=20.0, help="seconds between kills")
    parser.add_argument("--down-for", type=float, default=10.0,
                        help="seconds from a kill to the restart")
    parser.add_argument("--send-every", type=float, default=0.5)
    args = parser.parse_args()
    print(json.dumps(run(args.clients, args.processes, args.kills, args.every, args.down_for,
                         args.send_every), indent=1))


if __name__ == "__main__":
    main()
