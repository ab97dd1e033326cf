"""The load generators' send loop, shared by every benchmark that sends.

Against the chat server one send is what a client does: fetch an
authorization string (`POST /api/message-auth`), then emit `send_message`
and wait for the ack. Against a bare server (no token) the same shape is a
keep-alive GET and a `broadcast` emit with ack: the floor (or `bare_event`,
another of the bare server's events).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import aiohttp
import socketio


async def send_lanes(url: str, token: str | None, chat_id: str, lanes: int,
                     keep_going: Callable[[], bool], text: str = "hi",
                     start_together: asyncio.Barrier | None = None,
                     bare_event: str = "broadcast") -> int:
    """Keep `lanes` sends in flight on one connection while `keep_going()`; acks counted.

    With `start_together`, the first send waits at that barrier once connected
    and joined, so that many clients' connecting is not counted as sending.
    """
    client = socketio.AsyncClient(reconnection=False)
    # Many clients connecting at once on a busy machine take longer than the
    # default second to be let in.
    await client.connect(url, auth={"token": token} if token else None,
                         transports=["websocket"], wait_timeout=60)
    await client.call("join", {"chat_id": chat_id}, timeout=60)
    if start_together is not None:
        await start_together.wait()
    acked = 0
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession(headers=headers) as http:

        async def one_send() -> bool:
            if token is None:
                async with http.get(url + "/api/health") as reply:
                    auth = (await reply.json())["auth"]
                ack = await client.call(bare_event, {"text": text, "auth": auth}, timeout=60)
            else:
                async with http.post(url + "/api/message-auth",
                                     json={"chat_id": chat_id}) as reply:
                    auth = (await reply.json())["auth"]
                ack = await client.call("send_message", {
                    "chat_id": chat_id, "text": text, "auth": auth,
                    "client_id": uuid.uuid4().hex}, timeout=60)
            return bool(ack.get("ok"))

        async def lane() -> None:
            nonlocal acked
            while keep_going():
                ok = await one_send()  # not `acked += await ...`: that reads before awaiting
                acked += ok

        await asyncio.gather(*(lane() for _ in range(lanes)))
    await client.disconnect()
    return acked
