"""ChatWidget's protocol 1.1 requests against a real server: presence, typing, reads, files, search.

No kernel: the front end's messages are delivered to the widget's comm
handler as a view would send them (uploads with their bytes as buffers), and
`Recorder` (tests/test_widget.py) captures what goes back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from chat_widget import demo
from chat_widget.client import ChatClient
from chat_widget.widget import ChatWidget
from tests.test_widget import Recorder, wait_for

CHUNK = 4096


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    running = demo.start_server(rate_limit=0)
    yield running
    running.stop()


@pytest.fixture
def alice(server: Any) -> Iterator[ChatWidget]:
    widget = ChatWidget(url=server.url, token=server.tokens["alice"], chat_id="general")
    yield widget
    widget.close()


@pytest.fixture
def bob(server: Any) -> Iterator[ChatClient]:
    client = ChatClient(server.url, server.tokens["bob"])
    client.connect()
    client.join("general")
    yield client
    client.close()


def front_end_sends(widget: ChatWidget, content: dict[str, Any],
                    buffers: list[bytes] | None = None) -> None:
    widget._handle_custom_msg(content, buffers or [])


def upload_from_front_end(widget: ChatWidget, upload_id: str, name: str, data: bytes,
                          mime: str = "application/octet-stream") -> None:
    front_end_sends(widget, {"type": "upload", "request_id": f"r-{upload_id}",
                             "upload_id": upload_id, "name": name, "mime": mime,
                             "size": len(data)})
    for offset in range(0, len(data), CHUNK):
        front_end_sends(widget, {"type": "upload_chunk", "upload_id": upload_id,
                                 "offset": offset}, [data[offset:offset + CHUNK]])


def test_a_dropped_file_arrives_in_chunks_and_is_sent_as_a_file_part(
        alice: ChatWidget, bob: ChatClient) -> None:
    recorder = Recorder(alice)
    data = bytes(range(256)) * 40  # 10,240 bytes: three chunks
    upload_from_front_end(alice, "up-1", "data.bin", data)
    sent = recorder.wait_custom(lambda c: c["type"] == "sent" and c["local_id"] == "up-1")
    progress = [c["received"] for c in recorder.customs("upload_progress")]
    assert progress == [0, 4096, 8192, 10240]  # the bar follows each acknowledged chunk
    done = recorder.customs("upload_done")[0]
    assert done["file"]["size"] == len(data)
    [part] = sent["message"]["parts"]
    assert part == {"type": "file", "file_id": done["file"]["id"], "name": "data.bin",
                    "mime": "application/octet-stream", "size": len(data)}
    assert bob.download(part) == data  # what bob fetches is what the browser had


def test_a_chunk_out_of_place_or_a_file_too_large_fails_plainly(alice: ChatWidget) -> None:
    recorder = Recorder(alice)
    front_end_sends(alice, {"type": "upload", "request_id": "r1", "upload_id": "up-2",
                            "name": "a.bin", "size": 10})
    front_end_sends(alice, {"type": "upload_chunk", "upload_id": "up-2", "offset": 5}, [b"abc"])
    failed = recorder.wait_custom(lambda c: c["type"] == "upload_failed")
    assert failed["upload_id"] == "up-2" and failed["error"]["code"] == "bad_request"
    assert failed["error"]["message"] == "A chunk came at byte 5, expected 0."
    front_end_sends(alice, {"type": "upload", "request_id": "r2", "upload_id": "up-3",
                            "name": "big.bin", "size": alice.max_file_bytes + 1})
    refused = recorder.wait_custom(lambda c: c["type"] == "upload_failed"
                                   and c["upload_id"] == "up-3")
    assert refused["request_id"] == "r2" and refused["error"]["code"] == "too_large"
    assert recorder.customs("sending") == []  # nothing went into the chat


def test_a_download_link_and_a_search_are_answered_for_the_front_end(
        alice: ChatWidget, bob: ChatClient) -> None:
    recorder = Recorder(alice)
    file = bob.upload(b"col\n1\n", "numbers.csv", mime="text/csv")
    bob.send({"text": "the quarterly figures", "parts": [
        {"type": "file", "file_id": file["id"], "name": file["name"], "mime": file["mime"],
         "size": file["size"]}]})
    front_end_sends(alice, {"type": "file_link", "request_id": "r-link", "file_id": file["id"]})
    link = recorder.wait_custom(lambda c: c["type"] == "file_link")
    assert recorder.customs("received")[0]["request_id"] == "r-link"  # answered at once
    fetched = requests.get(link["url"], timeout=10)  # no token: the link is signed
    assert fetched.status_code == 200 and fetched.content == b"col\n1\n"
    front_end_sends(alice, {"type": "file_link", "request_id": "r-bad", "file_id": "nope"})
    missing = recorder.wait_custom(
        lambda c: c["type"] == "file_link" and c["request_id"] == "r-bad")
    assert "url" not in missing and missing["error"]

    front_end_sends(alice, {"type": "search", "request_id": "r-find", "q": "QUARTERLY"})
    found = recorder.wait_custom(lambda c: c["type"] == "search_results")
    assert [m["text"] for m in found["messages"]] == ["the quarterly figures"]
    front_end_sends(alice, {"type": "search", "request_id": "r-empty", "q": "  "})
    empty = recorder.wait_custom(lambda c: c["type"] == "search_results"
                                 and c["request_id"] == "r-empty")
    assert empty["messages"] == [] and empty["error"]


def ids(users: list[dict[str, Any]]) -> set[str]:
    return {user["id"] for user in users}


def test_presence_typing_and_members_follow_the_client(alice: ChatWidget,
                                                      bob: ChatClient) -> None:
    wait_for(alice, lambda: ids(alice.present) >= {"alice", "bob"})
    wait_for(alice, lambda: ids(alice.member_list) >= {"alice", "bob"})
    bob.set_typing(True, chat_id="general")
    wait_for(alice, lambda: ids(alice.typing_users) == {"bob"})
    bob.set_typing(False, chat_id="general")
    wait_for(alice, lambda: alice.typing_users == [])
    bob_sees: list[tuple[str, str, bool]] = []
    seen = threading.Event()

    def record(chat_id: str, user: dict[str, Any], typing: bool) -> None:
        bob_sees.append((chat_id, user["id"], typing))
        seen.set()

    bob.on_typing(record)
    front_end_sends(alice, {"type": "typing", "typing": True})
    assert seen.wait(10) and bob_sees[-1] == ("general", "alice", True)
    # A send is likely: its authorization string was fetched while the user typed.
    wait_for(alice, lambda: alice.client._auth.ready("general"))


def test_a_mention_counts_as_unread_until_the_front_end_saw_it(alice: ChatWidget,
                                                              bob: ChatClient) -> None:
    def general() -> dict[str, Any]:
        return next((c for c in alice.chat_list if c["id"] == "general"), {})

    sent = bob.send("look here @alice")
    wait_for(alice, lambda: general().get("last_seq") == sent["seq"])
    assert general()["unread"] >= 1 and general()["unread_mentions"] >= 1
    front_end_sends(alice, {"type": "read", "chat_id": "general", "seq": sent["seq"]})
    wait_for(alice, lambda: alice.last_read_seq == sent["seq"])
    wait_for(alice, lambda: (general()["unread"], general()["unread_mentions"]) == (0, 0))
    assert general()["last_read_seq"] == sent["seq"]
    front_end_sends(alice, {"type": "read", "chat_id": "general", "seq": True})  # ignored
    snapshot = Recorder(alice)
    front_end_sends(alice, {"type": "sync", "request_id": "r-sync"})
    assert snapshot.customs("snapshot")[0]["last_read_seq"] == sent["seq"]
