"""`GET /api/search` (protocol 1.1) on SQLite (FTS5) and PostgreSQL (tsvector), against
the real server: whole words in any case, every word, best first, only what the user
may open, and an index kept in step with edits and deletes."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import RawClient, http


@pytest.fixture
def alice(store_server):
    client = RawClient(store_server, store_server.tokens["alice"])
    client.join("general")
    client.join("echo")
    yield client
    client.close()


def word() -> str:
    """A word no other test (or earlier run on this database) has written."""
    return "w" + uuid.uuid4().hex[:10]


def search(server, user: str = "alice", **query) -> list[dict]:
    response = http(server, "GET", "/api/search", server.tokens[user], params=query)
    assert response.status_code == 200, response.text
    return response.json()["messages"]


def refused(server, user: str = "alice", **query) -> tuple[int, str]:
    response = http(server, "GET", "/api/search", server.tokens[user], params=query)
    return response.status_code, response.json()["error"]["code"]


def sent(client: RawClient, chat_id: str, text: str) -> dict:
    ack = client.send(chat_id, text)
    assert ack["ok"], ack
    return ack["message"]


def test_whole_words_in_any_case_every_word_best_first(store_server, alice):
    first, second = word(), word()
    once = sent(alice, "general", f"one {first} among many other words in a longer message")
    thrice = sent(alice, "general", f"{first.upper()} {first} {first.title()}")
    both = sent(alice, "general", f"{second}, then {first}!")
    sent(alice, "general", f"{first}x and x{first} are other words")
    found = [m["id"] for m in search(store_server, q=first)]
    assert set(found) == {once["id"], thrice["id"], both["id"]}
    assert found[0] == thrice["id"]  # the best match first
    assert [m["id"] for m in search(store_server, q=f"{second.upper()} {first}")] == \
        [both["id"]]
    assert search(store_server, q=f"{second} {word()}") == []  # every word must occur
    assert len(search(store_server, q=first, limit=2)) == 2
    assert search(store_server, q=first)[0]["text"] == thrice["text"]  # whole messages


def test_edits_and_deletes_keep_the_index_in_step(store_server, alice):
    old, new = word(), word()
    message = sent(alice, "general", f"before the edit: {old}")
    assert [m["id"] for m in search(store_server, q=old)] == [message["id"]]
    edited = alice.edit("general", message["id"], f"after the edit: {new}")
    assert edited["ok"], edited
    assert search(store_server, q=old) == []
    (found,) = search(store_server, q=new)
    assert (found["id"], found["version"], found["edited_at"]) == (
        message["id"], edited["message"]["version"], edited["message"]["edited_at"])
    assert alice.delete("general", message["id"])["ok"]
    assert search(store_server, q=new) == []  # deleted messages never match


def test_a_message_changed_before_any_search_is_found_as_it_stands(store_server, alice):
    # On SQLite new messages wait for the index in batches (search.py): an edit or a
    # delete of one not yet indexed must still leave the index right.
    old, new, gone = word(), word(), word()
    edited = sent(alice, "general", f"first draft: {old}")
    deleted = sent(alice, "general", f"soon a tombstone: {gone}")
    assert alice.edit("general", edited["id"], f"second draft: {new}")["ok"]
    assert alice.delete("general", deleted["id"])["ok"]
    assert search(store_server, q=old) == []
    assert [m["id"] for m in search(store_server, q=new)] == [edited["id"]]
    assert search(store_server, q=gone) == []
    assert alice.edit("general", edited["id"], f"third draft: {old}")["ok"]  # indexed now
    assert search(store_server, q=new) == []
    assert [m["id"] for m in search(store_server, q=old)] == [edited["id"]]


def test_only_chats_the_user_may_open_or_the_one_named(store_server, alice):
    shared = word()
    in_general = sent(alice, "general", f"general says {shared}")
    in_echo = sent(alice, "echo", f"echo says {shared}")
    assert {m["id"] for m in search(store_server, q=shared)} >= {in_general["id"], in_echo["id"]}
    assert {m["id"] for m in search(store_server, q=shared, chat_id="general")} == \
        {in_general["id"]}
    assert search(store_server, user="carol", q=shared) == []  # another workspace
    assert refused(store_server, user="carol", q=shared, chat_id="general") == (403, "forbidden")
    assert refused(store_server, q=shared, chat_id="no-such-chat") == (404, "not_found")


@pytest.mark.parametrize("query", [{}, {"q": ""}, {"q": "  ?! "}, {"q": "x" * 501},
                                   {"q": "fine", "limit": "0"}, {"q": "fine", "limit": "101"},
                                   {"q": "fine", "limit": "many"}])
def test_bad_queries_are_bad_requests(store_server, query):
    assert refused(store_server, **query) == (400, "bad_request")


def test_search_needs_a_token(store_server):
    response = http(store_server, "GET", "/api/search", params={"q": "hello"})
    assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthorized")
