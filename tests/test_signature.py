"""The server's AK/SK verifier against huaweicloudsdkcore's own Signer (the reference implementation)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from hypothesis import given, settings
from hypothesis import strategies as st

from ecsim.auth import signature
from ecsim.http.context import parse_query

AK, SK = "AKTESTAKTESTAKTEST12", "sktestsktestsktestsktestsktestsktest1234"


def sdk_sign(method: str, path: str, query: list[tuple[str, str]], body: bytes, extra: dict | None = None):
    headers = {"Content-Type": "application/json", "X-Project-Id": "p1", "User-Agent": "t", **(extra or {})}
    req = SdkRequest(method=method, schema="http", host="127.0.0.1:8000", resource_path=path,
                     query_params=list(query), header_params=headers, body=body)
    signed = Signer(BasicCredentials(AK, SK, "p1")).sign(req)
    return signed


def verify(signed, now: float, secret: str = SK) -> None:
    headers = {k.lower(): v for k, v in signed.header_params.items()}
    auth = signature.parse_authorization(headers["authorization"])
    assert auth is not None
    raw_query = signed.uri.partition("?")[2].encode()
    signature.verify(auth, secret, signed.method, signed.resource_path, parse_query(raw_query), headers,
                     signed.body or b"", now)


def sdk_time(signed) -> float:
    return signature.parse_sdk_date(signed.header_params["X-Sdk-Date"])


def test_get_with_query_verifies():
    s = sdk_sign("GET", "/v1/p1/cloudservers/detail", [("limit", 10), ("name", "web vm~x"), ("offset", 1)], b"")
    verify(s, sdk_time(s))


def test_post_with_body_verifies_and_tampering_fails():
    body = b'{"os-stop": {"servers": [{"id": "a"}]}}'
    s = sdk_sign("POST", "/v1/p1/cloudservers/action", [], body)
    verify(s, sdk_time(s))
    s.body = body.replace(b"os-stop", b"os-start")
    with pytest.raises(signature.SignatureError, match="verify aksk signature fail"):
        verify(s, sdk_time(s))


def test_wrong_secret_fails():
    s = sdk_sign("GET", "/v3/projects", [("name", "cn-north-4")], b"")
    with pytest.raises(signature.SignatureError):
        verify(s, sdk_time(s), secret=SK[:-1] + "x")


def test_stale_and_future_signatures_fail():
    s = sdk_sign("GET", "/v1/p1/jobs/x", [], b"")
    t = sdk_time(s)
    verify(s, t + 14 * 60)
    for skew in (16 * 60, -16 * 60):
        with pytest.raises(signature.SignatureError, match="signature expired"):
            verify(s, t + skew)


def test_unsigned_header_is_ignored_but_signed_header_change_fails():
    s = sdk_sign("GET", "/v1/p1/cloudservers/detail", [], b"")
    s.header_params["Accept-Encoding"] = "gzip"  # added by HTTP libraries after signing
    verify(s, sdk_time(s))
    s.header_params["X-Project-Id"] = "p2"
    with pytest.raises(signature.SignatureError):
        verify(s, sdk_time(s))


text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


@settings(max_examples=150, deadline=None)
@given(
    segments=st.lists(text.filter(lambda t: "/" not in t and t not in (".", "..")), min_size=1, max_size=4),
    query=st.lists(st.tuples(text.filter(bool), text), max_size=4),
    body=st.binary(max_size=64),
)
def test_matches_the_sdk_signer_for_arbitrary_requests(segments, query, body):
    path = "/" + "/".join(segments)
    quoted = "/".join(quote(s, safe="") for s in path.split("/"))
    s = sdk_sign("POST", quoted, query, body)
    verify(s, sdk_time(s))


def test_parse_authorization_rejects_other_schemes():
    assert signature.parse_authorization("Bearer abc") is None
    assert signature.parse_authorization("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=zz") is None
