"""The websocket loops' silence bound: one timer for many waits, as a timeout around each."""

from __future__ import annotations

import asyncio

from chat_widget.server.websocket_loop import SilenceTimer


async def _wait_marked(silence: SilenceTimer, seconds: float) -> bool:
    """One wait of `seconds` as the loops make theirs; False if the timer ended it."""
    try:
        await silence.within(asyncio.sleep(seconds))
    except TimeoutError:
        return False
    return True


async def test_a_wait_longer_than_the_limit_is_cancelled_and_the_task_not_left_cancelling():
    silence = SilenceTimer(0.1)
    started = asyncio.get_running_loop().time()
    assert not await _wait_marked(silence, 5.0)
    assert 0.1 <= asyncio.get_running_loop().time() - started < 1.0
    assert asyncio.current_task().cancelling() == 0  # later waits are not misread
    await asyncio.sleep(0.01)  # and they run
    silence.close()


async def test_many_short_waits_and_the_work_between_them_outlast_the_limit_uncancelled():
    silence = SilenceTimer(0.1)
    for _ in range(12):  # 0.36 s of waits, each well under the limit
        assert await _wait_marked(silence, 0.03)
    assert await _wait_marked(silence, 0.0)
    await asyncio.sleep(0.25)  # busy, not waiting: longer than the limit, yet no cancel
    assert await _wait_marked(silence, 0.05)
    silence.close()


async def test_a_cancel_from_outside_stays_the_tasks_own():
    async def reader() -> None:
        silence = SilenceTimer(10.0)
        try:
            await _wait_marked(silence, 5.0)
        except asyncio.CancelledError:
            assert asyncio.current_task().cancelling() == 1  # not taken back
        finally:
            silence.close()

    task = asyncio.ensure_future(reader())
    await asyncio.sleep(0.05)
    task.cancel()
    await task  # the reader saw the cancel as its own and ended by itself


async def test_a_closed_timer_never_fires():
    silence = SilenceTimer(0.05)
    silence.close()
    assert await _wait_marked(silence, 0.2)
