"""A bare python-socketio server: the floor the chat server is measured against.

It does what the chat server's hot path does minus the chat: an `echo` event
acknowledged with its payload, a `join` into one room, a `broadcast` event
re-emitted to that room, and a keep-alive HTTP GET. `broadcast_with_activity`
also sends the room a `chat_activity`-shaped event after each message, as
protocol 1.1 has the chat server do for every stored message: the floor of
the same events, beside the floor the goals name. Run on aiohttp or on
uvicorn (ASGI), so the two stacks can be compared on the same work.

    python -m bench.bare_server --stack aiohttp --ready-file F
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import Any

from .ports import free_port


def build_sio(async_mode: str) -> Any:
    import socketio

    sio = socketio.AsyncServer(async_mode=async_mode, cors_allowed_origins="*")

    @sio.on("echo")
    async def echo(sid: str, payload: Any) -> Any:
        return {"ok": True, "payload": payload}

    @sio.on("join")
    async def join(sid: str, payload: Any) -> Any:
        await sio.enter_room(sid, "room")
        return {"ok": True}

    @sio.on("broadcast")
    async def broadcast(sid: str, payload: Any) -> Any:
        await sio.emit("message", payload, room="room")
        return {"ok": True}

    sent = [0]

    @sio.on("broadcast_with_activity")
    async def broadcast_with_activity(sid: str, payload: Any) -> Any:
        sent[0] += 1
        await sio.emit("message", payload, room="room")
        await sio.emit("chat_activity", {"chat_id": "room", "last_seq": sent[0], "unread": 0,
                                         "unread_mentions": 0}, room="room")
        return {"ok": True}

    return sio


def write_ready(path: str, port: int) -> None:
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w") as handle:
        json.dump({"url": f"http://127.0.0.1:{port}"}, handle)
    os.replace(temporary, path)


def add_file_routes(app: Any) -> None:
    """A bare file route pair, the floor for the chat server's: the body streamed to a
    temporary file while hashed (as any careful upload must), and streamed back."""
    import hashlib
    import tempfile

    from aiohttp import web

    folder = tempfile.mkdtemp(prefix="bare-files-")

    async def upload(request: web.Request) -> web.Response:
        digest = hashlib.sha256()
        name = os.path.join(folder, f"{len(os.listdir(folder))}.bin")
        with open(name, "wb") as handle:
            async for chunk in request.content.iter_chunked(256 * 1024):
                digest.update(chunk)
                handle.write(chunk)
        return web.json_response({"name": os.path.basename(name),
                                  "sha256": digest.hexdigest()}, status=201)

    async def download(request: web.Request) -> web.StreamResponse:
        path = os.path.join(folder, os.path.basename(request.match_info["name"]))
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = os.path.getsize(path)
        await response.prepare(request)
        with open(path, "rb") as handle:
            while chunk := handle.read(256 * 1024):
                await response.write(chunk)
        await response.write_eof()
        return response

    app.router.add_post("/files", upload)
    app.router.add_get("/files/{name}", download)


async def run_aiohttp(port: int, ready_file: str) -> None:
    from aiohttp import web

    sio = build_sio("aiohttp")
    app = web.Application()
    sio.attach(app)

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"auth": "x" * 120})

    app.router.add_get("/api/health", health)
    add_file_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    write_ready(ready_file, port)
    await asyncio.Event().wait()


def run_uvicorn(port: int, ready_file: str) -> None:
    import socketio
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def health(_request: Any) -> JSONResponse:
        return JSONResponse({"auth": "x" * 120})

    routes = Starlette(routes=[Route("/api/health", health)])
    app = socketio.ASGIApp(build_sio("asgi"), other_asgi_app=routes)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            access_log=False, lifespan="off")
    server = uvicorn.Server(config)

    async def serve() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        write_ready(ready_file, port)
        await task

    asyncio.run(serve())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stack", choices=["aiohttp", "uvicorn"], default="aiohttp")
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--loop", default="auto", choices=["auto", "asyncio", "uvloop"])
    args = parser.parse_args()
    port = free_port()
    if args.stack == "aiohttp":
        from chat_widget.cli import event_loop_factory

        with asyncio.Runner(loop_factory=event_loop_factory(args.loop)) as runner:
            runner.run(run_aiohttp(port, args.ready_file))
    else:
        run_uvicorn(port, args.ready_file)


if __name__ == "__main__":
    main()
