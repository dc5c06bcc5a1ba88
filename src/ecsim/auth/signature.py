"""Server-side verification of the Huawei SDK's AK/SK signature (SDK-HMAC-SHA256, also SDK-HMAC-SM3 shape).

No library verifies this scheme server-side, so the canonicalization mirrors huaweicloudsdkcore's
`signer/signer.py` step by step (tests compare it with the SDK's Signer on generated requests); the cryptography
is the stdlib's hmac/hashlib.

canonical request = METHOD \n URI (re-quoted per segment, always ending in "/") \n sorted query \n
                    "name:value\n" for every signed header \n signed;headers \n hex(sha256(body))
string to sign    = "SDK-HMAC-SHA256\n" + X-Sdk-Date + "\n" + hex(sha256(canonical request))
"""

from __future__ import annotations

import hashlib
import hmac
import re
from calendar import timegm
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, unquote

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MAX_SKEW_SECONDS = 15 * 60
_AUTH_RE = re.compile(
    r"^(SDK-HMAC-SHA256)\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)$"
)


@dataclass(slots=True, frozen=True)
class SignedAuth:
    algorithm: str
    access_key: str
    signed_headers: tuple[str, ...]
    signature: str


class SignatureError(Exception):
    """The signature is malformed, stale or wrong; `reason` goes into the gateway's 401 message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_authorization(value: str) -> SignedAuth | None:
    m = _AUTH_RE.match(value.strip())
    if not m:
        return None
    return SignedAuth(m.group(1), m.group(2), tuple(m.group(3).lower().split(";")), m.group(4).lower())


def _q(s: str) -> str:
    return quote(s, safe="~")


@lru_cache(maxsize=4096)
def canonical_uri(raw_path: str) -> str:
    uri = "/".join(_q(seg) for seg in unquote(raw_path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(pairs: list[tuple[str, str]]) -> str:
    # The SDK sorts (key, value) tuples and re-quotes both with safe="~".
    if not pairs:
        return ""
    return "&".join(f"{_q(k)}={_q(v)}" for k, v in sorted(pairs))


_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$")


@lru_cache(maxsize=1024)
def parse_sdk_date(value: str) -> float:
    m = _DATE_RE.match(value or "")
    if m is None:
        raise SignatureError("X-Sdk-Date is missing or not in the format YYYYMMDDTHHMMSSZ")
    y, mo, d, h, mi, sec = (int(g) for g in m.groups())
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and sec < 61):
        raise SignatureError("X-Sdk-Date is not a valid time")
    return float(timegm((y, mo, d, h, mi, sec, 0, 0, 0)))


def string_to_sign(
    auth: SignedAuth,
    method: str,
    raw_path: str,
    query_pairs: list[tuple[str, str]],
    headers: dict[str, str],
    body: bytes,
) -> str:
    lines = []
    for name in auth.signed_headers:
        value = headers.get(name)
        if value is None:
            raise SignatureError(f"signed header {name} is missing from the request")
        lines.append(f"{name}:{value.strip()}\n")
    if not body:
        payload_hash = EMPTY_SHA256
    else:
        payload_hash = headers.get("x-sdk-content-sha256") or hashlib.sha256(body).hexdigest()
    canonical = "\n".join(
        (
            method.upper(),
            canonical_uri(raw_path),
            canonical_query(query_pairs),
            "".join(lines),
            ";".join(auth.signed_headers),
            payload_hash,
        )
    )
    date = headers.get("x-sdk-date", "")
    return f"{auth.algorithm}\n{date}\n{hashlib.sha256(canonical.encode()).hexdigest()}"


def verify(
    auth: SignedAuth,
    secret_key: str,
    method: str,
    raw_path: str,
    query_pairs: list[tuple[str, str]],
    headers: dict[str, str],
    body: bytes,
    now: float,
) -> None:
    """Raise SignatureError unless the request is signed by `secret_key` within the skew window."""
    date = headers.get("x-sdk-date")
    if date is None:
        raise SignatureError("X-Sdk-Date header is missing")
    if "x-sdk-date" not in auth.signed_headers:
        raise SignatureError("X-Sdk-Date must be a signed header")
    signed_at = parse_sdk_date(date)
    if abs(now - signed_at) > MAX_SKEW_SECONDS:
        server_time = _fmt(now)
        raise SignatureError(f"signature expired, signature time:{date},server time:{server_time}")
    sts = string_to_sign(auth, method, raw_path, query_pairs, headers, body)
    expected = hmac.new(secret_key.encode(), sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, auth.signature):
        raise SignatureError("verify aksk signature fail")


def _fmt(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y%m%dT%H%M%SZ")
