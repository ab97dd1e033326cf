"""One handler per HTTP route of the protocol (aiohttp)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from .. import __version__, json_text, protocol
from ..errors import ChatError
from .service import ChatService
from .store import User

logger = logging.getLogger(__name__)

AuthedHandler = Callable[[web.Request, User], Awaitable[Mapping[str, Any]]]

SERVICE_KEY: web.AppKey[ChatService] = web.AppKey("chat_service", ChatService)


def json_answer(body: Any, status: int = 200,
                headers: Mapping[str, str] | None = None) -> web.Response:
    """An HTTP answer of JSON, written as the Socket.IO packets are (`json_text`)."""
    return web.json_response(body, status=status, headers=headers, dumps=json_text.dumps)


def error_response(error: ChatError) -> web.Response:
    """The protocol's error body with the status its code maps to."""
    status = protocol.ERROR_STATUS.get(error.code, 500)
    body = {"error": protocol.error_payload(error.code, error.message, **error.details)}
    headers = {}
    if "retry_after" in error.details:
        headers["Retry-After"] = str(max(1, round(float(error.details["retry_after"]))))
    return json_answer(body, status=status, headers=headers)


def guarded(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Run a handler and map refusals (and surprises) to the protocol's error bodies."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ChatError as error:
            return error_response(error)
        except Exception:
            logger.exception("unexpected error on %s %s", request.method, request.path)
            return error_response(ChatError("the server could not handle this request"))

    return wrapper


async def bearer_user(request: web.Request) -> User:
    """The user whose token the `Authorization: Bearer` header carries (`unauthorized`)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ChatError("send 'Authorization: Bearer <token>'", code="unauthorized")
    return await request.app[SERVICE_KEY].authenticate(token.strip())


def _authed(handler: AuthedHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Check the bearer token, run the handler, and answer its result as JSON."""

    async def answer(request: web.Request) -> web.StreamResponse:
        return json_answer(await handler(request, await bearer_user(request)))

    return guarded(answer)


# Named checks whose answers `/api/health` adds (e.g. "redis": "ok" | "down").
HEALTH_CHECKS: web.AppKey[dict[str, Callable[[], str]]] = web.AppKey("health_checks", dict)


async def health(request: web.Request) -> web.Response:
    checks = request.app.get(HEALTH_CHECKS, {})
    return json_answer({"status": "ok", "version": __version__,
                              "protocol": protocol.PROTOCOL_VERSION,
                              **{name: check() for name, check in checks.items()}})


async def me(request: web.Request, user: User) -> Mapping[str, Any]:
    return await request.app[SERVICE_KEY].me(user)


async def chats(request: web.Request, user: User) -> Mapping[str, Any]:
    return {"chats": await request.app[SERVICE_KEY].chats(user)}


async def chat_messages(request: web.Request, user: User) -> Mapping[str, Any]:
    query = request.query
    return await request.app[SERVICE_KEY].history(
        user, request.match_info["chat_id"],
        before_seq=query_int(query, "before_seq"), after_seq=query_int(query, "after_seq"),
        limit=query_int(query, "limit"))


async def chat_changes(request: web.Request, user: User) -> Mapping[str, Any]:
    query = request.query
    return await request.app[SERVICE_KEY].changes(
        user, request.match_info["chat_id"], query_int(query, "after_version"),
        query_int(query, "limit"))


async def chat_members(request: web.Request, user: User) -> Mapping[str, Any]:
    return {"members": await request.app[SERVICE_KEY].members(user, request.match_info["chat_id"])}


async def message_auth(request: web.Request, user: User) -> Mapping[str, Any]:
    if request.content_length and request.content_length > protocol.MAX_MESSAGE_BYTES:
        raise ChatError("the request body is too large", code="too_large")
    try:
        body = json.loads(await request.text() or "null")
    except (ValueError, UnicodeDecodeError):
        raise ChatError("the body must be JSON", code="bad_request") from None
    body = protocol.require_object(body, "body")
    return await request.app[SERVICE_KEY].issue_auth(user, body.get("chat_id"))


async def search(request: web.Request, user: User) -> Mapping[str, Any]:
    query = request.query
    return {"messages": await request.app[SERVICE_KEY].search(
        user, query.get("q"), query.get("chat_id"), query_int(query, "limit"))}


def query_int(query: Any, name: str) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ChatError(f"{name} must be an integer", code="bad_request") from None


_CODE_BY_STATUS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                   405: "not_found", 413: "too_large", 429: "rate_limited"}


@web.middleware
async def protocol_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Answer aiohttp's own refusals (no route, body too large...) in the protocol's shape."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400 or not request.path.startswith("/api/"):
            raise
        code = _CODE_BY_STATUS.get(error.status, "bad_request" if error.status < 500
                                   else "internal")
        return error_response(ChatError(error.reason or "request refused", code=code))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/health", health)
    app.router.add_get("/api/me", _authed(me))
    app.router.add_get("/api/chats", _authed(chats))
    app.router.add_get("/api/chats/{chat_id}/messages", _authed(chat_messages))
    app.router.add_get("/api/chats/{chat_id}/changes", _authed(chat_changes))
    app.router.add_get("/api/chats/{chat_id}/members", _authed(chat_members))
    app.router.add_post("/api/message-auth", _authed(message_auth))
    app.router.add_get("/api/search", _authed(search))
