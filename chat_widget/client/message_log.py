"""One chat's messages as the client knows them: ordered by `seq`, never twice.

Socket.IO packets are handled on separate threads, so messages can reach the
client out of order, and a dropped connection can leave holes. The log keeps
everything it was given, but hands messages on (`take_deliverable`) only as an
unbroken run of `seq`, so listeners see each message once and in order; the
first hole says where to ask the server for what is missing (`gap_after`).

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
        self._ids: set[str] = set()
        self.delivered_seq: int | None = None
        """Every message up to this seq is known and handed on; None before `start`."""

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
        if not isinstance(seq, int) or seq in self._by_seq or message_id in self._ids:
            return False
        self._by_seq[seq] = message
        self._ids.add(message_id)
        if self._seqs and seq > self._seqs[-1]:
            self._seqs.append(seq)  # the usual case: a new message at the end
        else:
            bisect.insort(self._seqs, seq)
        return True

    def start(self, snapshot: list[Message]) -> None:
        """Take the join snapshot: it is shown as history, live delivery follows it.

        Messages that arrived while the join was on its way stay held and are
        handed on by the next `take_deliverable` if they come after the snapshot.
        """
        for message in snapshot:
            self.add(message)
        self.delivered_seq = max((m["seq"] for m in snapshot), default=0)

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
