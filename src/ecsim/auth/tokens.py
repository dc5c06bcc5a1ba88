"""Self-contained, signed tokens: issuing one writes nothing to the store.

A token is base64url(JSON claims) + "." + base64url(HMAC-SHA256(secret, claims)). Revocation is checked against
the user (disabled, deleted, password or permission change moves `tokens_valid_after`) and a small list of
revoked audit ids (DELETE /v3/auth/tokens).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import msgspec

TOKEN_TTL_SECONDS = 24 * 3600


class TokenClaims(msgspec.Struct, frozen=True):
    user_id: str
    domain_id: str
    issued: float
    expires: float
    audit_id: str
    methods: tuple[str, ...] = ("password",)
    project_id: str | None = None
    mfa: bool = False
    # For tokens issued from temporary credentials or agencies (later): the credential or agency behind it.
    via: str | None = None


_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder(TokenClaims)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_audit_id() -> str:
    return _b64(os.urandom(16))


def issue(secret: bytes, claims: TokenClaims) -> str:
    payload = _enc.encode(claims)
    mac = hmac.new(secret, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def decode(secret: bytes, token: str) -> TokenClaims | None:
    """The claims of a well-formed token signed with `secret`, else None (expiry is the caller's check)."""
    body, sep, mac = token.partition(".")
    if not sep or len(token) > 4096:
        return None
    try:
        payload = _unb64(body)
        expected = hmac.new(secret, payload, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac)):
            return None
        return _dec.decode(payload)
    except (ValueError, msgspec.DecodeError):
        return None
