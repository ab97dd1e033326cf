"""Each member's unread counts for `chat_activity`, carried forward instead of counted again.

`unread.members_fields` counts, for every member, every message after its
read marker: per stored message that reads every unread message of every
member, so it grows with the chat's history. But this process knows the
messages it stored (their sender and mentions), and the counts it last told.
While nothing else moved since — the same members with the same read
markers, the same `last_version` (no message edited, deleted or reacted to),
and every message up to the chat's `last_seq` one this process stored — the
new counts are the old ones plus those messages (the store tells of each as
its commit returns, `Store.on_created`, so a read that shows a message never
runs ahead of it): one `unread` for each that
another sent, one `unread_mentions` for each of them that mentions the
member. That check is one row per member (`unread.members_markers`); when
it fails (a marker moved, a change, a message from another process, a new
member, a chat not seen lately) the counts are read again in full. The
events of messages that wait together share one read (`for_each`): carried
forward, each gets the counts up to its own message; counted afresh, each
gets the counts the database holds then.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import cast

from ..protocol import Message
from .store import Store
from .unread import MemberCounts, MemberMarkers

REMEMBERED_CHATS = 4096
"""How many chats' last counts are kept (least recently told forgotten first)."""


@dataclass(frozen=True)
class StoredMessage:
    """What a stored message adds to each member's counts."""

    sender_id: str
    mentions: frozenset[str]


class ActivityCounts:
    """The counts of each chat's next `chat_activity`: carried forward where that is exact.

    Calls for one chat must not overlap (the caller takes its turns in order).
    """

    def __init__(self, store: Store, remembered: int = REMEMBERED_CHATS) -> None:
        self.store = store
        self.remembered = remembered
        self._told: OrderedDict[str, MemberCounts] = OrderedDict()
        self._stored: dict[str, dict[int, StoredMessage]] = {}

    def stored(self, message: Message) -> None:
        """This process stored `message`: call as its commit returns, before anything
        else can read the chat (else a count that sees it recounts in full)."""
        self._stored.setdefault(message["chat_id"], {})[message["seq"]] = StoredMessage(
            message["sender"]["id"], frozenset(message.get("mentions") or ()))

    def idle(self, chat_id: str) -> None:
        """No event of the chat is waiting: forget its messages if none is left to count
        (`_remember` drops those the last counts hold; one committed since keeps its
        place for the event it will have) or no counts are kept to carry them onto."""
        if not self._stored.get(chat_id) or chat_id not in self._told:
            self._stored.pop(chat_id, None)

    async def for_each(self, chat_id: str, seqs: list[int]) -> list[MemberCounts]:
        """The counts of the events of messages `seqs` (ascending) of one chat, from one
        read: carried forward, each up to its own message; else counted afresh, the
        counts the database holds now for every one of them."""
        told = self._told.get(chat_id)
        steps = None
        if told is not None:
            steps = carried_each(told, await self.store.members_markers(chat_id),
                                 self._stored.get(chat_id, {}), seqs)
        if steps is None:
            counts = await self.store.members_fields(chat_id)
            steps = [counts] * len(seqs)
        self._remember(chat_id, steps[-1])
        return steps

    def _remember(self, chat_id: str, counts: MemberCounts) -> None:
        self._told[chat_id] = counts
        self._told.move_to_end(chat_id)
        while len(self._told) > self.remembered:
            self._told.popitem(last=False)
        stored = self._stored.get(chat_id)
        if stored:
            for seq in [seq for seq in stored if seq <= counts.last_seq]:
                del stored[seq]


def carried_each(told: MemberCounts, now: MemberMarkers, stored: dict[int, StoredMessage],
                 seqs: list[int]) -> list[MemberCounts] | None:
    """`told` carried forward to each of `seqs` (ascending) in turn, with the markers
    and `last_version` read `now`; None when anything else moved. A seq `told`
    already covers gets the counts as they stand (never earlier ones)."""
    if now.last_version != told.last_version or now.last_seq < told.last_seq:
        return None
    if now.markers != {user_id: fields["last_read_seq"]
                       for user_id, fields in told.members.items()}:
        return None
    steps, members, at = [], told.members, told.last_seq
    for seq in seqs:
        if seq > now.last_seq:
            return None
        if seq > at:
            added = [stored.get(number) for number in range(at + 1, seq + 1)]
            if None in added:
                return None  # stored by another process, or not yet told to this one
            members, at = _plus(members, cast(list[StoredMessage], added)), seq
        steps.append(MemberCounts(at, now.last_version, members))
    return steps


def _plus(members: dict[str, dict[str, int]],
          added: list[StoredMessage]) -> dict[str, dict[str, int]]:
    """Each member's counts with `added` counted: those others sent, and whom they mention."""
    counted = {}
    for user_id, fields in members.items():
        others = [message for message in added if message.sender_id != user_id]
        counted[user_id] = {
            "last_read_seq": fields["last_read_seq"],
            "unread": fields["unread"] + len(others),
            "unread_mentions": fields["unread_mentions"]
            + sum(user_id in message.mentions for message in others)}
    return counted
