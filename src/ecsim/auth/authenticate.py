"""Turn a request's credentials (X-Auth-Token, or an AK/SK signature) into a Principal and its project scope.

Failures raise AuthError; the app renders it in the family's format (the API gateway's APIGW.0301 shape for the
Huawei families, Keystone's for IAM, Nova/Cinder faults for the OpenStack ones).
"""

from __future__ import annotations

import time

from ecsim.auth import signature, temporary, tokens
from ecsim.catalog import Operation
from ecsim.http.context import Ctx
from ecsim.iam.directory import Principal
from ecsim.timefmt import iso_micros_z


class AuthError(Exception):
    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code
        self.reason = reason


class ProjectMismatch(Exception):
    """The URL names a project other than the one the caller is scoped to (ECS Ecs.0023, Nova 400)."""

    def __init__(self, url_project: str, ctx_project: str) -> None:
        super().__init__(url_project)
        self.url_project = url_project
        self.ctx_project = ctx_project


def _unauthorized(reason: str) -> AuthError:
    return AuthError(401, "APIGW.0301", f"Incorrect IAM authentication information: {reason}")


def authenticate(ctx: Ctx) -> Principal:
    token = ctx.headers.get("x-auth-token")
    if token:
        return _from_token(ctx, token)
    auth = ctx.headers.get("authorization")
    if auth:
        return _from_signature(ctx, auth)
    raise AuthError(401, "APIGW.0301", "Incorrect IAM authentication information: the request has no X-Auth-Token "
                    "and no Authorization signature")


def user_principal(ctx: Ctx, user: dict, method: str, project_id: str | None, *, access_key: str | None = None,
                   mfa: bool = False, cred: dict | None = None) -> Principal:
    d = ctx.rt.directory

    def load() -> Principal:
        domain = d.domain(user["domain_id"]) or {"name": ""}
        project = d.project(project_id) if project_id else None
        return Principal(
            user_id=user["id"], user_name=user["name"], domain_id=user["domain_id"], domain_name=domain["name"],
            project_id=project_id, project_name=project["name"] if project else None, method=method,
            is_admin=d.is_admin(user), access_key=access_key, mfa=mfa,
            session=temporary.session_policysets(cred) if cred is not None else (),
        )

    return d.cached(("principal", user["id"], method, project_id, access_key, mfa), load)


def token_claims(ctx: Ctx, token: str) -> tokens.TokenClaims:
    """Decode and check a token: signature, expiry, revocation, user still enabled."""
    cache = ctx.rt.token_cache
    claims = cache.get(token)
    if claims is None:
        claims = tokens.decode(ctx.rt.token_secret, token)
        if claims is None:
            raise _unauthorized("decrypt token fail")
        if len(cache) >= 4096:  # verified tokens are immutable; a full cache simply starts over
            cache.clear()
        cache[token] = claims
    if ctx.now >= claims.expires:
        raise _unauthorized("the token has expired")
    d = ctx.rt.directory
    user = d.user(claims.user_id)
    if user is None or claims.issued < user.get("tokens_valid_after", 0.0) or d.token_revoked(claims.audit_id):
        raise _unauthorized("the token has been revoked")
    if not user.get("enabled", True):
        raise AuthError(403, "APIGW.0302", f"The user {user['name']} is disabled.")
    return claims


def _from_token(ctx: Ctx, token: str) -> Principal:
    claims = token_claims(ctx, token)
    user = ctx.rt.directory.user(claims.user_id)
    assert user is not None
    return user_principal(ctx, user, "token", claims.project_id, mfa=claims.mfa)


def _from_signature(ctx: Ctx, header: str) -> Principal:
    auth = signature.parse_authorization(header)
    if auth is None:
        raise _unauthorized("the Authorization header is not an SDK-HMAC-SHA256 signature")
    d = ctx.rt.directory
    cred = d.credential(auth.access_key)
    if cred is None:
        raise _unauthorized(f"Get secretKey failed,ak:{auth.access_key},err:ak not exist")
    if cred.get("status") != "active":
        raise _unauthorized(f"the access key {auth.access_key} is inactive")
    temp = cred.get("kind") == "temporary"
    if temp:
        _check_temporary(ctx, cred)
    try:
        # The skew window compares the client's clock with ours: use the wall clock, not the emulated one (moving
        # the emulated clock to finish jobs must not expire every signature the SDK makes).
        signature.verify(auth, cred["secret"], ctx.method, ctx.path, ctx.query_pairs, ctx.headers, ctx.body,
                         time.time())
    except signature.SignatureError as exc:
        raise _unauthorized(exc.reason) from exc
    user = d.user(cred["user_id"])
    if user is None:
        raise _unauthorized(f"Get secretKey failed,ak:{auth.access_key},err:ak not exist")
    if temp and cred["created"] < user.get("tokens_valid_after", 0.0):
        # Like tokens: disabling the user or changing its password ends the temporary keys issued before.
        raise _unauthorized(f"the temporary access key {auth.access_key} has been revoked")
    if not user.get("enabled", True):
        raise AuthError(403, "APIGW.0302", f"The user {user['name']} with access key {auth.access_key} is disabled.")
    project_id = ctx.headers.get("x-project-id") or ctx.params.get("project_id")
    return user_principal(ctx, user, "aksk", project_id, access_key=auth.access_key, cred=cred if temp else None)


def _check_temporary(ctx: Ctx, cred: dict) -> None:
    """A temporary key needs its own security token (signed by the SDK as X-Security-Token) and dies at expiry.
    The token is checked first, as Huawei's gateway decrypts it before it can read the expiry inside."""
    presented = ctx.headers.get("x-security-token")
    if presented is None:
        raise _unauthorized(f"the temporary access key {cred['access']} needs its security token in the "
                            "X-Security-Token header")
    if not temporary.token_matches(cred, presented):
        raise _unauthorized("decrypt token fail")
    if ctx.now >= cred["expires_at"]:
        raise _unauthorized(f"the security token has expired (expires_at {iso_micros_z(cred['expires_at'])})")


def scope_project(ctx: Ctx, principal: Principal, op: Operation) -> str | None:
    """The project a project-level operation acts in, checked against the caller's scope."""
    url_project = ctx.params.get("project_id")
    if op.scope != "project":
        return None
    scoped = principal.project_id
    if scoped is None:
        if principal.method == "token":
            raise AuthError(403, "APIGW.0302", "The token is not scoped to a project; request a project-scoped "
                            "token (auth.scope.project) for this API.")
        raise AuthError(400, "Ecs.0023", "The request names no project: send X-Project-Id or use a URL with "
                        "{project_id}.")
    if url_project is not None and url_project != scoped:
        raise ProjectMismatch(url_project, scoped)
    project = ctx.rt.directory.project(scoped)
    if project is None or project["domain_id"] != principal.domain_id:
        raise AuthError(403, "APIGW.0302", f"The project {scoped} does not exist in the caller's account.")
    return scoped
