"""POST /v3.0/OS-CREDENTIAL/securitytokens: temporary access keys and security tokens (huaweicloudsdkiam
`create_temporary_access_key_by_token`). The rules live in auth/temporary.py.

Huawei needs no permission for this API: any authenticated user may get temporary keys for itself. The caller is
X-Auth-Token or an AK/SK signature (either wins over a token in the body), else `auth.identity.token.id`.
"""

from __future__ import annotations

from msgspec import Struct

from ecsim.auth import temporary
from ecsim.auth.authenticate import AuthError, authenticate, token_claims
from ecsim.domain.errors import InvalidInput, NotFound
from ecsim.http.context import Ctx, Response, json_response
from ecsim.iam.directory import TEMPORARY_CREDENTIAL, Directory
from ecsim.store import Cond, SqlStore
from ecsim.timefmt import iso_micros_z

# Expired keys are forgotten a day after expiry: long enough that using one still says "expired".
PURGE_AFTER_SECONDS = 86400


class _TokenRef(Struct):
    id: str | None = None
    duration_seconds: int | str | None = None


class _AssumeRole(Struct):
    agency_name: str
    domain_id: str | None = None
    domain_name: str | None = None
    duration_seconds: int | str | None = None
    session_user: dict | None = None


class _Identity(Struct):
    methods: list[str]
    token: _TokenRef | None = None
    assume_role: _AssumeRole | None = None
    policy: dict | None = None


class _Auth(Struct):
    identity: _Identity


class _Body(Struct):
    auth: _Auth


def create_temporary_access_key(ctx: Ctx) -> Response:
    has_header = bool(ctx.headers.get("x-auth-token") or ctx.headers.get("authorization"))
    if has_header:  # authentication before body checks, as for every other protected API
        ctx.principal = authenticate(ctx)
    ident = ctx.body_as(_Body).auth.identity
    if ident.methods == ["assume_role"]:
        _assume_role(ctx, ident, has_header)
    if ident.methods != ["token"]:
        raise InvalidInput(f'auth.identity.methods must be ["token"] or ["assume_role"], got {ident.methods!r}.')
    duration = temporary.check_duration(ident.token.duration_seconds if ident.token else None)
    policies = [temporary.check_session_policy(ident.policy)] if ident.policy is not None else []
    d = ctx.rt.directory
    parent = None
    if ctx.principal is not None:
        user = d.user(ctx.principal.user_id)
        parent = d.credential(ctx.principal.access_key) if ctx.principal.access_key else None
        if parent is not None and parent.get("kind") != "temporary":
            parent = None
    elif ident.token is not None and ident.token.id:
        user = d.user(token_claims(ctx, ident.token.id).user_id)
    else:
        raise AuthError(401, "", "send X-Auth-Token, an AK/SK signature or auth.identity.token.id")
    assert user is not None  # authentication checked it exists
    if parent is not None:  # a key made with a temporary key keeps its limits: its policies and its expiry
        policies = [*parent.get("session_policies", []), *policies]
    cred = temporary.new_credential(user, ctx.now, duration, policies,
                                    not_after=parent["expires_at"] if parent else None,
                                    parent=parent["access"] if parent else None)
    with ctx.rt.store.write() as tx:
        _purge_expired(tx, user, ctx.now)
        # No identity-version bump: nobody can have cached a lookup of a key that did not exist.
        Directory.put_temporary_credential(tx, cred)
    return json_response(201, {"credential": {
        "access": cred["access"], "secret": cred["secret"], "securitytoken": cred["security_token"],
        "expires_at": iso_micros_z(cred["expires_at"]),
    }})


def _purge_expired(tx: SqlStore, user: dict, now: float) -> None:
    rows = tx.select(TEMPORARY_CREDENTIAL, user["domain_id"], [Cond("eq", "ref", user["id"])])
    for row in rows:
        if row.doc["expires_at"] < now - PURGE_AFTER_SECONDS:
            tx.delete(TEMPORARY_CREDENTIAL, row.id)


def _assume_role(ctx: Ctx, ident: _Identity, has_header: bool) -> None:
    """Agencies are not emulated, so no agency can be assumed: say so after checking the request's form."""
    if not has_header:
        raise AuthError(401, "", "assume_role needs the caller's X-Auth-Token or an AK/SK signature")
    role = ident.assume_role
    if role is None:
        raise InvalidInput("auth.identity.assume_role is required for the assume_role method.")
    if not role.domain_id and not role.domain_name:
        raise InvalidInput("auth.identity.assume_role needs domain_id or domain_name (the delegating account).")
    temporary.check_duration(role.duration_seconds)
    if ident.policy is not None:
        temporary.check_session_policy(ident.policy)
    raise NotFound("agency", role.agency_name, f"Could not find agency: {role.agency_name}. (ecsim does not "
                   "emulate agencies yet, so no agency can be assumed.)")
