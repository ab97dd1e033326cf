"""Property-based hostile input over every Socket.IO event and HTTP route.

Hypothesis generates malformed and hostile payloads: wrong types, missing and
extra fields, huge, NUL and lone-surrogate strings, deep nesting, negative and
enormous numbers, foreign ids. Each must be answered with a protocol error
code (or succeed, when it happens to be valid), never a crash or a stack
trace, and nothing refused may be stored or broadcast. The CI run tries a few
thousand payloads; `pytest --full` tries more than 10,000.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
from pathlib import Path

import pytest
import requests
import websocket
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat_widget.protocol import ERROR_CODES
from tests.helpers import RawClient, fetch_auth

CHAT_IDS = ["general", "echo", "staff-room", "nowhere", "", "../general", "general\x00"]

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=40),
    st.sampled_from(["\x00", "\ud800", "\udfff", "x" * 70_000, "<script>alert(1)</script>",
                     "\u202eevil", "general"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=12,
)
chat_ids = st.one_of(st.sampled_from(CHAT_IDS), json_values)
# "FILE_*" stand for real files (filled in at run time): the attacker's own in general,
# one of the attacker's in another chat, and another user's.
file_ids = st.one_of(st.sampled_from(["FILE_OWN", "FILE_OTHER_CHAT", "FILE_OTHERS", "0" * 32,
                                      "../x", ""]), json_values)
seqs = st.one_of(st.none(), st.sampled_from([-1, 0, 1, 2**31, 2**63, 10**30, 1.5, "3", True]),
                 json_values)
parts = st.one_of(
    json_values,
    st.lists(st.one_of(
        json_values,
        st.fixed_dictionaries({"type": st.sampled_from(["markdown", "code", "table", "image",
                                                        "file", "", "weird"])},
                              optional={"text": json_values, "columns": json_values,
                                        "rows": json_values, "mime": json_values,
                                        "data": json_values, "language": json_values,
                                        "file_id": file_ids, "name": json_values,
                                        "size": seqs}),
    ), max_size=3),
)


message_ids = st.one_of(st.sampled_from(["OWN", "OTHERS", "0" * 32, ""]), json_values)
emoji = st.one_of(st.sampled_from(["👍", "👍🏽", "a b", "x" * 33, "\x00", "\ud800"]),
                  st.text(max_size=40), json_values)


def payload_for(fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    """Objects with any subset of the event's fields plus stray extra keys, or non-objects."""
    objects = st.fixed_dictionaries({}, optional=fields).flatmap(
        lambda base: st.dictionaries(st.text(max_size=6), json_values, max_size=2)
        .map(lambda extra: {**extra, **base}))
    return st.one_of(objects, objects, objects, json_values)


EVENT_PAYLOADS = {
    "join": payload_for({"chat_id": chat_ids, "after_seq": seqs}),
    "leave": payload_for({"chat_id": chat_ids}),
    "history": payload_for({"chat_id": chat_ids, "before_seq": seqs, "after_seq": seqs,
                            "limit": seqs}),
    "send_message": st.one_of(
        payload_for({
            "chat_id": chat_ids, "text": json_values, "parts": parts, "client_id": json_values,
            "auth": st.one_of(st.just("VALID"), json_values)}),
        # Nearly valid sends with one field gone wrong (or none: those must be stored).
        st.fixed_dictionaries({
            "chat_id": st.sampled_from(["general", "echo"]), "auth": st.just("VALID"),
            "text": st.text(max_size=30), "client_id": st.uuids().map(str),
        }).flatmap(lambda base: st.one_of(
            st.just(base),
            st.sampled_from(sorted(base)).flatmap(
                lambda key: json_values.map(lambda value: {**base, key: value})),
            parts.map(lambda value: {**base, "parts": value}),
        )),
    ),
    # Protocol 1.1: "OWN" and "OTHERS" stand for a message of the attacker's and one of
    # another user's (filled in at run time), "VALID" for a fresh authorization string.
    "edit_message": payload_for({
        "chat_id": chat_ids, "id": message_ids, "text": json_values, "parts": parts,
        "auth": st.one_of(st.just("VALID"), json_values)}),
    "delete_message": payload_for({"chat_id": chat_ids, "id": message_ids}),
    "react": payload_for({"chat_id": chat_ids, "id": message_ids, "emoji": emoji,
                          "on": st.one_of(st.booleans(), json_values)}),
    "changes": payload_for({"chat_id": chat_ids, "after_version": seqs, "limit": seqs}),
    "join_after_version": payload_for({"chat_id": chat_ids, "after_seq": seqs,
                                       "after_version": seqs}),
    "typing": payload_for({"chat_id": chat_ids, "typing": st.one_of(st.booleans(), json_values)}),
    "mark_read": payload_for({"chat_id": chat_ids, "seq": seqs}),
    "no_such_event": json_values,
}
CHANGE_EVENTS = ("edit_message", "delete_message", "react")


def examples(full: bool, share: float) -> int:
    return max(50, int((12_000 if full else 2_400) * share))


@pytest.fixture(scope="module")
def hostile(server):
    attacker = RawClient(server, server.tokens["alice"])
    attacker.join("general")
    attacker.join("echo")
    listener = RawClient(server, server.tokens["bob"])
    listener.join("general")
    targets = {"OWN": [attacker.send("general", f"target {n}")["message"]["id"]
                       for n in range(5)],
               "OTHERS": [listener.send("general", "not yours")["message"]["id"]]}
    files = {"FILE_OWN": upload(server, "alice", "general"),
             "FILE_OTHER_CHAT": upload(server, "alice", "echo"),
             "FILE_OTHERS": upload(server, "bob", "general")}
    chats = {chat_id: listener.join(chat_id)["chat"] for chat_id in ("general", "echo")}
    start_seq = {chat_id: chat["last_seq"] for chat_id, chat in chats.items()}
    while not listener.events.empty():  # the targets' own broadcasts
        listener.events.get()
    state = {"accepted": [], "server": server, "attacker": attacker, "listener": listener,
             "start_seq": start_seq, "tried": {}, "targets": targets, "changed": [], "files": files,
             "start_version": {chat_id: chat["last_version"] for chat_id, chat in chats.items()},
             "received": []}
    yield state
    report = os.environ.get("CHAT_WIDGET_HOSTILE_REPORT")
    if report:  # the reliability report's counts (scripts/reliability_report.py)
        Path(report).write_text(json.dumps({
            "tried": state["tried"], "accepted_sends": len(state["accepted"]),
            "server_alive": server.process.poll() is None}))
    attacker.close()
    listener.close()


def upload(server, user: str, chat_id: str) -> str:
    """The id of a small file `user` uploads to `chat_id`."""
    response = requests.post(f"{server.url}/api/chats/{chat_id}/files",
                             params={"name": f"{user}.txt"}, data=b"hostile target",
                             headers={"Authorization": f"Bearer {server.tokens[user]}",
                                      "Content-Type": "text/plain"}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["file"]["id"]


def with_real_files(payload: object, files: dict[str, str]) -> object:
    """`payload` with each file part's "FILE_*" placeholder replaced by that real file's id."""
    if not (isinstance(payload, dict) and isinstance(payload.get("parts"), list)):
        return payload
    parts = [{**part, "file_id": files.get(part["file_id"], part["file_id"])}
             if isinstance(part, dict) and isinstance(part.get("file_id"), str) else part
             for part in payload["parts"]]
    return {**payload, "parts": parts}


def check_ack(ack: object) -> bool:
    """True for a success; asserts a refusal is the protocol's error shape."""
    assert isinstance(ack, dict), ack
    if ack.get("ok") is True:
        return True
    assert ack.get("ok") is False, ack
    error = ack["error"]
    assert error["code"] in ERROR_CODES, error
    assert isinstance(error["message"], str)
    assert "Traceback" not in error["message"] and "File \"" not in error["message"]
    return False


@pytest.mark.parametrize("event", list(EVENT_PAYLOADS))
def test_hostile_event_payloads_get_protocol_errors(hostile, full_counts, event):
    server, attacker = hostile["server"], hostile["attacker"]

    # Spread over eleven kinds of event: about as many payloads in all as the six of 1.0 got.
    @settings(max_examples=examples(full_counts, 0.12), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(payload=EVENT_PAYLOADS[event])
    def attempt(payload):
        if isinstance(payload, dict) and payload.get("auth") == "VALID" \
                and isinstance(payload.get("chat_id"), str) and payload["chat_id"] in CHAT_IDS:
            response = requests.post(server.url + "/api/message-auth",
                                     json={"chat_id": payload["chat_id"]},
                                     headers={"Authorization": f"Bearer {server.tokens['alice']}"})
            if response.status_code == 200:
                payload = {**payload, "auth": response.json()["auth"]}
        if isinstance(payload, dict) and payload.get("id") in ("OWN", "OTHERS"):
            payload = {**payload, "id": random.choice(hostile["targets"][payload["id"]])}
        payload = with_real_files(payload, hostile["files"])
        ack = attacker.call(event.removesuffix("_after_version"), payload)
        hostile["tried"][event] = hostile["tried"].get(event, 0) + 1
        if check_ack(ack) and event == "send_message":
            hostile["accepted"].append(ack["message"])
        if ack.get("ok") and event in CHANGE_EVENTS:
            hostile["changed"].append(ack["message"])
        if event == "leave" and ack.get("ok"):
            attacker.join(payload["chat_id"])

    attempt()


def test_hostile_http_requests_get_protocol_errors(hostile, full_counts):
    server = hostile["server"]
    tokens = [server.tokens["alice"], "", "nope", "Bearer", "\u00e9" * 10]
    session = requests.Session()

    @settings(max_examples=examples(full_counts, 0.2), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(token=st.sampled_from(tokens), chat_id=st.one_of(st.sampled_from(CHAT_IDS[:4]),
                                                             st.text(max_size=20)),
           query=st.dictionaries(st.sampled_from(["before_seq", "after_seq", "limit", "x"]),
                                 st.one_of(st.text(max_size=12), st.integers(-(2**70), 2**70)),
                                 max_size=3),
           body=json_values)
    def attempt(token, chat_id, query, body):
        headers = {"Authorization": f"Bearer {token}"}
        safe_chat = requests.utils.quote(chat_id, safe="")
        responses = [
            session.get(f"{server.url}/api/chats/{safe_chat}/messages", params=query,
                        headers=headers, timeout=10),
            session.get(f"{server.url}/api/chats/{safe_chat}/changes",
                        params={("after_version" if k == "after_seq" else k): v
                                for k, v in query.items()}, headers=headers, timeout=10),
            session.post(f"{server.url}/api/message-auth", data=json.dumps(body),
                         headers=headers, timeout=10),
            session.get(f"{server.url}/api/me", headers=headers, timeout=10),
        ]
        hostile["tried"]["http"] = hostile["tried"].get("http", 0) + len(responses)
        for response in responses:
            check_answer(response)

    attempt()


def check_answer(response: requests.Response) -> None:
    """A route's answer is a success or the protocol's error shape, never a stack trace."""
    assert response.status_code in (200, 201, 400, 401, 403, 404, 413, 429), response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["code"] in ERROR_CODES and "Traceback" not in error["message"]


header_text = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)
file_names = st.one_of(st.sampled_from(["notes.txt", "a/b", "a\\b", "..", "\x00", "x" * 256,
                                        "\u202egnp.exe", " ", "é.txt"]), st.text(max_size=30))


def test_hostile_file_and_search_requests_get_protocol_errors(hostile, full_counts):
    """Protocol 1.1's routes: uploads, downloads, links, search and members."""
    server, files = hostile["server"], hostile["files"]
    tokens = [server.tokens["alice"], server.tokens["bob"], "", "nope"]
    session = requests.Session()
    good_link = session.post(f"{server.url}/api/files/{files['FILE_OWN']}/link", timeout=10,
                             headers={"Authorization": f"Bearer {tokens[0]}"}).json()["url"]
    good_sig = good_link.split("sig=", 1)[1]

    @settings(max_examples=examples(full_counts, 0.1), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(token=st.sampled_from(tokens),
           chat_id=st.one_of(st.sampled_from(CHAT_IDS[:4]), st.text(max_size=20)),
           name=st.one_of(st.none(), file_names), content_type=st.one_of(st.none(), header_text),
           body=st.binary(max_size=200),
           file_id=st.one_of(st.sampled_from(sorted(files)), st.text(max_size=40)),
           sig=st.one_of(st.just(good_sig), st.just(good_sig[:-1] + "A"), header_text),
           search=st.dictionaries(st.sampled_from(["q", "chat_id", "limit", "x"]),
                                  st.one_of(st.text(max_size=30), st.integers(-(2**70), 2**70)),
                                  max_size=3))
    def attempt(token, chat_id, name, content_type, body, file_id, sig, search):
        headers = {"Authorization": f"Bearer {token}"}
        safe_chat = requests.utils.quote(chat_id, safe="")
        file_id = requests.utils.quote(files.get(file_id, file_id), safe="")
        upload_headers = {**headers, **({"Content-Type": content_type} if content_type else {})}
        uploaded = session.post(f"{server.url}/api/chats/{safe_chat}/files",
                                params={} if name is None else {"name": name}, data=body,
                                headers=upload_headers, timeout=10)
        responses = [
            uploaded,
            session.get(f"{server.url}/api/files/{file_id}", headers=headers, timeout=10),
            session.get(f"{server.url}/api/files/{file_id}", params={"sig": sig}, timeout=10),
            session.post(f"{server.url}/api/files/{file_id}/link", headers=headers, timeout=10),
            session.get(f"{server.url}/api/search", params=search, headers=headers, timeout=10),
            session.get(f"{server.url}/api/chats/{safe_chat}/members", headers=headers,
                        timeout=10),
        ]
        hostile["tried"]["http_1_1"] = hostile["tried"].get("http_1_1", 0) + len(responses)
        for response in responses:
            check_answer(response)
        if uploaded.status_code == 201:  # what was accepted is exactly what was sent
            stored = uploaded.json()["file"]
            assert stored["size"] == len(body)
            assert stored["sha256"] == hashlib.sha256(body).hexdigest()
            back = session.get(f"{server.url}/api/files/{stored['id']}", headers=headers,
                               timeout=10)
            assert back.content == body

    attempt()


def test_deeply_nested_parts_are_bad_requests(hostile):
    attacker, server = hostile["attacker"], hostile["server"]
    deep: object = "bottom"
    for _ in range(200):
        deep = [deep]
    ack = attacker.call("send_message", {"chat_id": "general", "text": "t", "parts": [deep],
                                         "auth": fetch_auth(server, server.tokens["alice"],
                                                            "general"), "client_id": "deep"})
    assert check_ack(ack) is False and ack["error"]["code"] == "bad_request"


def test_numbers_json_cannot_carry_are_bad_requests_and_nothing_is_stored(hostile):
    """python-socketio's json module writes NaN on the wire and reads it back; a browser's
    JSON.parse would refuse the broadcast and every history page that held it."""
    attacker, server = hostile["attacker"], hostile["server"]
    for index, cell in enumerate([float("nan"), float("inf"), float("-inf")]):
        ack = attacker.call("send_message", {
            "chat_id": "general", "text": f"cell {index}",
            "parts": [{"type": "table", "columns": ["x"], "rows": [[cell]]}],
            "auth": fetch_auth(server, server.tokens["alice"], "general"),
            "client_id": f"not-json-{index}"})
        assert check_ack(ack) is False and ack["error"]["code"] == "bad_request"
        assert "JSON cannot carry" in ack["error"]["message"]
    history = requests.get(f"{server.url}/api/chats/general/messages",
                           headers={"Authorization": f"Bearer {server.tokens['alice']}"},
                           timeout=10)
    assert history.status_code == 200
    assert not [m for m in history.json()["messages"] if m["text"].startswith("cell ")]


def raw_socket(server, token: str) -> websocket.WebSocket:
    """A hand-driven Engine.IO v4 websocket, to send frames no well-behaved client would."""
    ws = websocket.create_connection(
        server.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket", timeout=10)
    assert ws.recv().startswith("0")
    ws.send("40" + json.dumps({"token": token}))
    assert ws.recv().startswith("40")
    return ws


MALFORMED_FRAMES = {
    "deep nesting": "421" + json.dumps(["send_message"])[:-1] + ","
    + "[" * 100_000 + "]" * 100_000 + "]",
    "over the buffer": "422" + json.dumps(["send_message", {"chat_id": "general",
                                                              "text": "y" * 3_000_000}]),
    "not json": "42not json at all",
    "empty event": "423[]",
    "number as event": "424[42, {}]",
    "extra arguments": "425" + json.dumps(["join", {"chat_id": "general"}, "extra", "args"]),
    "bad binary header": "45-1-[\"join\"]",
}


@pytest.mark.parametrize("frame", list(MALFORMED_FRAMES.values()), ids=list(MALFORMED_FRAMES))
def test_malformed_frames_leave_the_server_up(hostile, frame):
    server = hostile["server"]
    ws = raw_socket(server, server.tokens["alice"])
    try:
        ws.settimeout(1.0)
        try:
            ws.send(frame)
            reply = ws.recv()
        except (websocket.WebSocketException, OSError):
            reply = ""  # the server dropped (or ignored) a frame that broke the rules
        if reply.startswith("43"):
            ack = json.loads(reply[reply.index("["):])[0]
            check_ack(ack)
    finally:
        with contextlib.suppress(OSError):  # the server may have dropped the connection
            ws.close()
    assert server.process.poll() is None
    survivor = RawClient(server, server.tokens["alice"])
    assert survivor.join("general")["ok"]
    survivor.close()


def received(hostile) -> list[tuple[str, dict]]:
    """Every event the listener received so far (kept for the tests that follow)."""
    events = hostile["listener"].events
    while not events.empty():
        hostile["received"].append(events.get())
    return hostile["received"]


def test_nothing_refused_was_stored_or_broadcast(hostile):
    """Runs last in this module: what was stored and broadcast is exactly what was accepted."""
    listener = hostile["listener"]
    accepted_ids = {m["id"] for m in hostile["accepted"]}
    stored = set()
    for chat_id, after in hostile["start_seq"].items():
        while True:
            page = listener.call("history", {"chat_id": chat_id, "after_seq": after,
                                             "limit": 500})
            stored |= {m["id"] for m in page["messages"] if m["sender"]["kind"] == "user"}
            if not page["has_more"]:
                break
            after = page["messages"][-1]["seq"]
    broadcast = {payload["id"] for kind, payload in received(hostile)
                 if kind == "message" and payload["sender"]["kind"] == "user"}
    assert stored == accepted_ids
    assert broadcast == accepted_ids


def test_no_refused_change_was_stored_or_broadcast(hostile):
    """Every change stored or broadcast during the attack is one an ack accepted."""
    listener = hostile["listener"]
    start = hostile["start_version"]
    accepted = {(m["id"], m["version"]) for m in hostile["changed"]
                if m["version"] > start[m["chat_id"]]}
    stored = set()
    for chat_id, after in start.items():
        stored |= {(m["id"], m["version"]) for m in listener.all_changes(chat_id, after)}
    broadcast = {(m["id"], m["version"]) for kind, m in received(hostile)
                 if kind == "message_updated"}
    assert stored <= accepted
    assert broadcast == accepted
