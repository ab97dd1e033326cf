"""Every HTTP route of the protocol, and its error codes, against the real server."""

from __future__ import annotations

from tests.helpers import RawClient, fetch_auth, http


def test_health_needs_no_token(server):
    response = http(server, "GET", "/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert isinstance(response.json()["version"], str)


def test_me_lists_the_users_workspaces(server):
    body = http(server, "GET", "/api/me", server.tokens["alice"]).json()
    assert body == {"id": "alice", "name": "alice",
                    "workspaces": [{"id": "demo", "title": "demo"}]}


def test_chats_lists_only_the_users_workspaces(server):
    alice = http(server, "GET", "/api/chats", server.tokens["alice"]).json()["chats"]
    carol = http(server, "GET", "/api/chats", server.tokens["carol"]).json()["chats"]
    assert {c["id"] for c in alice} == {"general", "echo"}
    assert {c["id"] for c in carol} == {"staff-room"}
    echo = next(c for c in alice if c["id"] == "echo")
    assert echo["responder"] == "echo" and echo["workspace_id"] == "demo"
    assert set(echo) == {"id", "workspace_id", "title", "responder", "last_seq",
                         "last_version", "last_read_seq", "unread", "unread_mentions"}


def test_missing_or_unknown_token_is_unauthorized(server):
    for token in (None, "not-a-token"):
        for method, path in (("GET", "/api/me"), ("GET", "/api/chats"),
                             ("GET", "/api/chats/general/messages"),
                             ("POST", "/api/message-auth")):
            response = http(server, method, path, token, json={"chat_id": "general"})
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["error"]["code"] == "unauthorized"


def test_message_auth_is_bound_to_a_chat_the_user_may_open(server):
    response = http(server, "POST", "/api/message-auth", server.tokens["alice"],
                    json={"chat_id": "general"})
    body = response.json()
    assert response.status_code == 200 and body["chat_id"] == "general"
    assert isinstance(body["auth"], str) and isinstance(body["expires_at"], float)
    forbidden = http(server, "POST", "/api/message-auth", server.tokens["carol"],
                     json={"chat_id": "general"})
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "forbidden"
    missing = http(server, "POST", "/api/message-auth", server.tokens["alice"],
                   json={"chat_id": "no-such-chat"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_message_auth_bad_bodies_are_bad_requests(server):
    token = server.tokens["alice"]
    for body in ("not json", "[1, 2]", '{"chat_id": 5}', "{}", '{"chat_id": ""}'):
        response = http(server, "POST", "/api/message-auth", token, data=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "bad_request"


def test_oversized_body_is_too_large(server):
    response = http(server, "POST", "/api/message-auth", server.tokens["alice"],
                    data=b'{"chat_id": "' + b"x" * (1100 * 1024) + b'"}')
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_messages_pages_in_ascending_seq(fresh_server):
    alice = RawClient(fresh_server, fresh_server.tokens["alice"])
    alice.join("general")
    for number in range(1, 8):
        assert alice.send("general", f"m{number}")["ok"]
    alice.close()
    token = fresh_server.tokens["bob"]

    def page(**query):
        response = http(fresh_server, "GET", "/api/chats/general/messages", token, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        return [m["seq"] for m in body["messages"]], body["has_more"]

    assert page() == ([1, 2, 3, 4, 5, 6, 7], False)
    assert page(limit=3) == ([5, 6, 7], True)
    assert page(limit=3, before_seq=5) == ([2, 3, 4], True)
    assert page(limit=3, before_seq=3) == ([1, 2], False)
    assert page(after_seq=4) == ([5, 6, 7], False)
    assert page(after_seq=1, limit=2) == ([2, 3], True)
    assert page(after_seq=2, before_seq=6) == ([3, 4, 5], False)


def test_messages_bad_queries_are_bad_requests(server):
    token = server.tokens["alice"]
    for query in ({"limit": 0}, {"limit": 501}, {"limit": "x"}, {"before_seq": -1},
                  {"after_seq": "1.5"}, {"after_seq": 10**30}):
        response = http(server, "GET", "/api/chats/general/messages", token, params=query)
        assert response.status_code == 400, query
        assert response.json()["error"]["code"] == "bad_request"


def test_messages_of_forbidden_and_unknown_chats(server):
    forbidden = http(server, "GET", "/api/chats/staff-room/messages", server.tokens["alice"])
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "forbidden"
    missing = http(server, "GET", "/api/chats/nope/messages", server.tokens["alice"])
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_unknown_route_is_not_found(server):
    response = http(server, "GET", "/api/nothing-here", server.tokens["alice"])
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_auth_string_from_http_works_over_socketio(server):
    alice = RawClient(server, server.tokens["alice"])
    alice.join("general")
    auth = fetch_auth(server, server.tokens["alice"], "general")
    ack = alice.call("send_message", {"chat_id": "general", "text": "via http auth",
                                      "auth": auth, "client_id": "route-test-1"})
    alice.close()
    assert ack["ok"] and ack["message"]["text"] == "via http auth"
