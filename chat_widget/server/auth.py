"""Bearer tokens and message authorization strings.

Tokens are random and stored only as SHA-256 hashes. A message authorization
string is a payload `[user_id, chat_id, nonce, expires_at]` signed with the
server secret (itsdangerous, HMAC with its default SHA-1, compared in constant time). The
signature makes it unforgeable and binds it to one user and chat; the nonce,
recorded when spent, makes it single use; `expires_at` makes it short-lived.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from itsdangerous.encoding import base64_encode

from .. import json_text
from ..errors import ChatError

DEFAULT_AUTH_TTL = 60.0


def new_token() -> str:
    """A fresh bearer token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_secret() -> str:
    """A fresh server secret, made on first start and kept in the database."""
    return secrets.token_hex(32)


def hash_token(token: str) -> str:
    """The stored form of a token. Tokens are random, so a plain hash suffices."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def derived_token(secret: str, name: str) -> str:
    """A token that every start on the same database derives alike (demo users)."""
    digest = hmac.new(secret.encode(), f"demo-token:{name}".encode(), hashlib.sha256)
    return digest.hexdigest()


@dataclass(frozen=True)
class VerifiedAuth:
    """What a valid authorization string vouches for; `nonce` is spent on use."""

    nonce: str
    expires_at: float


class _UncompressedURLSafeSerializer(URLSafeSerializer):
    """URLSafeSerializer without its zlib attempt when signing, its JSON from orjson.

    A payload of a random nonce and two short ids never shrinks, yet trying
    cost about half of issuing a string (profiled: `zlib.compress` set up per
    call). The strings are those URLSafeSerializer makes whenever compression
    would not have won (the same compact JSON, but for characters outside
    ASCII in an id, written as UTF-8), and reading still accepts compressed
    ones, so strings from a process of an earlier release keep verifying.
    """

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(json_text.dumps(obj).encode())


class MessageAuthSigner:
    """Issues and checks message authorization strings with the server secret."""

    def __init__(self, secret: str, ttl: float = DEFAULT_AUTH_TTL) -> None:
        self._serializer = _UncompressedURLSafeSerializer(
            secret, salt="chat-widget.message-auth")
        # itsdangerous derives the HMAC key and makes a signer for every string;
        # both are the same each time, so they are made once here (a third of
        # issuing and verifying, profiled). The strings are the serializer's own.
        self._key = self._serializer.make_signer().derive_key()
        self.ttl = ttl

    def _signature(self, payload: bytes) -> bytes:
        return base64_encode(hmac.new(self._key, payload, hashlib.sha1).digest())

    def issue(self, user_id: str, chat_id: str) -> tuple[str, float]:
        """A new authorization string for one message by `user_id` in `chat_id`."""
        expires_at = time.time() + self.ttl
        nonce = secrets.token_hex(16)
        payload = self._serializer.dump_payload([user_id, chat_id, nonce, expires_at])
        return (payload + b"." + self._signature(payload)).decode("ascii"), expires_at

    def _loads(self, auth: str) -> Any:
        """The payload of a string this signer signed (itsdangerous's `loads`, whose
        own path still reads whatever the quick check does not pass)."""
        payload, _, signature = auth.encode("utf-8").rpartition(b".")
        if payload and hmac.compare_digest(self._signature(payload), signature):
            return self._serializer.load_payload(payload)
        return self._serializer.loads(auth)

    def verify(self, auth: object, user_id: str, chat_id: str) -> VerifiedAuth:
        """Check signature, binding and expiry; raise the protocol's code if any fails.

        Spending the nonce is the store's job, in the same transaction as the
        message, so a message that fails to store does not burn its string.
        """
        if not isinstance(auth, str) or not auth or len(auth) > 1000:
            raise ChatError("the message authorization string is missing or malformed",
                            code="invalid_auth")
        try:
            payload = self._loads(auth)
        except (BadSignature, ValueError, UnicodeError):
            raise ChatError("the message authorization string is not valid",
                            code="invalid_auth") from None
        if not (isinstance(payload, list) and len(payload) == 4):
            raise ChatError("the message authorization string is not valid", code="invalid_auth")
        auth_user, auth_chat, nonce, expires_at = payload
        if auth_user != user_id or auth_chat != chat_id:
            raise ChatError("the message authorization string was issued for another "
                            "user or chat", code="invalid_auth")
        if not isinstance(expires_at, (int, float)) or time.time() > expires_at:
            raise ChatError("the message authorization string has expired; fetch a new one",
                            code="auth_expired")
        return VerifiedAuth(nonce=str(nonce), expires_at=float(expires_at))
