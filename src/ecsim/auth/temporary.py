"""Temporary access keys (POST /v3.0/OS-CREDENTIAL/securitytokens): the rules, without HTTP.

A temporary key is an AK/SK pair plus a security token, valid 15 min to 24 h. It acts as the user who asked for it,
and an optional session policy narrows it further: a request passes only if the user's policies *and* the session
policy allow it. Keys are stored (kind `temporary_credential`, ref = user) so they survive restarts; the
authenticator reads them through the directory cache like permanent keys.
"""

from __future__ import annotations

import base64
import hmac
import os
from typing import Any

import msgspec

from ecsim.bootstrap import new_access_key, new_secret_key
from ecsim.domain.errors import InvalidInput
from ecsim.iam.evaluate import PolicySet
from ecsim.iam.policy import PolicyError, parse_policy

MIN_DURATION = 900
MAX_DURATION = 86400
DEFAULT_DURATION = 900
# Huawei documents no figure for the session policy here; 2048 characters is the limit of its STS session
# policies (an assumption, see docs/iam.md).
MAX_SESSION_POLICY_CHARS = 2048


def check_duration(value: Any) -> int:
    if value is None:
        return DEFAULT_DURATION
    # The documented example sends "900" as a string; the SDK sends an integer. Both are accepted; bools are not.
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 6:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"duration_seconds must be an integer number of seconds, got {value!r}.")
    if not MIN_DURATION <= value <= MAX_DURATION:
        raise InvalidInput(f"duration_seconds must be between {MIN_DURATION} (15 minutes) and {MAX_DURATION} "
                           f"(24 hours), got {value}.")
    return value


def check_session_policy(document: Any) -> dict:
    """Validate an inline session policy (the 1.1 grammar of custom policies); the message names the element."""
    if not isinstance(document, dict):
        raise InvalidInput("auth.identity.policy must be a JSON object with Version and Statement.")
    size = len(msgspec.json.encode(document))
    if size > MAX_SESSION_POLICY_CHARS:
        raise InvalidInput(f"auth.identity.policy is {size} characters long; at most {MAX_SESSION_POLICY_CHARS} "
                           "are allowed.")
    if "Depends" in document:
        raise InvalidInput("auth.identity.policy.Depends is not allowed in a session policy.")
    try:
        parse_policy(document, allowed_versions=("1.1",))
    except PolicyError as exc:
        raise InvalidInput(f"Invalid auth.identity.policy: {exc}") from exc
    return document


def new_security_token() -> str:
    # Opaque to clients, like Huawei's (an encrypted blob there); long enough that guessing is hopeless.
    return base64.urlsafe_b64encode(os.urandom(96)).rstrip(b"=").decode()


def new_credential(user: dict, now: float, duration: int, policies: list[dict], *,
                   not_after: float | None = None, parent: str | None = None) -> dict:
    """The stored document of a new temporary key. `policies` are the session policies it carries (a key made
    with another temporary key inherits that key's policies and never outlives it: `not_after`)."""
    expires = now + duration if not_after is None else min(now + duration, not_after)
    return {
        "access": new_access_key(), "secret": new_secret_key(), "security_token": new_security_token(),
        "user_id": user["id"], "domain_id": user["domain_id"], "status": "active", "created": now,
        "expires_at": expires, "session_policies": policies, "parent": parent, "kind": "temporary",
    }


def token_matches(cred: dict, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(presented.encode(), cred["security_token"].encode())


def session_policysets(cred: dict) -> tuple[PolicySet, ...]:
    """One compiled policy set per session policy the key carries; each must allow a request (an intersection,
    not a union). Empty when it carries none: then the user's policies alone decide."""
    docs = cred.get("session_policies") or []
    out = []
    for i, doc in enumerate(docs):
        name = f"session policy of temporary access key {cred['access']}" + (f" (#{i + 1})" if len(docs) > 1 else "")
        out.append(PolicySet([parse_policy(doc, policy_id=f"session:{cred['access']}:{i}", name=name,
                                           kind="session")]))
    return tuple(out)
