"""One chat's messages as the client knows them: ordered by `seq`, never twice.

Socket.IO packets are handled on separate threads, so messages can reach the
client out of order, and a dropped connection can leave holes. The log keeps
everything it was given, but hands messages on (`take_deliverable`) only as an
unbroken run of `seq`, so listeners see each message once and in order; the
first hole says where to ask the server for what is missing (`gap_after`).

Changes (protocol 1.1: edits, deletes, reactions) are ordered the same way by
the chat's `version`: a changed message is held (`hold_change`) until every
version before it is applied, then it replaces the stored message in place
(`take_changes`), so `messages` always holds each message as it now stands; a
hole in the versions says where to ask `changes` (`version_gap_after`).

No I/O and not thread-safe on its own: the session calls it under the client's lock.
"""

from __future__ import annotations

import bisect

from ..protocol import Message


class MessageLog:
    """The seq-ordered, de-duplicated store of one chat's messages."""

    def __init__(self) -> None:
        self._by_seq: dict[int, Message] = {}
        self._seqs: list[int] = []
        self._seq_of: dict[str, int] = {}
        self._held_changes: dict[int, Message] = {}
        self.delivered_seq: int | None = None
        """Every message up to this seq is known and handed on; None before `start`."""
        self.applied_version: int | None = None
        """Every change up to this version is applied; None before `start`."""

    @property
    def started(self) -> bool:
        """True once the join snapshot fixed where live delivery begins."""
        return self.delivered_seq is not None

    @property
    def oldest_seq(self) -> int | None:
        """The smallest seq held, where loading older history continues from."""
        return self._seqs[0] if self._seqs else None

    def add(self, message: Message) -> bool:
        """Keep `message` unless its id or seq is already known; True if it was new."""
        seq = message.get("seq")
        message_id = message.get("id")
        if not isinstance(seq, int) or seq in self._by_seq or message_id in self._seq_of:
            self._refresh(message)  # history read after a change brings it newer
            return False
        self._by_seq[seq] = message
        self._seq_of[message_id] = seq
        if self._seqs and seq > self._seqs[-1]:
            self._seqs.append(seq)  # the usual case: a new message at the end
        else:
            bisect.insort(self._seqs, seq)
        return True

    def start(self, snapshot: list[Message], last_version: int = 0) -> None:
        """Take the join snapshot: it is shown as history, live delivery follows it.

        Messages that arrived while the join was on its way stay held and are
        handed on by the next `take_deliverable` if they come after the
        snapshot; so do changes after the chat's `last_version` at the join.
        """
        for message in snapshot:
            self.add(message)
        self.delivered_seq = max((m["seq"] for m in snapshot), default=0)
        self.applied_version = last_version
        for version in [v for v in self._held_changes if v <= last_version]:
            self._refresh(self._held_changes.pop(version))

    def take_deliverable(self) -> list[Message]:
        """The messages that now continue the unbroken run, in seq order (each once)."""
        if self.delivered_seq is None:
            return []
        run = []
        while self.delivered_seq + 1 in self._by_seq:
            self.delivered_seq += 1
            run.append(self._by_seq[self.delivered_seq])
        return run

    def gap_after(self) -> int | None:
        """The seq after which messages are missing (some later one is held), or None."""
        if self.delivered_seq is None or not self._seqs or self._seqs[-1] <= self.delivered_seq:
            return None
        return self.delivered_seq

    def messages(self) -> list[Message]:
        """The messages shown so far (up to `delivered_seq`), oldest first."""
        if self.delivered_seq is None:
            return []
        end = bisect.bisect_right(self._seqs, self.delivered_seq)
        return [self._by_seq[seq] for seq in self._seqs[:end]]

    # -- changes (protocol 1.1) --------------------------------------------

    def hold_change(self, message: Message) -> None:
        """Keep a changed message (`message_updated`, a `changes` page, an ack) until its turn."""
        version = message.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            return
        if self.applied_version is not None and version <= self.applied_version:
            self._refresh(message)  # counted already: only the newest state matters
        else:
            self._held_changes[version] = message

    def take_changes(self, covered: int | None = None) -> list[Message]:
        """Apply the held changes that continue the unbroken run of versions, in order.

        `covered`: a `changes` page (or a join's `updated`) answered every
        change up to this version; the versions it lacks were superseded by a
        later change of the same message, so they are no hole. Returns, for
        each change applied to a message already handed on, that message as
        it now stands; a changed message not yet handed on is kept and goes
        out with its seq, in its new state.
        """
        if self.applied_version is None:
            return []
        applied: list[Message] = []
        if covered is not None and covered > self.applied_version:
            for version in sorted(v for v in self._held_changes if v <= covered):
                applied += self._apply(self._held_changes.pop(version))
            self.applied_version = covered
        while self.applied_version + 1 in self._held_changes:
            self.applied_version += 1
            applied += self._apply(self._held_changes.pop(self.applied_version))
        return applied

    def version_gap_after(self) -> int | None:
        """The version after which changes are missing (a later one is held), or None."""
        if self.applied_version is None or not self._held_changes:
            return None
        return self.applied_version

    def skip_version_gap(self) -> None:
        """The server has nothing for the hole: apply what is held rather than wait forever."""
        if self._held_changes and self.applied_version is not None:
            self.applied_version = min(self._held_changes) - 1

    def _apply(self, message: Message) -> list[Message]:
        """One change in its turn: the message as it now stands, if listeners should hear of it."""
        seq = self._seq_of.get(message["id"])
        if seq is None:
            if self.delivered_seq is not None and message["seq"] <= self.delivered_seq:
                return []  # older than the history loaded: it comes current if loaded later
            self.add(message)
            return []
        self._refresh(message)
        delivered = self.delivered_seq is not None and seq <= self.delivered_seq
        return [self._by_seq[seq]] if delivered else []

    def _refresh(self, message: Message) -> None:
        """Replace the stored copy of `message` if this one is newer (a higher `version`)."""
        seq = self._seq_of.get(message["id"])
        if seq is None:
            return
        stored = self._by_seq[seq]
        if message.get("version", 0) > stored.get("version", 0):
            self._by_seq[seq] = message
