"""Protocol 1.1 files against the real server: every rule of the routes and of file parts.

One server for the module (SQLite, bytes beside the database file), with a
small `--max-file-size`; PostgreSQL and the 25 MiB round trip are in
test_files_large.py.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest

from chat_widget.server.file_links import FileLinks
from tests.client.common import wait_until
from tests.conftest import start_server
from tests.helpers import RawClient, http


@pytest.fixture(scope="module")
def files_server(tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("files"),
                           extra_args=["--max-file-size", "64KiB"])
    yield running
    running.stop()


def blob_dir(server) -> Path:
    return Path(server.db_url.split(":///", 1)[1] + ".files")


def upload(server, user: str, data: bytes | object, name: str = "notes.txt",
           mime: str | None = "text/plain", chat_id: str = "general"):
    headers = {"Content-Type": mime} if mime else {}
    return http(server, "POST", f"/api/chats/{chat_id}/files", server.tokens[user],
                params={"name": name}, data=data, headers=headers)


def uploaded(server, user: str, data: bytes, **kwargs) -> dict:
    response = upload(server, user, data, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()["file"]


def refusal(response) -> str:
    return response.json()["error"]["code"]


@pytest.mark.parametrize("mime", ["text/html", "image/svg+xml", "application/xml", "text/xml",
                                  "application/xhtml+xml", "text/javascript",
                                  "application/javascript", "application/ecmascript"])
def test_types_a_browser_could_run_are_served_as_octet_stream(files_server, mime):
    data = b"<script>alert(1)</script>"
    stored = uploaded(files_server, "alice", data, name="page", mime=mime)
    assert stored["mime"] == mime  # the File says what was uploaded
    fetched = http(files_server, "GET", f"/api/files/{stored['id']}",
                   files_server.tokens["alice"])
    assert fetched.status_code == 200 and fetched.content == data
    assert fetched.headers["Content-Type"] == "application/octet-stream"
    assert fetched.headers["X-Content-Type-Options"] == "nosniff"


def test_a_download_is_an_attachment_under_its_exact_name(files_server):
    name = 'Résultats "finals" 100%.csv'
    stored = uploaded(files_server, "alice", b"a,b\n", name=name, mime="text/csv; charset=utf-8")
    assert stored["mime"] == "text/csv"
    fetched = http(files_server, "GET", f"/api/files/{stored['id']}", files_server.tokens["bob"])
    assert fetched.headers["Content-Type"].startswith("text/csv")
    assert fetched.headers["X-Content-Type-Options"] == "nosniff"
    disposition = fetched.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == name
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and '"' not in fallback


def test_only_members_of_the_chat_may_upload_or_fetch(files_server):
    stored = uploaded(files_server, "alice", b"members only")
    carol = files_server.tokens["carol"]  # of the other workspace
    assert refusal(upload(files_server, "carol", b"x")) == "forbidden"
    for method, path in (("GET", f"/api/files/{stored['id']}"),
                         ("POST", f"/api/files/{stored['id']}/link")):
        response = http(files_server, method, path, carol)
        assert (response.status_code, refusal(response)) == (403, "forbidden")
        response = http(files_server, method, path)
        assert (response.status_code, refusal(response)) == (401, "unauthorized")
    assert refusal(upload(files_server, "alice", b"x", chat_id="no-such-chat")) == "not_found"
    missing = http(files_server, "GET", "/api/files/no-such-file", files_server.tokens["alice"])
    assert (missing.status_code, refusal(missing)) == (404, "not_found")


@pytest.mark.parametrize("name", ["", "a/b", "a\\b", "tab\there", "nul\x00", "bell\x07",
                                  "x" * 256])
def test_bad_names_are_bad_requests(files_server, name):
    response = upload(files_server, "alice", b"x", name=name)
    assert (response.status_code, refusal(response)) == (400, "bad_request")


def test_a_missing_name_or_a_malformed_type_is_a_bad_request(files_server):
    no_name = http(files_server, "POST", "/api/chats/general/files",
                   files_server.tokens["alice"], data=b"x")
    assert refusal(no_name) == "bad_request"
    assert refusal(upload(files_server, "alice", b"x", mime="not a type")) == "bad_request"
    assert uploaded(files_server, "alice", b"x", name="n" * 255, mime=None)["mime"] == \
        "application/octet-stream"


def server_secret(server) -> str:
    with sqlite3.connect(server.db_url.split(":///", 1)[1]) as db:
        return db.execute("SELECT value FROM settings WHERE key = 'secret'").fetchone()[0]


def test_a_link_fetches_without_a_token_until_it_is_tampered_with_or_expires(files_server):
    data = b"linked bytes"
    stored = uploaded(files_server, "alice", data, name="page.html", mime="text/html")
    other = uploaded(files_server, "alice", b"other", name="other.txt")
    answer = http(files_server, "POST", f"/api/files/{stored['id']}/link",
                  files_server.tokens["alice"]).json()
    assert time.time() < answer["expires_at"] <= time.time() + 300
    fetched = http(files_server, "GET", answer["url"][len(files_server.url):])
    assert fetched.content == data
    assert fetched.headers["Content-Type"] == "application/octet-stream"
    assert fetched.headers["X-Content-Type-Options"] == "nosniff"
    assert fetched.headers["Content-Disposition"].startswith("attachment;")

    signature = urlsplit(answer["url"]).query.split("sig=", 1)[1]
    # A changed first character (its six bits all count: a last one may hold padding bits).
    flipped = ("X" if signature[0] != "X" else "Y") + signature[1:]
    expired = FileLinks(server_secret(files_server)).sign(stored["id"], time.time() - 1)
    forged = FileLinks("not the server secret").sign(stored["id"], time.time() + 60)
    for file_id, sig in ((stored["id"], flipped), (other["id"], signature),
                         (stored["id"], expired), (stored["id"], forged),
                         (stored["id"], "")):
        response = http(files_server, "GET", f"/api/files/{file_id}?sig={quote(sig)}")
        assert (response.status_code, refusal(response)) == (401, "unauthorized"), sig
    still_good = FileLinks(server_secret(files_server)).sign(stored["id"], time.time() + 60)
    assert http(files_server, "GET",
                f"/api/files/{stored['id']}?sig={still_good}").content == data


def test_messages_may_name_only_the_senders_own_files_in_that_chat(files_server):
    alices = uploaded(files_server, "alice", b"alice's", name="a.txt")
    bobs = uploaded(files_server, "bob", b"bob's", name="b.txt")
    elsewhere = uploaded(files_server, "alice", b"echo's", name="e.txt", chat_id="echo")
    alice = RawClient(files_server, files_server.tokens["alice"])
    try:
        alice.join("general")
        for file_id in ("no-such-file", bobs["id"], elsewhere["id"]):
            ack = alice.send("general", "see file", parts=[{"type": "file", "file_id": file_id}])
            assert not ack["ok"] and ack["error"]["code"] == "bad_request", ack
        bad_part = alice.send("general", "x", parts=[{"type": "file", "name": "no id"}])
        assert bad_part["error"]["code"] == "bad_request"
        sent = alice.send("general", "mine", parts=[
            {"type": "file", "file_id": alices["id"], "name": "lies.exe", "size": 1}])
        assert sent["ok"], sent
        assert sent["message"]["parts"] == [{"type": "file", "file_id": alices["id"],
                                             "name": "a.txt", "mime": "text/plain", "size": 7}]
        message_id = sent["message"]["id"]
        refused = alice.edit("general", message_id, "swap",
                             parts=[{"type": "file", "file_id": bobs["id"]}])
        assert refused["error"]["code"] == "bad_request"
        kept = alice.edit("general", message_id, "text only, the file stays")
        assert kept["ok"] and kept["message"]["parts"][0]["file_id"] == alices["id"]
    finally:
        alice.close()


def test_too_large_is_refused_and_leaves_nothing_behind(files_server):
    limit = 64 * 1024
    assert upload(files_server, "alice", b"x" * limit).status_code == 201
    declared = upload(files_server, "alice", b"x" * (limit + 1))
    assert (declared.status_code, refusal(declared)) == (413, "too_large")
    chunked = upload(files_server, "alice", (b"x" * 1024 for _ in range(65)))  # no length
    assert (chunked.status_code, refusal(chunked)) == (413, "too_large")
    assert list((blob_dir(files_server) / "incoming").iterdir()) == []


def test_an_upload_cut_off_halfway_leaves_nothing_behind(files_server):
    incoming = blob_dir(files_server) / "incoming"
    host, port = urlsplit(files_server.url).hostname, urlsplit(files_server.url).port
    with socket.create_connection((host, port), timeout=10) as raw:
        raw.sendall((f"POST /api/chats/general/files?name=cut.bin HTTP/1.1\r\n"
                     f"Host: {host}\r\nAuthorization: Bearer {files_server.tokens['alice']}\r\n"
                     f"Content-Type: application/octet-stream\r\n"
                     f"Content-Length: {60 * 1024}\r\n\r\n").encode())
        raw.sendall(os.urandom(30 * 1024))
        wait_until(lambda: any(incoming.iterdir()), what="the upload to be spooled")
    wait_until(lambda: not any(incoming.iterdir()), what="the cut-off upload to be removed")
