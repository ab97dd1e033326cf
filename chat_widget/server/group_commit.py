"""Group commit: writes that arrive while a commit is in flight share the next one.

A commit costs the same whether it holds one message or fifty (SQLite's
BEGIN IMMEDIATE and WAL write, PostgreSQL's round trips and the chat row's
lock held until COMMIT), so under many senders the commits, not the SQL,
set the pace. `GroupCommit` keeps one commit in flight per *lane*; whatever
is submitted to that lane meanwhile waits and goes into the following
commit, all together. Each submitter gets its own item's outcome, and only
once the commit that holds it has returned.

There is no timer. Before each commit the lane lets the event loop run a
few passes (`gather_passes`): a send is several passes from its websocket
frame to `submit` (python-socketio starts a task for each event, the
handler checks the authorization string), so the sends whose frames were
already read when the first one submitted are still on their way then, and
would each pay a commit of their own. An idle loop runs those passes in
microseconds, so a lone write hardly waits and none waits for company that
may not come; a busy one runs what is due, and that is what joins.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
Lane = TypeVar("Lane", bound=Hashable)

# Commits a group of items in one transaction and answers, for each item in
# order, its result or the exception that item alone fails with. An exception
# raised instead fails every item of the group with it.
CommitGroup = Callable[[list[Item]], Awaitable[list["Result | Exception"]]]


class GroupCommit(Generic[Lane, Item, Result]):
    """One commit in flight per lane; items submitted meanwhile go into the next."""

    def __init__(self, commit: CommitGroup[Item, Result], gather_passes: int = 0) -> None:
        self._commit = commit
        self._gather_passes = gather_passes
        self._waiting: dict[Lane, list[tuple[Item, asyncio.Future[Result]]]] = {}
        self._draining: dict[Lane, asyncio.Task[None]] = {}

    async def submit(self, lane: Lane, item: Item) -> Result:
        """Commit `item` with whatever else is waiting in `lane`; its own outcome."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(lane, []).append((item, future))
        if lane not in self._draining:
            self._draining[lane] = asyncio.ensure_future(self._drain(lane))
        return await future

    async def close(self) -> None:
        """Wait for the commits in flight (and those queued behind them)."""
        while self._draining:
            await asyncio.gather(*self._draining.values(), return_exceptions=True)

    async def _drain(self, lane: Lane) -> None:
        group: list[tuple[Item, asyncio.Future[Result]]] = []
        try:
            while self._waiting.get(lane):  # the passes count from a group's first write
                for _ in range(self._gather_passes):
                    await asyncio.sleep(0)  # one pass of the loop: what is due runs first
                group = self._waiting.pop(lane)
                try:
                    outcomes = await self._commit([item for item, _ in group])
                except Exception as error:  # the whole group failed: each hears why
                    outcomes = [error] * len(group)
                for (_, future), outcome in zip(group, outcomes, strict=True):
                    if future.done():  # its submitter was cancelled; the commit stands
                        continue
                    if isinstance(outcome, Exception):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        except BaseException:
            for _, future in group + self._waiting.pop(lane, []):
                future.cancel()
            raise
        finally:
            del self._draining[lane]
