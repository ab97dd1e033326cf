"""The indexed manager keeps exactly the rooms python-socketio's own would, through any sequence."""

from __future__ import annotations

import asyncio
import itertools
import random
from typing import Any

import socketio

from chat_widget.server.room_index import IndexedAsyncManager


def _manager(manager: Any) -> Any:
    manager.set_server(socketio.AsyncServer(client_manager=manager))
    numbers = itertools.count()
    manager.server.eio.generate_id = lambda: f"sid-{next(numbers)}"  # the same ids in both
    return manager


def _state(manager: Any) -> Any:
    return ({namespace: {room: dict(members) for room, members in rooms.items()}
             for namespace, rooms in manager.rooms.items()},
            manager.pending_connect, manager.pending_disconnect, set(manager.callbacks))


def test_same_rooms_as_the_plain_manager_through_random_joins_leaves_and_disconnects():
    async def run() -> None:
        plain, indexed = _manager(socketio.AsyncManager()), _manager(IndexedAsyncManager())
        both = (plain, indexed)
        chosen = random.Random(16)
        connected: list[str] = []
        for step in range(1200):
            action = chosen.random()
            if action < 0.25 or not connected:
                sids = {await manager.pre_connect(f"eio-{step}", "/") for manager in both}
                sid = sids.pop()
                assert not sids
                if chosen.random() < 0.9:
                    for manager in both:
                        await manager.connect(sid, "/")
                connected.append(sid)
                continue
            sid = chosen.choice(connected)
            room = f"room-{chosen.randrange(5)}"
            for manager in both:
                if action < 0.6:
                    await manager.enter_room(sid, "/", room)
                elif action < 0.75:
                    await manager.leave_room(sid, "/", room)
                elif action < 0.8:
                    await manager.close_room(room, "/")
            if action >= 0.8:
                pre = chosen.random() < 0.5
                for manager in both:
                    if pre:
                        manager.pre_disconnect(sid, "/")
                    manager._generate_ack_id(sid, print)
                    await manager.disconnect(sid, "/")
                connected.remove(sid)
            assert sorted(plain.get_rooms(sid, "/"), key=str) == sorted(
                indexed.get_rooms(sid, "/"), key=str)
            assert _state(plain) == _state(indexed), step
        assert set(indexed._rooms_of.get("/", {})) == set(connected)

    asyncio.run(run())
