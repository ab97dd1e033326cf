"""Signed download links: a URL that fetches one file without a token, for a few minutes.

A browser follows a link without adding headers, so the link itself carries
the permission: the file's id and an expiry, signed with the server secret
(itsdangerous, HMAC-SHA1 under a salt of its own, so no other signed string
of the server can pass for a link). A changed byte, another file's id or a
time past the expiry is `unauthorized`.
"""

from __future__ import annotations

import time

from itsdangerous import BadSignature, URLSafeSerializer

from ..errors import ChatError

# The protocol's bound: a link expires at most 5 minutes after it is made.
MAX_LINK_TTL = 300.0


class FileLinks:
    """Issues and checks signed links, all sharing the server secret."""

    def __init__(self, secret: str, ttl: float = MAX_LINK_TTL) -> None:
        self.ttl = min(ttl, MAX_LINK_TTL)
        self._serializer = URLSafeSerializer(secret, salt="chat-widget.file-link")

    def sign(self, file_id: str, expires_at: float) -> str:
        """The signature for `file_id` good until `expires_at` (unix seconds)."""
        return self._serializer.dumps([file_id, round(expires_at, 3)])

    def issue(self, file_id: str) -> tuple[str, float]:
        """A fresh signature for `file_id` and when it expires."""
        expires_at = round(time.time() + self.ttl, 3)
        return self.sign(file_id, expires_at), expires_at

    def verify(self, signature: str, file_id: str) -> None:
        """Accept a signature made here for this file and not yet expired."""
        try:
            signed = self._serializer.loads(signature)
        except BadSignature:
            raise ChatError("this download link is not valid", code="unauthorized") from None
        if not (isinstance(signed, list) and len(signed) == 2 and signed[0] == file_id
                and isinstance(signed[1], (int, float))):
            raise ChatError("this download link is for another file", code="unauthorized")
        if signed[1] < time.time():
            raise ChatError("this download link has expired; ask for a new one",
                            code="unauthorized")
