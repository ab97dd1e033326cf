"""The Socket.IO rooms the server emits to: one per chat, one per user."""

from __future__ import annotations


def room_of(chat_id: str) -> str:
    """The room every joined connection of a chat sits in."""
    return f"chat:{chat_id}"


def user_room(user_id: str) -> str:
    """The room every connection of one user sits in, joined to a chat or not."""
    return f"user:{user_id}"
