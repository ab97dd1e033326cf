"""What the client's websocket library does with a text frame that is not UTF-8.

The client turns off websocket-client's own UTF-8 check (pure Python, a tenth
of a send's round trip, `connection.py`) because the library then decodes each
text frame as strict UTF-8, which refuses the same bytes: such a frame still
fails the read rather than reaching a handler as text.
"""

from __future__ import annotations

import socket

import pytest
import websocket

from chat_widget.server.frame_writer import TEXT_OPCODE, websocket_frame


def _reader_of(frame: bytes) -> websocket.WebSocket:
    ours, theirs = socket.socketpair()
    theirs.sendall(frame)
    theirs.close()
    ws = websocket.WebSocket(skip_utf8_validation=True)
    ws.sock, ws.connected = ours, True
    return ws


def test_a_text_frame_of_valid_utf8_is_read_as_text() -> None:
    ws = _reader_of(websocket_frame("42[\"message\",\"é\"]".encode(), TEXT_OPCODE))
    assert ws.recv() == "42[\"message\",\"é\"]"


@pytest.mark.parametrize("payload", [b"42[\"\xff\"]", b"42[\"\xed\xa0\x80\"]", b"\xc3"])
def test_a_text_frame_that_is_not_utf8_fails_the_read_without_the_check(payload: bytes) -> None:
    ws = _reader_of(websocket_frame(payload, TEXT_OPCODE))
    with pytest.raises(UnicodeDecodeError):
        ws.recv()
