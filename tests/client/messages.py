"""Protocol Messages made up for the unit tests of the client's state (no server)."""

from __future__ import annotations

from chat_widget.protocol import Message


def message(seq: int, chat_id: str = "c", **fields: object) -> Message:
    base = {
        "id": f"m{seq}",
        "chat_id": chat_id,
        "seq": seq,
        "sender": {"id": "alice", "name": "Alice", "kind": "user"},
        "text": f"text {seq}",
        "parts": [],
        "client_id": None,
        "reply_to": None,
        "created_at": "2026-01-01T00:00:00Z",
    }
    base.update(fields)
    return base  # type: ignore[return-value]


def bot_reply(seq: int, reply_to: str) -> Message:
    return message(seq, sender={"id": "echo", "name": "echo", "kind": "bot"}, reply_to=reply_to)
