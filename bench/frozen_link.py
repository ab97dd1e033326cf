"""A client's network freezes, then resets: noticed in time, nothing lost, nothing doubled.

A loopback TCP proxy sits between two `ChatClient`s and the server. At the
freeze it stops forwarding in both directions (connections stay open, bytes
are held, new connections are accepted and held too), as a dead Wi-Fi link
or a suspended laptop would; after `freeze_seconds` (at least until alice
has noticed: 0 means just that long, as CI runs it) it closes every
connection (the reset) and forwards again. Meanwhile:

- alice (through the proxy, her next authorization string fetched ahead)
  sends at once: her emit goes into the frozen link. She must notice the
  freeze within 10 s without any request of her own (engine.io's heartbeat),
  and after the reset reconnect, catch up and have that send stored once
  (retried with the same client_id);
- carol (through the proxy, a 1 s request timeout, a 3 s send timeout) sends
  too: her authorization fetch times out, which must count as evidence that
  the link is down (her status leaves "connected" at once), and her send
  must fail with `not_sent` within a second of its 3 s, never reaching the
  server;
- bob (direct) sends `messages` messages alice must catch up on.

    python -m bench.frozen_link --freeze 30
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import requests

from chat_widget.client import ChatClient
from chat_widget.errors import ChatError

from .processes import chat_server


class FreezingProxy:
    """A TCP proxy on a free loopback port to `target_port` that can freeze and reset."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="proxy-accept").start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def freeze(self) -> None:
        """Stop forwarding: nothing passes either way until `reset`."""
        self._flowing.clear()

    def reset(self) -> None:
        """Close every connection (as a network reset would), then forward again."""
        with self._lock:
            doomed, self._open = self._open, []
        for connection in doomed:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
        self._flowing.set()

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self.reset()

    def _accept(self) -> None:
        while not self._closed:
            try:
                downstream, _address = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._link, args=(downstream,), daemon=True).start()

    def _link(self, downstream: socket.socket) -> None:
        with self._lock:
            self._open.append(downstream)
        self._flowing.wait()  # a connection made during the freeze waits, then dies
        with self._lock:
            if downstream not in self._open:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                downstream.close()
                return
            self._open.append(upstream)
        for source, sink in ((downstream, upstream), (upstream, downstream)):
            threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                self._flowing.wait()  # bytes read at the freeze are held, not passed
                with self._lock:
                    if source not in self._open:
                        return  # reset meanwhile: the held bytes die with the link
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


class StatusClock:
    """When a client's status first left "connected" and came back after a moment."""

    def __init__(self, client: ChatClient) -> None:
        self.left: float | None = None
        self.back: float | None = None
        self._since = 0.0
        client.on_status(self._changed)

    def arm(self, since: float) -> None:
        self._since, self.left, self.back = since, None, None

    def _changed(self, status: str, _error: Any) -> None:
        now = time.monotonic()
        if now < self._since:
            return
        if status != "connected" and self.left is None:
            self.left = now
        elif status == "connected" and self.left is not None and self.back is None:
            self.back = now


def _wait(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _stored(url: str, token: str, chat_id: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{url}/api/chats/{chat_id}/messages", params={"limit": 500},
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)
    answer.raise_for_status()
    return list(answer.json()["messages"])


def _timed_send(client: ChatClient, text: str) -> dict[str, Any]:
    started = time.monotonic()
    try:
        message = client.send(text)
        return {"ok": True, "client_id": message["client_id"],
                "seconds": round(time.monotonic() - started, 2)}
    except ChatError as error:
        return {"ok": False, "code": error.code, "message": error.message,
                "seconds": round(time.monotonic() - started, 2)}


@contextlib.contextmanager
def _clients(server_url: str, proxy: FreezingProxy, tokens: dict[str, str],
             freeze_seconds: float) -> Iterator[tuple[ChatClient, ChatClient, ChatClient]]:
    fast = {"reconnection_delay": 0.2, "reconnection_delay_max": 1.0}
    alice = ChatClient(proxy.url, tokens["alice"], prefetch_auth=True, request_timeout=3.0,
                       send_timeout=freeze_seconds + 30.0, **fast)
    carol = ChatClient(proxy.url, tokens["carol"], request_timeout=1.0, send_timeout=3.0,
                       **fast)
    bob = ChatClient(server_url, tokens["bob"])
    try:
        yield alice, carol, bob
    finally:
        for client in (alice, carol, bob):
            client.close()


def run(freeze_seconds: float = 30.0, messages: int = 20) -> dict[str, Any]:
    """Freeze the link for `freeze_seconds`, then reset it; the figures of what followed."""
    with chat_server() as server:
        server_url, tokens = server["url"], server["tokens"]
        proxy = FreezingProxy(int(server_url.rsplit(":", 1)[1]))
        try:
            with _clients(server_url, proxy, tokens, freeze_seconds) as (alice, carol, bob):
                return _scenario(server_url, tokens, proxy, alice, carol, bob,
                                 freeze_seconds, messages)
        finally:
            proxy.close()


def _scenario(server_url: str, tokens: dict[str, str], proxy: FreezingProxy,
              alice: ChatClient, carol: ChatClient, bob: ChatClient,
              freeze_seconds: float, messages: int) -> dict[str, Any]:
    for client, chat_id in ((alice, "general"), (carol, "staff-room"), (bob, "general")):
        client.join(chat_id)
    alice.send("before the freeze")  # and the string for the next send is fetched ahead
    _wait(lambda: alice._sender._auth.ready("general"), 10)
    alice_clock, carol_clock = StatusClock(alice), StatusClock(carol)
    with ThreadPoolExecutor(2) as pool:
        frozen_at = time.monotonic()
        alice_clock.arm(frozen_at)
        carol_clock.arm(frozen_at)
        proxy.freeze()
        alice_send: Future[dict[str, Any]] = pool.submit(_timed_send, alice, "into the freeze")
        carol_send = pool.submit(_timed_send, carol, "never leaves carol")
        for index in range(messages):
            bob.send(f"bob {index} while alice is frozen")
        carol_result = carol_send.result(timeout=30)
        _wait(lambda: alice_clock.left is not None, max(freeze_seconds, 10.0) + 5)
        time.sleep(max(0.0, frozen_at + freeze_seconds - time.monotonic()))  # the freeze lasts
        reset_at = time.monotonic()
        proxy.reset()
        alice_result = alice_send.result(timeout=60)
    caught_up = _wait(lambda: [m["id"] for m in alice.messages] == [m["id"] for m in bob.messages]
                      and len(bob.messages) >= messages + 2, 30)
    general = _stored(server_url, tokens["bob"], "general")
    staff = _stored(server_url, tokens["carol"], "staff-room")
    alice_copies = [m for m in general if m["text"] == "into the freeze"]
    bob_texts = {f"bob {index} while alice is frozen" for index in range(messages)}
    alice_texts = [m["text"] for m in alice.messages]
    return {
        "freeze_seconds": round(reset_at - frozen_at, 1),
        "noticed_s": _since(frozen_at, alice_clock.left),
        "noticed_by_failed_fetch_s": _since(frozen_at, carol_clock.left),
        "not_sent": carol_result,
        "carol_send_timeout_s": 3.0,
        "carol_message_stored": any(m["text"] == "never leaves carol" for m in staff),
        "reconnected_after_reset_s": _since(reset_at, alice_clock.back),
        "pending_send": alice_result,
        "pending_send_stored": len(alice_copies),
        "bob_messages": messages,
        "caught_up": caught_up,
        "missing_at_alice": len(bob_texts - set(alice_texts)),
        "doubled_at_alice": len(alice_texts) - len(set(m["id"] for m in alice.messages)),
        "in_seq_order": [m["seq"] for m in alice.messages] == sorted(
            m["seq"] for m in alice.messages),
    }


def _since(start: float, moment: float | None) -> float | None:
    return None if moment is None else round(moment - start, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--freeze", type=float, default=30.0, help="seconds the link is frozen")
    parser.add_argument("--messages", type=int, default=20, help="bob's sends during the freeze")
    args = parser.parse_args()
    print(json.dumps(run(args.freeze, args.messages), indent=1))


if __name__ == "__main__":
    main()
