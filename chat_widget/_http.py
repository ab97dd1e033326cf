"""The client's HTTP side: message authorization strings over one keep-alive session.

A fresh authorization string is fetched for every send (and every retry), so
the connection is kept alive to spare a TCP handshake on the hot path.
"""

from __future__ import annotations

from typing import Any

import requests

from ._servers import ServerList
from .errors import AuthorizationError, ChatError, NotConnectedError


class HttpApi:
    """Bearer-authenticated calls to the chat server's HTTP routes (the current server)."""

    def __init__(self, servers: ServerList, token: str, timeout: float) -> None:
        self._servers = servers
        self.timeout = timeout
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {token}"

    def message_auth(self, chat_id: str) -> tuple[str, float]:
        """A single-use authorization string for one message to `chat_id`, and its expiry.

        A refusal raises `AuthorizationError` (or `RateLimitedError`) with the
        server's code; an unreachable server raises `NotConnectedError`.
        """
        body = self._request(
            "POST", "/api/message-auth", AuthorizationError, json={"chat_id": chat_id}
        )
        auth, expires_at = body.get("auth"), body.get("expires_at")
        if not isinstance(auth, str):
            raise AuthorizationError("the server sent no authorization string", code="internal")
        return auth, float(expires_at) if isinstance(expires_at, (int, float)) else 0.0

    def me(self) -> dict[str, Any]:
        """The signed-in user (`GET /api/me`); a refused token raises AuthorizationError."""
        return self._request("GET", "/api/me", AuthorizationError)

    def close(self) -> None:
        """Release the kept-alive connection."""
        self._session.close()

    def _request(
        self, method: str, path: str, error_class: type[ChatError], **kwargs: Any
    ) -> dict[str, Any]:
        try:
            response = self._session.request(
                method, self._servers.current + path, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise NotConnectedError(f"could not reach the chat server: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not response.ok:
            error = body.get("error") if isinstance(body, dict) else None
            raise error_class.from_error(error, fallback=f"HTTP {response.status_code}")
        return body if isinstance(body, dict) else {}
