"""What an edit, a delete or a reaction does to a message (protocol 1.1), without I/O.

Each function takes the message as it is stored and answers the fields that
change, or None when the request changes nothing (then no version is taken
and nothing is broadcast). Refusals are `ChatError`s with the protocol's code.
The store runs one of them inside the change's transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ChatError
from ..protocol import Message, Part, Reaction
from .store import utc_now_rfc3339

# A message holds at most this many distinct emoji.
MAX_DISTINCT_EMOJI = 20

Fields = dict[str, Any]
MentionFinder = Callable[[str], list[str]]


def _live(message: Message, doing: str) -> None:
    if message["deleted"]:
        raise ChatError(f"this message was deleted; it cannot be {doing}", code="not_found")


def _own(message: Message, user_id: str, doing: str) -> None:
    if message["sender"]["id"] != user_id:
        raise ChatError(f"only the sender of a message may {doing} it", code="forbidden")


def edit(message: Message, mentions_of: MentionFinder, *, user_id: str, text: str,
         parts: list[Part] | None) -> Fields | None:
    """New text (and parts, if given); the mentions are found again in the new text."""
    _live(message, "edited")
    _own(message, user_id, "edit")
    new_parts = message["parts"] if parts is None else parts
    if text == message["text"] and new_parts == message["parts"]:
        return None
    return {"text": text, "parts": new_parts, "edited_at": utc_now_rfc3339(),
            "mentions": mentions_of(text)}


def delete(message: Message, _mentions_of: MentionFinder, *,
           user_id: str) -> Fields | None:
    """A tombstone: id and seq kept, content, reactions and mentions cleared."""
    _own(message, user_id, "delete")
    if message["deleted"]:
        return None
    return {"deleted": True, "text": "", "parts": [], "reactions": [], "mentions": []}


def react(message: Message, _mentions_of: MentionFinder, *, user_id: str, emoji: str,
          on: bool) -> Fields | None:
    """Add `user_id` to `emoji` (or take them off); emoji keep the order of first use."""
    _live(message, "reacted to")
    reactions: list[Reaction] = [{"emoji": r["emoji"], "users": list(r["users"])}
                                 for r in message["reactions"]]
    entry = next((r for r in reactions if r["emoji"] == emoji), None)
    if on:
        if entry is not None and user_id in entry["users"]:
            return None
        if entry is not None:
            entry["users"].append(user_id)
        elif len(reactions) >= MAX_DISTINCT_EMOJI:
            raise ChatError(f"a message holds at most {MAX_DISTINCT_EMOJI} distinct emoji",
                            code="too_large")
        else:
            reactions.append({"emoji": emoji, "users": [user_id]})
    else:
        if entry is None or user_id not in entry["users"]:
            return None
        entry["users"].remove(user_id)
        if not entry["users"]:
            reactions.remove(entry)
    return {"reactions": reactions}
