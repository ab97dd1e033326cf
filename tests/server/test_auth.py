"""Tokens and message authorization strings (server/auth.py), without a server."""

from __future__ import annotations

import pytest

from chat_widget.errors import ChatError
from chat_widget.server.auth import (
    MessageAuthSigner,
    derived_token,
    hash_token,
    new_secret,
    new_token,
)


def refusal(signer: MessageAuthSigner, auth: object, user: str = "alice",
            chat: str = "general") -> str:
    """The code `verify` refuses `auth` with."""
    with pytest.raises(ChatError) as caught:
        signer.verify(auth, user, chat)
    return caught.value.code


def test_a_string_issued_for_a_user_and_chat_verifies_for_them() -> None:
    signer = MessageAuthSigner(new_secret(), ttl=60)
    auth, expires_at = signer.issue("alice", "general")
    verified = signer.verify(auth, "alice", "general")
    assert verified.expires_at == pytest.approx(expires_at)
    assert len(verified.nonce) == 32


def test_each_string_has_its_own_nonce() -> None:
    signer = MessageAuthSigner(new_secret())
    nonces = {signer.verify(signer.issue("alice", "general")[0], "alice", "general").nonce
              for _ in range(20)}
    assert len(nonces) == 20


def test_a_string_for_another_user_or_chat_is_invalid() -> None:
    signer = MessageAuthSigner(new_secret())
    auth, _ = signer.issue("alice", "general")
    assert refusal(signer, auth, user="bob") == "invalid_auth"
    assert refusal(signer, auth, chat="random") == "invalid_auth"


def test_a_string_signed_with_another_secret_or_altered_is_invalid() -> None:
    signer, other = MessageAuthSigner(new_secret()), MessageAuthSigner(new_secret())
    auth, _ = other.issue("alice", "general")
    assert refusal(signer, auth) == "invalid_auth"
    own, _ = signer.issue("alice", "general")
    altered = own[:-2] + ("AA" if own[-2:] != "AA" else "BB")
    assert refusal(signer, altered) == "invalid_auth"


@pytest.mark.parametrize("auth", [None, "", 42, "x" * 1001, "not.a.signature"])
def test_missing_or_malformed_strings_are_invalid(auth: object) -> None:
    assert refusal(MessageAuthSigner(new_secret()), auth) == "invalid_auth"


def test_an_expired_string_is_auth_expired() -> None:
    signer = MessageAuthSigner(new_secret(), ttl=-1)
    auth, _ = signer.issue("alice", "general")
    assert refusal(signer, auth) == "auth_expired"


def test_tokens_are_random_and_stored_only_as_hashes() -> None:
    token = new_token()
    assert token != new_token() and len(token) >= 43
    assert hash_token(token) == hash_token(token) != token
    assert len(hash_token(token)) == 64


def test_demo_tokens_derive_alike_from_one_secret_and_differ_by_name() -> None:
    secret = new_secret()
    assert derived_token(secret, "alice") == derived_token(secret, "alice")
    assert derived_token(secret, "alice") != derived_token(secret, "bob")
    assert derived_token(secret, "alice") != derived_token(new_secret(), "alice")


def test_strings_read_alike_by_itsdangerous_as_shipped_both_ways() -> None:
    """Issuing skips the zlib attempt; the strings stay those of URLSafeSerializer, so a
    process of an earlier release and this one verify each other's."""
    from itsdangerous import URLSafeSerializer

    secret = new_secret()
    signer = MessageAuthSigner(secret)
    stock = URLSafeSerializer(secret, salt="chat-widget.message-auth")
    auth, _ = signer.issue("alice", "general")
    assert stock.loads(auth)[:2] == ["alice", "general"]
    long_id = "a" * 200  # long enough for the stock serializer to compress
    compressed = stock.dumps([long_id, "general", "nonce", 4e9])
    assert compressed.startswith(".")
    assert signer.verify(compressed, long_id, "general").nonce == "nonce"
