"""UploadAssembler: files from the front end put back together from chunks, without I/O."""

from __future__ import annotations

import pytest

from chat_widget.errors import ChatError
from chat_widget.uploads import UploadAssembler


def test_chunks_in_order_make_the_file() -> None:
    assembler = UploadAssembler(max_bytes=100)
    upload = assembler.start("u1", "notes.txt", "text/plain", 11, "general")
    assert (upload.received, upload.complete) == (0, False)
    assembler.add("u1", 0, b"hello ")
    done = assembler.add("u1", 6, memoryview(b"world"))
    assert (done.received, done.complete, bytes(done.data)) == (11, True, b"hello world")
    assert assembler.finish("u1") is done
    assert assembler.finish("u1") is None  # finished once


@pytest.mark.parametrize(("size", "code"), [(101, "too_large"), (-1, "bad_request"),
                                            (True, "bad_request"), ("5", "bad_request")])
def test_a_file_that_cannot_be_taken_is_refused_before_any_chunk(size: object, code: str) -> None:
    with pytest.raises(ChatError) as refused:
        UploadAssembler(max_bytes=100).start("u1", "a.bin", None, size, "general")
    assert refused.value.code == code


def test_a_chunk_out_of_place_ends_the_upload() -> None:
    assembler = UploadAssembler(max_bytes=100)
    assembler.start("u1", "a.bin", None, 10, "general")
    with pytest.raises(ChatError, match="expected 0") as wrong_place:
        assembler.add("u1", 4, b"abcd")
    assert wrong_place.value.code == "bad_request"
    with pytest.raises(ChatError) as gone:
        assembler.add("u1", 0, b"abcd")
    assert gone.value.code == "not_found"
    assembler.start("u2", "b.bin", None, 3, "general")
    with pytest.raises(ChatError, match="larger than announced"):
        assembler.add("u2", 0, b"abcd")


def test_uploads_at_once_are_bounded_and_ids_are_not_reused() -> None:
    assembler = UploadAssembler(max_bytes=100, max_open=2)
    assembler.start("u1", "a", None, 1, "general")
    with pytest.raises(ChatError, match="already started"):
        assembler.start("u1", "a", None, 1, "general")
    assembler.start("u2", "b", None, 1, "general")
    with pytest.raises(ChatError) as busy:
        assembler.start("u3", "c", None, 1, "general")
    assert busy.value.code == "rate_limited"
    assembler.finish("u1")
    assert assembler.start("u3", "c", "", 1, "general").mime == "application/octet-stream"
