"""The HTTP side (client/http.py): with prefetch_auth, the next send's string is fetched ahead."""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time
import uuid

import pytest
import requests

from chat_widget.client import ChatClient
from chat_widget.client.connection import ServerList
from chat_widget.client.http import HttpApi
from chat_widget.errors import NotConnectedError
from tests.client.common import wait_until


def test_prefetched_strings_serve_the_following_sends(server) -> None:
    with ChatClient(server.url, server.tokens["alice"], prefetch_auth=True) as alice:
        alice.join("general")
        texts = [f"prefetched {i} {uuid.uuid4().hex[:6]}" for i in range(5)]
        stored = [alice.send(text) for text in texts]
        assert [m["text"] for m in stored] == texts
        supply = alice._sender._auth  # the supply holds the next send's string
        wait_until(lambda: supply.ready("general"), what="a string fetched ahead")


def spend_the_string_fetched_ahead(client: ChatClient, server) -> None:
    """Use the client's prefetched string on another connection, as a replay would."""
    import socketio

    supply = client._sender._auth
    wait_until(lambda: supply.ready("general"), what="a string fetched ahead")
    stolen, _expires = supply._ahead["general"].result()
    spender = socketio.Client(reconnection=False)
    spender.connect(server.url, auth={"token": server.tokens["alice"]},
                    transports=["websocket"])
    spender.call("join", {"chat_id": "general"})
    spent = spender.call("send_message", {"chat_id": "general", "text": "spent it",
                                          "auth": stolen, "client_id": uuid.uuid4().hex})
    spender.disconnect()
    assert spent["ok"]


def test_a_refused_prefetched_string_is_replaced_by_a_fresh_one(server) -> None:
    with ChatClient(server.url, server.tokens["alice"], prefetch_auth=True) as alice:
        alice.join("general")
        first = alice.send("first")
        spend_the_string_fetched_ahead(alice, server)
        # The client's prefetched string is now used up: the send must still go through.
        assert alice.send("after the string was spent")["text"] == "after the string was spent"
        # An edit takes the same step 4: it uses the string fetched ahead, and fetches
        # a fresh one when that was spent.
        spend_the_string_fetched_ahead(alice, server)
        assert alice.edit(first["id"], "edited with a fresh string")["version"] > 0
        wait_until(lambda: alice._sender._auth.ready("general"), what="the next string ahead")


def counted_fetches(client: ChatClient) -> list[str]:
    """The chats of every `POST /api/message-auth` the client makes from now on."""
    fetched: list[str] = []
    real = client._http.message_auth

    def counting(chat_id: str, timeout: float | None = None) -> tuple[str, float]:
        fetched.append(chat_id)
        return real(chat_id, timeout=timeout)

    client._http.message_auth = counting  # type: ignore[method-assign]
    return fetched


def test_prepare_send_fetches_one_string_ahead_and_the_send_takes_it(server) -> None:
    with ChatClient(server.url, server.tokens["alice"]) as alice:  # prefetch_auth off
        alice.join("general")
        fetched = counted_fetches(alice)
        supply = alice._auth
        alice.prepare_send()
        wait_until(lambda: supply.ready("general"), what="a string fetched ahead")
        alice.prepare_send("general")  # one is waiting: no second fetch
        assert fetched == ["general"]
        assert alice.send("with the string fetched while typing")["seq"] > 0
        assert fetched == ["general"]  # the send made no request of its own
        assert not supply.ready("general")  # and, prefetch_auth off, fetched none after
        assert alice.send("the next one fetches its own")["seq"] > 0
        assert fetched == ["general", "general"]


def test_a_string_near_its_expiry_is_fetched_again(server) -> None:
    from concurrent.futures import Future

    with ChatClient(server.url, server.tokens["alice"]) as alice:
        alice.join("general")
        fetched = counted_fetches(alice)
        old: Future[tuple[str, float]] = Future()
        old.set_result(("an old string", time.time() + 1))  # inside the expiry margin
        alice._auth._ahead["general"] = old
        alice.prepare_send()
        wait_until(lambda: alice._auth.ready("general") and fetched == ["general"],
                   what="a fresh string in place of the old")
        assert alice.send("sent with the fresh one")["seq"] > 0
        assert fetched == ["general"]


@pytest.mark.parametrize("bypassed", [False, True])
def test_the_environment_s_proxy_is_used_unless_no_proxy_names_the_server(
        server, monkeypatch: pytest.MonkeyPatch, bypassed: bool) -> None:
    """Read once per server rather than per request, the proxy variables still apply."""
    for name in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    for name in ("no_proxy", "NO_PROXY"):
        if bypassed:
            monkeypatch.setenv(name, "127.0.0.1,localhost")
        else:
            monkeypatch.delenv(name, raising=False)
    api = HttpApi(ServerList(server.url), server.tokens["alice"], timeout=5)
    try:
        if bypassed:
            assert api.me()["id"] == "alice"
            assert api.message_auth("general")[0]
        else:
            with pytest.raises(NotConnectedError):
                api.me()
            with pytest.raises(NotConnectedError):
                api.message_auth("general")
    finally:
        api.close()


def test_a_netrc_entry_for_the_server_does_not_replace_the_bearer_token(
        server, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password something\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    api = HttpApi(ServerList(server.url), server.tokens["alice"], timeout=5)
    try:
        assert api.me()["id"] == "alice"
    finally:
        api.close()


class _CookieSettingProxy(http.server.BaseHTTPRequestHandler):
    """A reverse proxy in front of the chat server that sets a cookie (as load balancers
    do for sticky sessions) and records the Cookie header and body of each request."""

    upstream = ""
    seen: list[tuple[str | None, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.headers.get("Cookie"), body))
        upstream = requests.post(self.upstream + self.path, data=body, headers={
            "Authorization": self.headers["Authorization"],
            "Content-Type": self.headers["Content-Type"]}, timeout=5)
        self.send_response(upstream.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(upstream.content)))
        self.send_header("Set-Cookie", f"route=r{len(self.seen)}; Path=/")
        self.end_headers()
        self.wfile.write(upstream.content)

    def log_message(self, *_args: object) -> None:
        pass


def test_strings_for_each_chat_are_asked_for_with_the_cookies_a_proxy_set(server) -> None:
    """The authorization request is prepared once per chat and reused, yet a cookie set
    in between is sent, and each request names its own chat."""
    _CookieSettingProxy.upstream, _CookieSettingProxy.seen = server.url, []
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CookieSettingProxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    api = HttpApi(ServerList(f"http://127.0.0.1:{proxy.server_address[1]}"),
                  server.tokens["alice"], timeout=5)
    try:
        chats = ["general", "echo", "general", "echo"]
        for chat_id in chats:
            assert api.message_auth(chat_id)[0]
    finally:
        api.close()
        proxy.shutdown()
    cookies = [cookie for cookie, _body in _CookieSettingProxy.seen]
    assert cookies == [None, "route=r1", "route=r2", "route=r3"]
    assert [json.loads(body)["chat_id"] for _cookie, body in _CookieSettingProxy.seen] == chats


def test_a_string_for_each_chat_names_that_chat(server) -> None:
    api = HttpApi(ServerList(server.url), server.tokens["alice"], timeout=5)
    try:
        for chat_id in ["general", "echo", "general", "echo"]:
            auth, _expires_at = api.message_auth(chat_id)
            payload = json.loads(base64.urlsafe_b64decode(auth.split(".")[0] + "=="))
            assert payload[:2] == ["alice", chat_id]
    finally:
        api.close()
