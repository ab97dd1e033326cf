"""Redis SIGKILLed and restarted under steady traffic: nothing lost, histories equal soon after.

`clients` ChatClients (one user each) on `processes` server processes over a
private PostgreSQL and a private redis-server (bench/steady_fleet.py) each
send a message every `every` s. The redis-server is SIGKILLed `kills` times,
stays down `down_for` s (pub/sub forgets what it could not deliver: each
process's clients see only that process's messages meanwhile) and comes
back empty. Per kill: how long, from Redis answering again, until every
client has been shown every message stored by then, in seq order, and until
every process's health says its subscription is back.

What must hold: 0 acknowledged messages missing at any client, 0 doubled
(stored or shown), every client's history equal within 10 s of Redis coming
back.

    python -m bench.redis_kill --clients 50 --processes 3 --kills 3
"""

from __future__ import annotations

import json
import time
from typing import Any

from .steady_fleet import (
    Sender,
    deployment,
    first_times,
    fleet_arguments,
    fresh_view,
    last_stored_seq,
    redis_health,
    start_fleet,
    stop_fleet,
    verdict,
    wait_until,
)

EQUAL_WITHIN_S = 10.0


def presence_whole(senders: list[Sender], url: str, token: str) -> bool:
    """Whether a client joining now is shown every member connected before and after
    it looked (a link the load dropped meanwhile is rightly not present), and no one else."""
    before = {f"member-{s.index}" for s in senders if s.client.connected}
    view = fresh_view(url, token) - {"alice"}
    after = {f"member-{s.index}" for s in senders if s.client.connected}
    return before & after <= view <= {f"member-{s.index}" for s in senders}


def run(clients: int = 50, processes: int = 3, kills: int = 3, down_for: float = 3.0,
        every: float = 0.5, between: float = 5.0) -> dict[str, Any]:
    with deployment(processes, clients) as setup:
        urls = setup.urls
        senders = start_fleet(setup, lambda index: [urls[index % processes]], every)
        sending_from = time.monotonic()
        alice = setup.servers[0].tokens["alice"]
        time.sleep(between)
        per_kill = []
        for _kill in range(kills):
            setup.redis.kill()
            killed_at = time.monotonic()
            noticed = wait_until(lambda: all(redis_health(url) == "down" for url in urls),
                                 down_for + 10.0, step=0.1)
            time.sleep(max(0.0, down_for - (time.monotonic() - killed_at)))
            setup.redis.start()
            back = time.monotonic()
            stored_by_then = last_stored_seq(setup.db_url)
            firsts = first_times(back, 60.0, {
                "histories_equal_after_s": lambda upto=stored_by_then: all(
                    sender.last_seq >= upto for sender in senders),
                "subscribed_again_after_s": lambda: all(
                    redis_health(url) == "ok" for url in urls)})
            # Redis came back empty: each process writes its connections back. A client
            # joining now (alice, on the first process) must be shown every member.
            firsts.update(first_times(back, 60.0, {
                "presence_whole_again_by_s": lambda: presence_whole(senders, urls[0], alice)}))
            per_kill.append({"down_s": round(back - killed_at, 2),
                             "down_noticed_by_every_process_s": noticed,
                             "messages_by_then": stored_by_then, **firsts})
            time.sleep(max(0.0, between - (time.monotonic() - back)))
        stop_fleet(senders)
        sending_s = time.monotonic() - sending_from
        report = verdict(setup)
    report["sends_per_s"] = round(report["sends"] / sending_s, 1)
    equal = [kill["histories_equal_after_s"] for kill in per_kill]
    report.update({"clients": clients, "processes": processes, "kills": kills,
                   "down_for_s": down_for, "send_every_s": every, "per_kill": per_kill,
                   "equal_within_s": EQUAL_WITHIN_S,
                   "slowest_equal_s": None if None in equal else max(equal, default=None)})
    return report


def main() -> None:
    parser = fleet_arguments(__doc__.splitlines()[0])
    parser.add_argument("--down-for", type=float, default=3.0)
    parser.add_argument("--every", type=float, default=0.5, help="each client sends this often")
    args = parser.parse_args()
    print(json.dumps(run(args.clients, args.processes, args.kills, args.down_for, args.every),
                     indent=1))


if __name__ == "__main__":
    main()
