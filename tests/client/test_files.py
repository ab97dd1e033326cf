"""ChatClient's files and search (protocol 1.1) against the real server."""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path

import pandas as pd
import pytest
import requests

from chat_widget.errors import ChatError
from tests.client.common import client_for


@pytest.fixture
def alice(server):
    with client_for(server.url, server.tokens["alice"]) as client:
        client.join("general")
        yield client


@pytest.fixture
def bob(server):
    with client_for(server.url, server.tokens["bob"]) as client:
        client.join("general")
        yield client


def test_a_path_is_uploaded_and_comes_back_by_every_way(alice, tmp_path: Path) -> None:
    data = uuid.uuid4().bytes * 5000
    source = tmp_path / "résumé notes.bin"
    source.write_bytes(data)
    stored = alice.upload(source)
    assert (stored["chat_id"], stored["name"], stored["size"]) == (
        "general", "résumé notes.bin", len(data))
    assert stored["sha256"] == hashlib.sha256(data).hexdigest()
    assert stored["mime"] == "application/octet-stream"
    assert alice.download(stored["id"]) == data
    (tmp_path / "out").mkdir()
    saved = alice.download(stored, to=tmp_path / "out")
    assert saved == tmp_path / "out" / "résumé notes.bin" and saved.read_bytes() == data
    link = alice.file_link(stored)
    assert requests.get(link, timeout=10).content == data  # no token needed


def test_bytes_need_a_name_and_get_a_guessed_type(alice) -> None:
    with pytest.raises(ChatError) as refused:
        alice.upload(b"a,b\n1,2\n")
    assert refused.value.code == "bad_request"
    stored = alice.upload(b"a,b\n1,2\n", "table.csv")
    assert stored["mime"] == "text/csv"


def test_sending_a_path_sends_a_file_part_others_can_fetch(alice, bob, tmp_path: Path) -> None:
    source = tmp_path / "results.csv"
    source.write_text("x,y\n1,2\n")
    message = alice.send(source)
    (part,) = message["parts"]
    assert part["type"] == "file" and part["name"] == "results.csv"
    assert part["size"] == source.stat().st_size and part["mime"] == "text/csv"
    assert bob.download(part) == source.read_bytes()


def test_a_dataframe_goes_as_its_table_with_the_frame_attached(alice) -> None:
    frame = pd.DataFrame({"city": ["Oslo", "Lima"], "temp": [3.5, 19.0]})
    csv_message = alice.send(frame, as_file="csv")
    table, attached = csv_message["parts"]
    assert table["type"] == "table" and attached["type"] == "file"
    assert attached["name"] == "data.csv"
    back = pd.read_csv(io.BytesIO(alice.download(attached)), index_col=0)
    pd.testing.assert_frame_equal(back, frame)
    parquet_message = alice.send(frame, as_file="parquet")
    parquet = parquet_message["parts"][-1]
    assert parquet["name"] == "data.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(alice.download(parquet))), frame)


def test_an_unknown_as_file_is_refused_before_anything_is_sent(alice) -> None:
    before = len(alice.messages)
    with pytest.raises(ChatError) as refused:
        alice.send(pd.DataFrame({"a": [1]}), as_file="xlsx")
    assert refused.value.code == "bad_request" and "csv" in refused.value.message
    assert len(alice.messages) == before


def test_search_finds_whole_words_in_any_case_best_first(alice, bob) -> None:
    word, other = f"zeta{uuid.uuid4().hex[:8]}", f"eta{uuid.uuid4().hex[:8]}"
    once = alice.send(f"{word} appears once here with {other}")
    twice = alice.send(f"{word.upper()} and {word} again")
    alice.send(f"{word}s is another word")
    found = bob.search(word)
    assert [m["id"] for m in found] == [twice["id"], once["id"]]
    assert [m["id"] for m in bob.search(f"{other} {word.title()}")] == [once["id"]]
    assert bob.search(word, chat_id="general", limit=1)[0]["id"] == twice["id"]
    with pytest.raises(ChatError) as refused:
        bob.search("  ...  ")
    assert refused.value.code == "bad_request"
