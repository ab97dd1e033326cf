"""The file routes of protocol 1.1, thin over `FileService`; bodies stream both ways.

An upload is read from the request a chunk at a time (never with `read()`,
so aiohttp's in-memory body limit does not apply and memory stays flat); a
download is written a chunk at a time, each write waiting for the socket.
`GET /api/files/{file_id}` takes either the bearer token or a signed link's
`sig` (then no token is needed, and none is looked at).
"""

from __future__ import annotations

from aiohttp import web

from .blobs import READ_CHUNK
from .file_rules import content_disposition, served_mime
from .files import FileService, StoredFile
from .routes import bearer_user, guarded, json_answer

FILES_KEY: web.AppKey[FileService] = web.AppKey("file_service", FileService)


async def upload(request: web.Request) -> web.StreamResponse:
    user = await bearer_user(request)
    stored = await request.app[FILES_KEY].upload(
        user, request.match_info["chat_id"], request.query.get("name"),
        request.headers.get("Content-Type"), request.content_length,
        request.content.iter_chunked(READ_CHUNK))
    return json_answer({"file": stored}, status=201)


async def download(request: web.Request) -> web.StreamResponse:
    service = request.app[FILES_KEY]
    file_id = request.match_info["file_id"]
    signature = request.query.get("sig")
    if signature is not None:
        stored = await service.by_link(file_id, signature)
    else:
        stored = await service.readable(await bearer_user(request), file_id)
    return await _stream(request, service, stored)


async def _stream(request: web.Request, service: FileService,
                  stored: StoredFile) -> web.StreamResponse:
    response = web.StreamResponse(headers={
        "Content-Type": served_mime(stored.mime),
        "Content-Disposition": content_disposition(stored.name),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    })
    response.content_length = stored.size
    await response.prepare(request)
    try:
        async for chunk in service.chunks(stored):
            await response.write(chunk)
        await response.write_eof()
    except (ConnectionResetError, ConnectionError):
        pass  # the client went away mid-download: nothing to answer
    return response


async def link(request: web.Request) -> web.StreamResponse:
    user = await bearer_user(request)
    answer = await request.app[FILES_KEY].link(
        user, request.match_info["file_id"], str(request.url.origin()))
    return json_answer(answer)


def add_file_routes(app: web.Application) -> None:
    app.router.add_post("/api/chats/{chat_id}/files", guarded(upload))
    app.router.add_get("/api/files/{file_id}", guarded(download))
    app.router.add_post("/api/files/{file_id}/link", guarded(link))
