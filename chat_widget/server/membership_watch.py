"""A removed member's connections stop receiving its workspace's chats within seconds.

A join checks membership once; after it, the connection sits in the chat's
room and gets its broadcasts. When its user is taken out of the workspace
(by this process, another server process, or an admin command writing the
database directly), requests are refused within `caches.FACTS_TTL`, and this
takes the connection out of the rooms of that workspace's chats within about
the same time: `leave_room`, as its own `leave` would, so the client hears
nothing new on the wire; its next request there answers `forbidden`.

Cost that stays flat with the connections: each round (every
`CHECK_INTERVAL` seconds) reads the members version of the workspaces this
process has joined connections in, in one query of one row per workspace.
Only a workspace whose version moved has its joined users checked (one
query for that workspace), and a user who joined since the last round is
checked once (their join may have been let in by a membership remembered
from before a removal).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from .caches import FACTS_TTL

logger = logging.getLogger(__name__)

CHECK_INTERVAL = FACTS_TTL / 2
"""Seconds between rounds: a removal is acted on within this and one round's queries."""

# Takes one connection out of one chat, as its `leave` would: (sid, chat_id).
Leave = Callable[[str, str], Awaitable[None]]


class MembersSource(Protocol):
    """The part of `Store` the watch reads."""

    async def members_versions(self, workspace_ids: list[str]) -> dict[str, int]: ...

    async def members_among(self, workspace_id: str, user_ids: list[str]) -> set[str]: ...


class MembershipWatch:
    """The joined connections of this process, by workspace and user; `start()` runs rounds."""

    def __init__(self, store: MembersSource, interval: float | None = None) -> None:
        self.store = store
        self.interval = CHECK_INTERVAL if interval is None else interval
        self.leave: Leave | None = None  # set by the event handlers (events.py)
        # workspace -> user -> {(sid, chat_id)}: who to take out when a user is not a member
        self._joined: dict[str, dict[str, set[tuple[str, str]]]] = {}
        # sid -> chat_id -> (workspace, user): how to find a connection's entries again
        self._of_sid: dict[str, dict[str, tuple[str, str]]] = {}
        self._versions: dict[str, int] = {}  # workspace -> members version at the last round
        self._unchecked: dict[str, set[str]] = {}  # workspace -> users joined since then
        self._task: asyncio.Task[None] | None = None

    def joined(self, sid: str, user_id: str, workspace_id: str, chat_id: str) -> None:
        """The connection `sid` of `user_id` is in the room of `chat_id` (of `workspace_id`)."""
        self._joined.setdefault(workspace_id, {}).setdefault(user_id, set()).add((sid, chat_id))
        self._of_sid.setdefault(sid, {})[chat_id] = (workspace_id, user_id)
        self._unchecked.setdefault(workspace_id, set()).add(user_id)

    def left(self, sid: str, chat_id: str) -> None:
        """The connection left the chat (its `leave`, or taken out by a round)."""
        of_sid = self._of_sid.get(sid, {})
        found = of_sid.pop(chat_id, None)
        if not of_sid:
            self._of_sid.pop(sid, None)
        if found is None:
            return
        workspace_id, user_id = found
        users = self._joined.get(workspace_id, {})
        entries = users.get(user_id, set())
        entries.discard((sid, chat_id))
        if not entries:
            users.pop(user_id, None)
        if not users:
            self._joined.pop(workspace_id, None)
            self._versions.pop(workspace_id, None)
            self._unchecked.pop(workspace_id, None)

    def disconnected(self, sid: str) -> None:
        """The connection is gone, with all its chats."""
        for chat_id in list(self._of_sid.get(sid, {})):
            self.left(sid, chat_id)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._rounds())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _rounds(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception as error:  # the database away: the next round tries again
                logger.warning("checking the joined connections' memberships failed: %s", error)

    async def check(self) -> None:
        """One round: take out of their rooms the connections whose user is no member now."""
        workspace_ids = sorted(self._joined)
        if not workspace_ids:
            return
        unchecked, self._unchecked = self._unchecked, {}
        versions = await self.store.members_versions(workspace_ids)
        for workspace_id in workspace_ids:
            version = versions.get(workspace_id)  # None: the workspace is gone
            moved = version is None or version != self._versions.get(workspace_id, version)
            users = self._joined.get(workspace_id, {})
            suspects = set(users) if moved else {
                user_id for user_id in unchecked.get(workspace_id, ()) if user_id in users}
            if version is not None and workspace_id in self._joined:
                self._versions[workspace_id] = version
            if suspects:
                members = await self.store.members_among(workspace_id, sorted(suspects))
                for user_id in sorted(suspects - members):
                    await self._take_out(workspace_id, user_id)

    async def _take_out(self, workspace_id: str, user_id: str) -> None:
        entries = sorted(self._joined.get(workspace_id, {}).get(user_id, set()))
        logger.info("%s is no member of %s now: out of %d joined chat(s)", user_id,
                    workspace_id, len(entries))
        for sid, chat_id in entries:
            self.left(sid, chat_id)
            if self.leave is not None:
                await self.leave(sid, chat_id)
