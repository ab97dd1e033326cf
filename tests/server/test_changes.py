"""Protocol 1.1 edit, delete, react and changes: every rule and error code, on the real server.

One server for the module; each test works on messages of its own, so it
checks versions relative to what it saw, never absolute numbers.
"""

from __future__ import annotations

import time
import uuid

import pytest

from tests.conftest import start_server
from tests.helpers import RawClient, fetch_auth, http


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("changes"))
    yield running
    running.stop()


def joined_general(chat_server, name: str):
    client = RawClient(chat_server, chat_server.tokens[name])
    client.join("general")
    yield client
    client.close()


@pytest.fixture
def alice(chat_server):
    yield from joined_general(chat_server, "alice")


@pytest.fixture
def bob(chat_server):
    yield from joined_general(chat_server, "bob")


def sent_by(client: RawClient, text: str = "", chat_id: str = "general", **extra) -> dict:
    """A new message of the client's (joining `chat_id` first if it is not general)."""
    if chat_id != "general":
        client.join(chat_id)
    ack = client.send(chat_id, text or f"message {uuid.uuid4().hex[:8]}", **extra)
    assert ack["ok"], ack
    return ack["message"]


def last_version(client: RawClient, chat_id: str = "general") -> int:
    return client.join(chat_id)["chat"]["last_version"]


def updated_event(client: RawClient, message: dict) -> dict:
    """The `message_updated` of this message at its version (earlier ones are skipped)."""
    while True:
        event = client.next_event("message_updated")
        if event["id"] == message["id"] and event["version"] >= message["version"]:
            return event


# --- the new fields ---------------------------------------------------------------


def test_a_new_message_carries_the_new_fields_unchanged(alice):
    message = sent_by(alice, "plain")
    assert (message["version"], message["edited_at"], message["deleted"],
            message["reactions"], message["mentions"]) == (0, None, False, [], [])
    stored = alice.call("history", {"chat_id": "general", "after_seq": message["seq"] - 1,
                                    "limit": 1})["messages"][0]
    assert stored == message


def test_members_named_as_at_user_id_are_mentions(alice):
    message = sent_by(alice, "@bob, look; @alice's too; not @carol (other workspace), "
                             "not @bobby, not mail@bob, @bob again")
    assert message["mentions"] == ["bob", "alice"]
    echo = sent_by(alice, "hi @bot:echo", chat_id="echo")
    assert echo["mentions"] == ["bot:echo"]


def test_health_says_protocol_1_1(chat_server):
    assert http(chat_server, "GET", "/api/health").json()["protocol"] == "1.1"


def test_chats_carry_last_version(alice, chat_server):
    sent = sent_by(alice)
    before = last_version(alice)
    assert alice.react("general", sent["id"], "👍")["ok"]
    chats = http(chat_server, "GET", "/api/chats", chat_server.tokens["alice"]).json()["chats"]
    assert next(c for c in chats if c["id"] == "general")["last_version"] == before + 1


# --- edit -------------------------------------------------------------------------


def test_an_edit_replaces_the_text_takes_the_next_version_and_reaches_the_room(alice, bob):
    original = sent_by(alice, "tpyo")
    before = last_version(alice)
    ack = alice.edit("general", original["id"], "typo fixed, @bob")
    assert ack["ok"], ack
    edited = ack["message"]
    assert edited["text"] == "typo fixed, @bob" and edited["mentions"] == ["bob"]
    assert edited["version"] == before + 1
    assert edited["edited_at"].endswith("Z") and edited["edited_at"] >= original["created_at"]
    unchanged = ("id", "seq", "sender", "client_id", "created_at", "reply_to", "parts")
    assert {k: edited[k] for k in unchanged} == {k: original[k] for k in unchanged}
    assert updated_event(bob, edited) == edited
    assert updated_event(alice, edited) == edited


def test_an_edit_without_parts_keeps_them_and_with_parts_replaces_them(alice):
    parts = [{"type": "markdown", "text": "**kept**"}]
    message = sent_by(alice, "with parts", parts=parts)
    kept = alice.edit("general", message["id"], "new text")["message"]
    assert kept["parts"] == parts
    replaced = alice.edit("general", message["id"], "new text",
                          parts=[{"type": "code", "language": "py", "text": "1"}])["message"]
    assert replaced["parts"] == [{"type": "code", "language": "py", "text": "1"}]
    assert replaced["version"] == kept["version"] + 1


def test_an_edit_that_changes_nothing_takes_no_version_and_is_not_broadcast(alice, bob):
    message = sent_by(alice, "same", parts=[{"type": "markdown", "text": "p"}])
    before = last_version(alice)
    ack = alice.edit("general", message["id"], "same")
    assert ack["ok"] and ack["message"] == message
    ack = alice.edit("general", message["id"], "same",
                     parts=[{"type": "markdown", "text": "p"}])
    assert ack["ok"] and ack["message"] == message
    assert last_version(alice) == before
    assert bob.no_event_within(0.5, "message_updated")


def test_only_the_sender_may_edit(alice, bob):
    message = sent_by(alice)
    assert bob.edit("general", message["id"], "mine now")["error"]["code"] == "forbidden"


def test_edit_refusals_carry_their_codes(alice, chat_server):
    message = sent_by(alice)
    other_chat = sent_by(alice, chat_id="echo")
    assert alice.edit("general", "no-such-id", "x")["error"]["code"] == "not_found"
    assert alice.edit("general", other_chat["id"], "x")["error"]["code"] == "not_found"
    assert alice.edit("general", message["id"], "x" * (64 * 1024 + 1))["error"]["code"] \
        == "too_large"
    big = [{"type": "markdown", "text": "y" * 60_000}] * 18
    assert alice.edit("general", message["id"], "", parts=big)["error"]["code"] == "too_large"
    for bad in ({"text": 5}, {"text": "x", "id": 7}, {"text": "x", "parts": "no"},
                {"text": "nul \x00"}, {"text": "x", "chat_id": ""}):
        payload = {"chat_id": "general", "id": message["id"],
                   "auth": fetch_auth(chat_server, chat_server.tokens["alice"], "general"),
                   **bad}
        assert alice.call("edit_message", payload)["error"]["code"] == "bad_request", bad
    carol = RawClient(chat_server, chat_server.tokens["carol"])
    assert carol.call("edit_message", {"chat_id": "general", "id": message["id"], "text": "x",
                                       "auth": "x"})["error"]["code"] == "forbidden"
    carol.close()


def test_edit_needs_a_join(chat_server):
    alice = RawClient(chat_server, chat_server.tokens["alice"])
    alice.join("general")
    message = sent_by(alice)
    late = RawClient(chat_server, chat_server.tokens["alice"])
    try:
        assert late.edit("general", message["id"], "x")["error"]["code"] == "not_joined"
    finally:
        late.close()
        alice.close()


def test_an_edit_needs_a_fresh_authorization_string_like_a_send(alice, chat_server):
    message = sent_by(alice)
    auth = fetch_auth(chat_server, chat_server.tokens["alice"], "general")
    wrong_chat = fetch_auth(chat_server, chat_server.tokens["alice"], "echo")
    wrong_user = fetch_auth(chat_server, chat_server.tokens["bob"], "general")

    def edit(text: str, auth_string: object) -> dict:
        return alice.call("edit_message", {"chat_id": "general", "id": message["id"],
                                           "text": text, "auth": auth_string})

    for bad in ("forged", None, 3, wrong_chat, wrong_user, auth[:-2] + "xx"):
        assert edit("x", bad)["error"]["code"] == "invalid_auth", bad
    # A refused edit does not spend the string; a used one is spent for sends too.
    assert edit("x" * (64 * 1024 + 1), auth)["error"]["code"] == "too_large"
    assert alice.call("edit_message", {"chat_id": "general", "id": "missing", "text": "x",
                                       "auth": auth})["error"]["code"] == "not_found"
    assert edit("first", auth)["ok"]
    assert edit("second", auth)["error"]["code"] == "auth_reused"
    assert alice.call("send_message", {"chat_id": "general", "text": "t", "auth": auth,
                                       "client_id": uuid.uuid4().hex})["error"]["code"] \
        == "auth_reused"


def test_an_edit_with_an_expired_string_is_auth_expired(server_factory):
    short = server_factory(extra_args=["--auth-ttl", "0.3"])
    alice = RawClient(short, short.tokens["alice"])
    alice.join("general")
    message = sent_by(alice)
    auth = fetch_auth(short, short.tokens["alice"], "general")
    time.sleep(0.5)
    ack = alice.call("edit_message", {"chat_id": "general", "id": message["id"],
                                      "text": "late", "auth": auth})
    alice.close()
    assert ack["error"]["code"] == "auth_expired"


def test_an_edit_gets_no_responder_answer(chat_server):
    alice = RawClient(chat_server, chat_server.tokens["alice"])
    alice.join("echo")
    question = sent_by(alice, "ping", chat_id="echo")
    answer = alice.next_event("message")
    while answer["id"] == question["id"]:
        answer = alice.next_event("message")
    assert answer["reply_to"] == question["id"]
    edited = alice.edit("echo", question["id"], "pong")["message"]
    assert alice.next_event("message_updated")["id"] == edited["id"]
    assert alice.no_event_within(0.5, "message_updated")
    alice.close()


# --- delete -----------------------------------------------------------------------


def test_a_delete_leaves_a_tombstone_in_place(alice, bob):
    message = sent_by(alice, "oops @bob", parts=[{"type": "markdown", "text": "x"}])
    edited = alice.edit("general", message["id"], "oops again @bob")["message"]
    assert bob.react("general", message["id"], "👀")["ok"]
    before = last_version(alice)
    ack = alice.delete("general", message["id"])
    assert ack["ok"], ack
    tombstone = ack["message"]
    assert tombstone["deleted"] is True and tombstone["version"] == before + 1
    assert (tombstone["text"], tombstone["parts"], tombstone["reactions"],
            tombstone["mentions"]) == ("", [], [], [])
    assert tombstone["edited_at"] == edited["edited_at"]
    assert (tombstone["id"], tombstone["seq"]) == (message["id"], message["seq"])
    assert updated_event(bob, tombstone) == tombstone
    page = bob.call("history", {"chat_id": "general", "after_seq": message["seq"] - 1,
                                "limit": 1})["messages"]
    assert page == [tombstone]


def test_deleting_a_tombstone_answers_it_and_changes_nothing(alice, bob):
    message = sent_by(alice)
    tombstone = alice.delete("general", message["id"])["message"]
    updated_event(bob, tombstone)
    before = last_version(alice)
    again = alice.delete("general", message["id"])
    assert again["ok"] and again["message"] == tombstone
    assert last_version(alice) == before and bob.no_event_within(0.5, "message_updated")


def test_a_tombstone_cannot_be_edited_or_reacted_to(alice, bob):
    message = sent_by(alice)
    assert alice.delete("general", message["id"])["ok"]
    assert alice.edit("general", message["id"], "back")["error"]["code"] == "not_found"
    assert bob.react("general", message["id"], "👍")["error"]["code"] == "not_found"


def test_delete_refusals_carry_their_codes(alice, bob, chat_server):
    message = sent_by(alice)
    assert bob.delete("general", message["id"])["error"]["code"] == "forbidden"
    assert alice.delete("general", "no-such-id")["error"]["code"] == "not_found"
    assert alice.delete("echo", message["id"])["error"]["code"] == "not_joined"
    assert alice.call("delete_message", {"chat_id": "general"})["error"]["code"] \
        == "bad_request"
    assert alice.call("delete_message", ["general"])["error"]["code"] == "bad_request"
    assert alice.delete("staff-room", message["id"])["error"]["code"] == "forbidden"
    assert alice.delete("nowhere", message["id"])["error"]["code"] == "not_found"


# --- react ------------------------------------------------------------------------


def test_reactions_keep_the_order_of_first_use_and_list_their_users(alice, bob):
    message = sent_by(alice)
    steps = [(bob, "👍", True), (alice, "🎉", True), (alice, "👍", True), (bob, "🎉", True),
             (bob, "🎉", False)]
    for client, emoji, on in steps:
        ack = client.react("general", message["id"], emoji, on)
        assert ack["ok"], ack
        assert updated_event(bob, ack["message"]) == ack["message"]
    assert ack["message"]["reactions"] == [{"emoji": "👍", "users": ["bob", "alice"]},
                                           {"emoji": "🎉", "users": ["alice"]}]
    gone = alice.react("general", message["id"], "🎉", on=False)["message"]
    assert gone["reactions"] == [{"emoji": "👍", "users": ["bob", "alice"]}]
    back = alice.react("general", message["id"], "🎉")["message"]
    assert [r["emoji"] for r in back["reactions"]] == ["👍", "🎉"]


def test_a_reaction_that_changes_nothing_answers_the_message_as_it_is(alice, bob):
    message = sent_by(alice)
    reacted = bob.react("general", message["id"], "👍")["message"]
    updated_event(alice, reacted)
    before = last_version(alice)
    assert bob.react("general", message["id"], "👍") == {"ok": True, "message": reacted}
    assert bob.react("general", message["id"], "🎉", on=False) == {"ok": True,
                                                                   "message": reacted}
    assert last_version(alice) == before and alice.no_event_within(0.5, "message_updated")


def test_emoji_are_one_to_32_code_points_without_whitespace(alice):
    message = sent_by(alice)
    for good in ("👍", "👍🏽", "👨‍👩‍👧", ":+1:", "x" * 32):
        assert alice.react("general", message["id"], good)["ok"], good
    for bad in ("", "x" * 33, "👍 ", "a\tb", "\u00a0", "a\u2003b", "\x00", 5, None, ["👍"]):
        ack = alice.call("react", {"chat_id": "general", "id": message["id"], "emoji": bad,
                                   "on": True})
        assert ack["error"]["code"] == "bad_request", bad
    for bad_on in (None, 1, "true"):
        ack = alice.call("react", {"chat_id": "general", "id": message["id"], "emoji": "👍",
                                   "on": bad_on})
        assert ack["error"]["code"] == "bad_request", bad_on


def test_a_message_holds_at_most_20_distinct_emoji(alice, bob):
    message = sent_by(alice)
    for number in range(20):
        assert alice.react("general", message["id"], f"e{number}")["ok"]
    assert alice.react("general", message["id"], "one-too-many")["error"]["code"] \
        == "too_large"
    assert bob.react("general", message["id"], "e7")["ok"]  # an existing one still counts


def test_react_refusals_carry_their_codes(alice, chat_server):
    message = sent_by(alice)
    assert alice.react("general", "no-such-id", "👍")["error"]["code"] == "not_found"
    assert alice.react("echo", message["id"], "👍")["error"]["code"] == "not_joined"
    assert alice.react("staff-room", message["id"], "👍")["error"]["code"] == "forbidden"


# --- changes and catch-up ---------------------------------------------------------


def test_changes_pages_each_changed_message_once_at_its_latest_version(alice):
    start = last_version(alice)
    first, second, third = (sent_by(alice) for _ in range(3))
    alice.edit("general", first["id"], "v1")
    alice.react("general", second["id"], "👍")
    alice.edit("general", first["id"], "v2")
    alice.delete("general", third["id"])
    latest = alice.react("general", second["id"], "🎉")["message"]
    changed = alice.all_changes("general", start, limit=1)
    assert [m["id"] for m in changed] == [first["id"], third["id"], second["id"]]
    assert [m["version"] for m in changed] == [start + 3, start + 4, start + 5]
    assert changed[0]["text"] == "v2" and changed[2] == latest
    ack = alice.call("changes", {"chat_id": "general", "after_version": start, "limit": 2})
    assert len(ack["messages"]) == 2 and ack["has_more"] is True
    ack = alice.call("changes", {"chat_id": "general", "after_version": start + 5})
    assert ack == {"ok": True, "messages": [], "has_more": False}


def test_changes_refusals_carry_their_codes(alice, chat_server):
    for bad in ({"chat_id": "general"}, {"chat_id": "general", "after_version": -1},
                {"chat_id": "general", "after_version": "3"},
                {"chat_id": "general", "after_version": 0, "limit": 0},
                {"chat_id": "general", "after_version": 0, "limit": 501},
                {"after_version": 0}):
        assert alice.call("changes", bad)["error"]["code"] == "bad_request", bad
    assert alice.call("changes", {"chat_id": "echo", "after_version": 0})["error"]["code"] \
        == "not_joined"
    assert alice.call("changes", {"chat_id": "staff-room", "after_version": 0})["error"][
        "code"] == "forbidden"


def test_the_changes_route_answers_like_the_event(alice, chat_server):
    start = last_version(alice)
    message = sent_by(alice)
    alice.react("general", message["id"], "👍")
    latest = alice.edit("general", message["id"], "changed")["message"]
    token = chat_server.tokens["bob"]  # bob has not joined anything: HTTP needs no join
    body = http(chat_server, "GET", f"/api/chats/general/changes?after_version={start}",
                token).json()
    assert body == {"messages": [latest], "has_more": False}
    body = http(chat_server, "GET", f"/api/chats/general/changes?after_version={start}&limit=1",
                token).json()
    assert body["messages"] == [latest] and body["has_more"] is False
    for query, status, code in (("", 400, "bad_request"), ("?after_version=x", 400,
                                                           "bad_request"),
                                ("?after_version=0&limit=0", 400, "bad_request"),
                                ("?after_version=-2", 400, "bad_request")):
        response = http(chat_server, "GET", f"/api/chats/general/changes{query}", token)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    response = http(chat_server, "GET", "/api/chats/staff-room/changes?after_version=0", token)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden")
    response = http(chat_server, "GET", "/api/chats/general/changes?after_version=0")
    assert response.status_code == 401


def test_join_with_after_version_adds_the_changes_since(alice, chat_server):
    start = last_version(alice)
    message = sent_by(alice)
    latest = alice.react("general", message["id"], "👍")["message"]
    bob = RawClient(chat_server, chat_server.tokens["bob"])
    ack = bob.join("general", after_version=start)
    assert ack["updated"] == [latest] and ack["has_more_updates"] is False
    assert "updated" not in bob.join("general") and "has_more_updates" not in bob.join(
        "general")
    assert bob.call("join", {"chat_id": "general", "after_version": -1})["error"]["code"] \
        == "bad_request"
    bob.close()


# --- what each user has yet to read -------------------------------------------------


def reader_view(client: RawClient, chat_server, name: str) -> tuple[dict, dict]:
    """The general chat as `join` and as `GET /api/chats` show it to `name`."""
    joined = client.join("general")["chat"]
    listed = http(chat_server, "GET", "/api/chats", chat_server.tokens[name]).json()["chats"]
    return joined, next(c for c in listed if c["id"] == "general")


def counts(chat: dict) -> tuple[int, int, int]:
    return chat["last_read_seq"], chat["unread"], chat["unread_mentions"]


def test_unread_counts_follow_sends_edits_and_deletes(alice, bob, chat_server):
    joined, listed = reader_view(bob, chat_server, "bob")
    assert joined == {**listed, "last_seq": joined["last_seq"]} and listed["last_read_seq"] == 0
    _, unread, mentions = counts(joined)
    plain = sent_by(alice, "no mention")
    naming = sent_by(alice, "hey @bob")
    sent_by(bob, "bob's own messages are never unread for bob, even @bob")
    for chat in reader_view(bob, chat_server, "bob"):
        assert counts(chat) == (0, unread + 2, mentions + 1)
    alice.delete("general", naming["id"])
    for chat in reader_view(bob, chat_server, "bob"):
        assert counts(chat) == (0, unread + 1, mentions)
    alice.edit("general", plain["id"], "now naming @bob")
    for chat in reader_view(bob, chat_server, "bob"):
        assert counts(chat) == (0, unread + 1, mentions + 1)
    alice.edit("general", plain["id"], "and not any more")
    for chat in reader_view(bob, chat_server, "bob"):
        assert counts(chat) == (0, unread + 1, mentions)
