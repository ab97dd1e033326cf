"""The client's HTTP side: message authorization strings, on demand or fetched ahead.

`HttpApi` makes the bearer-authenticated calls over one keep-alive session (a
fresh authorization string is fetched for every send and every retry, so the
TCP handshake is spared on the hot path). `AuthSupply` hands the sender one
string per attempt: by default fetched then and there, the send's fourth
step; with `prefetch` on, the string for the next send to a chat is fetched
in the background right after a send, so the next send skips that round
trip. A prefetched string close to expiry is not used, and one the server
refuses is replaced by a fresh fetch (the sender retries once).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, cast
from urllib.parse import quote

import requests

from .. import protocol
from ..errors import AuthorizationError, ChatError, NotConnectedError
from .connection import ServerList
from .threads import SerialExecutor

EXPIRY_MARGIN = 5.0  # seconds a prefetched string must still be good for
MAX_PREPARED = 256  # requests kept prepared (one per chat and server sent to)
AUTH_CODES = ("invalid_auth", "auth_expired", "auth_reused")


class HttpApi:
    """Bearer-authenticated calls to the chat server's HTTP routes (the current server).

    A request that cannot reach the server (refused, reset, timed out) calls
    `on_unreachable`: the session hands that evidence to the socket, which
    may not have noticed yet that the link is down.
    """

    def __init__(self, servers: ServerList, token: str, timeout: float,
                 on_unreachable: Callable[[], None] | None = None) -> None:
        self._servers = servers
        self.timeout = timeout
        self.on_unreachable = on_unreachable
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {token}"
        # requests reads the proxy and CA-bundle variables (and ~/.netrc) on every
        # request when `trust_env` is on: a fifth of a send's HTTP CPU, measured. They are
        # read once per server instead (`_environment`); ~/.netrc is not read at all, as
        # its credentials would replace the bearer token.
        self._session.trust_env = False
        self._from_environment: dict[str, dict[str, Any]] = {}
        self._prepared: dict[tuple[str, str], requests.PreparedRequest] = {}

    def message_auth(self, chat_id: str, timeout: float | None = None) -> tuple[str, float]:
        """A single-use authorization string for one message to `chat_id`, and its expiry.

        A refusal raises `AuthorizationError` (or `RateLimitedError`) with the
        server's code; an unreachable server raises `NotConnectedError`.
        `timeout` (default: the client's request timeout) bounds the request,
        so a send's own deadline can cut it short.
        """
        body = self._request(
            "POST", "/api/message-auth", AuthorizationError, json={"chat_id": chat_id},
            timeout=self.timeout if timeout is None else timeout, reuse=True,
        )
        auth, expires_at = body.get("auth"), body.get("expires_at")
        if not isinstance(auth, str):
            raise AuthorizationError("the server sent no authorization string", code="internal")
        return auth, float(expires_at) if isinstance(expires_at, (int, float)) else 0.0

    def me(self) -> protocol.Me:
        """The signed-in user (`GET /api/me`); a refused token raises AuthorizationError."""
        return cast(protocol.Me, self._request("GET", "/api/me", AuthorizationError))

    def chats(self) -> list[protocol.Chat]:
        """The chats this user may open, with its unread counts (`GET /api/chats`)."""
        body = self._request("GET", "/api/chats", ChatError)
        return cast(list[protocol.Chat], body.get("chats") or [])

    def members(self, chat_id: str) -> list[protocol.User]:
        """The chat's workspace's users and its bot (`GET /api/chats/{chat_id}/members`)."""
        body = self._request("GET", f"/api/chats/{quote(chat_id, safe='')}/members", ChatError)
        return cast(list[protocol.User], body.get("members") or [])

    def close(self) -> None:
        """Release the kept-alive connection."""
        self._session.close()

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Any JSON route: its body, or the server's refusal raised as a ChatError."""
        return self._request(method, path, ChatError, **kwargs)

    def open(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A route whose body is bytes: the response, streamed (`iter_content`), once it
        succeeded; a refusal raises as in `call`. The caller closes it."""
        response = self._send(method, path, stream=True, **kwargs)
        if not response.ok:
            with response:
                self._raise_for(response, ChatError)
        return response

    def _environment(self, server: str) -> dict[str, Any]:
        """The proxies and CA bundle the environment names for `server`, read once."""
        settings = self._from_environment.get(server)
        if settings is None:
            reader = requests.Session()  # trusts the environment, as requests does by default
            merged = reader.merge_environment_settings(server, {}, None, None, None)
            reader.close()
            settings = {"proxies": merged["proxies"], "verify": merged["verify"]}
            self._from_environment[server] = settings
        return settings

    def _prepared_request(self, method: str, url: str, body: Any) -> requests.PreparedRequest:
        """The request for `method url` with JSON `body`, prepared once.

        Preparing (the URL parsed, headers merged, the body encoded, cookies
        looked up) was a fifth of fetching an authorization string, measured,
        and the request is the same for every send to a chat.
        """
        key = (f"{method} {url}", json.dumps(body, sort_keys=True))
        prepared = self._prepared.get(key)
        if prepared is None:
            if len(self._prepared) >= MAX_PREPARED:
                self._prepared.clear()
            prepared = self._session.prepare_request(requests.Request(method, url, json=body))
            self._prepared[key] = prepared
        return prepared

    def _send(self, method: str, path: str, reuse: bool = False,
              **kwargs: Any) -> requests.Response:
        """`reuse`: send the request prepared for the same method, URL and JSON body
        before, while the session holds no cookie (a proxy in front may set one; each
        request then looks up the cookies afresh)."""
        kwargs.setdefault("timeout", self.timeout)
        server = self._servers.current
        for name, value in self._environment(server).items():
            kwargs.setdefault(name, value)
        try:
            if reuse and not self._session.cookies:
                prepared = self._prepared_request(method, server + path, kwargs.pop("json"))
                return self._session.send(prepared, allow_redirects=True, **kwargs)
            return self._session.request(method, server + path, **kwargs)
        except requests.RequestException as exc:
            unreachable = isinstance(exc, (requests.ConnectionError, requests.Timeout))
            if unreachable and self.on_unreachable is not None:
                self.on_unreachable()
            raise NotConnectedError(f"could not reach the chat server: {exc}") from exc

    @staticmethod
    def _raise_for(response: requests.Response, error_class: type[ChatError]) -> None:
        try:
            body = response.json()
        except ValueError:
            body = {}
        error = body.get("error") if isinstance(body, dict) else None
        raise error_class.from_error(error, fallback=f"HTTP {response.status_code}")

    def _request(
        self, method: str, path: str, error_class: type[ChatError], **kwargs: Any
    ) -> dict[str, Any]:
        response = self._send(method, path, **kwargs)
        if not response.ok:
            self._raise_for(response, error_class)
        try:
            body = response.json()
        except ValueError:
            body = {}
        return body if isinstance(body, dict) else {}


class AuthSupply:
    """Hands out one authorization string per send attempt."""

    def __init__(self, http: HttpApi, chores: SerialExecutor, prefetch: bool) -> None:
        self._http = http
        self._chores = chores
        self.prefetch = prefetch
        # chat_id -> the string fetched ahead (or being fetched): (auth, expires_at)
        self._ahead: dict[str, Future[tuple[str, float]]] = {}
        self._lock = threading.Lock()

    def take(self, chat_id: str, timeout: float | None = None) -> tuple[str, bool]:
        """(auth, was_prefetched): the string fetched ahead if still good, else a fresh one.

        A fetch still under way is waited for rather than done twice. `timeout`
        (default: the request timeout) bounds the whole wait.
        """
        deadline = time.monotonic() + (self._http.timeout if timeout is None else timeout)
        with self._lock:
            ahead = self._ahead.pop(chat_id, None)
        if ahead is not None:
            try:
                auth, expires_at = ahead.result(timeout=max(0.0, deadline - time.monotonic()))
                if _still_good(expires_at):
                    return auth, True
            except Exception:  # the fresh fetch below reports what went wrong
                pass
        left = deadline - time.monotonic()
        if left <= 0:
            raise NotConnectedError("no authorization string came in time", code="timeout")
        auth, _expires_at = self._http.message_auth(chat_id, timeout=left)
        return auth, False

    def ready(self, chat_id: str) -> bool:
        """Whether a string for `chat_id` has been fetched ahead and is waiting."""
        with self._lock:
            ahead = self._ahead.get(chat_id)
        return ahead is not None and ahead.done()

    def refill(self, chat_id: str) -> None:
        """After a send: fetch the next string for `chat_id` in the background (with
        `prefetch` on)."""
        if self.prefetch:
            self.fetch_ahead(chat_id)

    def fetch_ahead(self, chat_id: str) -> None:
        """Fetch a string for the next send to `chat_id` in the background, unless one
        is on its way or waiting that `take` would still use."""
        with self._lock:
            ahead = self._ahead.get(chat_id)
            if ahead is not None and not _unusable(ahead):
                return
            ahead = Future()
            self._ahead[chat_id] = ahead
        self._chores.submit(self._fetch, chat_id, ahead)

    def _fetch(self, chat_id: str, ahead: Future[tuple[str, float]]) -> None:
        try:
            ahead.set_result(self._http.message_auth(chat_id))
        except ChatError as error:
            ahead.set_exception(error)


def _unusable(ahead: Future[tuple[str, float]]) -> bool:
    """Whether a string fetched ahead is one `take` would pass over (failed, or too near
    its expiry); one still on its way counts as usable."""
    if not ahead.done():
        return False
    if ahead.exception() is not None:
        return True
    _auth, expires_at = ahead.result()
    return not _still_good(expires_at)


def _still_good(expires_at: float) -> bool:
    """Whether a string expiring at `expires_at` is still worth sending (`EXPIRY_MARGIN`)."""
    return expires_at - time.time() > EXPIRY_MARGIN
