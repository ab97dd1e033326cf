"""Limits that keep one user or one page from harming others, and secrets out of logs."""

from __future__ import annotations

import time

import pytest
import socketio
import websocket

from chat_widget.errors import ChatError
from chat_widget.server.limits import ConnectionLimiter, RateLimiter
from tests.helpers import RawClient, fetch_auth, http

# -- the limiters alone (server/limits.py) --------------------------------------


def test_the_rate_limiter_allows_a_burst_then_refuses_with_retry_after() -> None:
    limiter = RateLimiter(rate=1.0, burst=3.0)
    for _ in range(3):
        limiter.check("alice")
    with pytest.raises(ChatError) as caught:
        limiter.check("alice")
    assert caught.value.code == "rate_limited"
    assert 0 < caught.value.details["retry_after"] <= 1.0
    limiter.check("bob")  # each user has a bucket of its own


def test_a_rate_of_zero_means_no_limit() -> None:
    limiter = RateLimiter(rate=0, burst=0)
    for _ in range(1000):
        limiter.check("alice")


def test_the_connection_cap_counts_per_user_and_frees_on_close() -> None:
    limiter = ConnectionLimiter(limit=2)
    limiter.open("alice")
    limiter.open("alice")
    limiter.open("bob")
    with pytest.raises(ChatError) as caught:
        limiter.open("alice")
    assert caught.value.code == "rate_limited" and caught.value.details["retry_after"] == 5
    limiter.close("alice")
    limiter.open("alice")
    assert ConnectionLimiter(limit=0).open("alice") is None  # 0: no cap


# -- over the wire ------------------------------------------------------------------


def test_rate_limit_refuses_with_retry_after_and_spends_no_auth(server_factory):
    server = server_factory(extra_args=["--rate-limit", "2", "--rate-burst", "3"])
    alice = RawClient(server, server.tokens["alice"])
    alice.join("general")
    codes = [alice.send("general", f"burst {i}").get("error", {}).get("code") for i in range(8)]
    assert "rate_limited" in codes
    auth = fetch_auth(server, server.tokens["alice"], "general")
    limited = None
    for _ in range(20):
        limited = alice.call("send_message", {"chat_id": "general", "text": "x", "auth": auth,
                                              "client_id": "after-burst"})
        if not limited["ok"]:
            break
    assert limited["error"]["code"] == "rate_limited" and limited["error"]["retry_after"] > 0
    time.sleep(limited["error"]["retry_after"] + 0.1)
    retried = alice.call("send_message", {"chat_id": "general", "text": "x", "auth": auth,
                                          "client_id": "after-burst"})
    assert retried["ok"], retried  # the refused attempt did not spend the string
    alice.close()


def test_connections_per_user_are_capped(server_factory):
    server = server_factory(extra_args=["--max-connections-per-user", "2"])
    first, second = (RawClient(server, server.tokens["alice"]) for _ in range(2))
    third = socketio.Client(reconnection=False)
    errors = []
    third.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        third.connect(server.url, auth={"token": server.tokens["alice"]},
                      transports=["websocket"], wait_timeout=5)
    assert errors[0]["data"]["code"] == "rate_limited"
    bob = RawClient(server, server.tokens["bob"])  # other users are not affected
    first.close()
    time.sleep(0.3)
    again = RawClient(server, server.tokens["alice"])  # a closed slot is free again
    for client in (second, bob, again):
        client.close()


def open_with_origin(server, origin: str) -> str:
    ws = websocket.create_connection(
        server.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
        timeout=5, origin=origin)
    try:
        return ws.recv()
    finally:
        ws.close()


def test_foreign_page_origins_are_refused(server):
    with pytest.raises(websocket.WebSocketBadStatusException):
        open_with_origin(server, "https://evil.example")
    assert open_with_origin(server, "http://localhost:8888").startswith("0")
    assert open_with_origin(server, "http://127.0.0.1:9999").startswith("0")
    assert open_with_origin(server, server.url).startswith("0")


def test_allowed_origin_option(server_factory):
    server = server_factory(extra_args=["--allowed-origin", "https://lab.example.org"])
    assert open_with_origin(server, "https://lab.example.org").startswith("0")
    with pytest.raises(websocket.WebSocketBadStatusException):
        open_with_origin(server, "https://other.example.org")


def test_tokens_and_authorization_strings_never_reach_the_log(server_factory):
    server = server_factory(extra_args=["--log-level", "debug"])
    alice = RawClient(server, server.tokens["alice"])
    alice.join("general")
    alice.join("echo")
    secrets = list(server.tokens.values())
    for chat_id in ("general", "echo"):
        auth = fetch_auth(server, server.tokens["alice"], chat_id)
        secrets.append(auth)
        alice.call("send_message", {"chat_id": chat_id, "text": "hi", "auth": auth,
                                    "client_id": f"log-{chat_id}"})
        alice.call("send_message", {"chat_id": chat_id, "text": "hi", "auth": auth,
                                    "client_id": f"log-{chat_id}-again"})  # reused
        alice.call("send_message", {"chat_id": chat_id, "text": "hi", "auth": auth[:-3],
                                    "client_id": "forged"})
    http(server, "GET", "/api/me", "wrong-token-that-must-not-be-logged")
    refused = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect(server.url, auth={"token": "another-secret-guess"},
                        transports=["websocket"], wait_timeout=5)
    alice.close()
    server.stop()
    log = server.log()
    assert "connected" in log and "refused" in log
    for secret in [*secrets, "wrong-token-that-must-not-be-logged", "another-secret-guess"]:
        assert secret not in log
        assert secret[:16] not in log
