"""Keystone v3 as Huawei IAM serves it: version discovery, tokens (password / token methods, project or domain
scope, with the service catalog), accessible projects and accounts, and projects."""

from __future__ import annotations

import hashlib
from typing import Any

from msgspec import Struct

from ecsim.auth import tokens
from ecsim.auth.authenticate import AuthError, token_claims
from ecsim.auth.passwords import check_password
from ecsim.bootstrap import ensure_project
from ecsim.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from ecsim.http.context import Ctx, Response, empty, json_response
from ecsim.iam.directory import Directory
from ecsim.ids import new_hex32
from ecsim.store import Cond, Put
from ecsim.timefmt import iso_micros_z

V3_UPDATED = "2020-04-07T00:00:00Z"


def _v3_doc(ctx: Ctx) -> dict:
    base = ctx.rt.config.base_url() + ctx.prefix
    return {
        "id": "v3.14", "status": "stable", "updated": V3_UPDATED,
        "links": [{"rel": "self", "href": f"{base}/v3/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    }


def versions(ctx: Ctx) -> Response:
    """GET / (and /identity): 300 Multiple Choices listing v3."""
    doc = _v3_doc(ctx)
    return json_response(300, {"versions": {"values": [doc]}}, [(b"location", doc["links"][0]["href"].encode())])


def version_v3(ctx: Ctx) -> Response:
    return json_response(200, {"version": _v3_doc(ctx)})


# -- tokens -------------------------------------------------------------------------------------------------------
class _Ref(Struct):
    id: str | None = None
    name: str | None = None


class _ScopedRef(Struct):
    id: str | None = None
    name: str | None = None
    domain: _Ref | None = None


class _User(Struct):
    id: str | None = None
    name: str | None = None
    password: str | None = None
    domain: _Ref | None = None


class _Password(Struct):
    user: _User


class _TokenRef(Struct):
    id: str


class _Identity(Struct):
    methods: list[str]
    password: _Password | None = None
    token: _TokenRef | None = None


class _Scope(Struct):
    project: _ScopedRef | None = None
    domain: _Ref | None = None


class _Auth(Struct):
    identity: _Identity
    scope: _Scope | str | None = None


class _AuthBody(Struct):
    auth: _Auth


def _unauthorized(reason: str) -> AuthError:
    return AuthError(401, "", reason)


def _find_domain(ctx: Ctx, ref: _Ref | None) -> dict | None:
    if ref is None:
        return None
    d = ctx.rt.directory
    if ref.id:
        return d.domain(ref.id)
    if ref.name:
        return d.domain_by_name(ref.name)
    return None


def _password_user(ctx: Ctx, pw: _Password) -> dict:
    d = ctx.rt.directory
    u = pw.user
    user = None
    if u.id:
        user = d.user(u.id)
    elif u.name:
        domain = _find_domain(ctx, u.domain)
        if domain is not None:
            user = d.user_by_name(domain["id"], u.name)
    if user is None or u.password is None or not check_password(u.password, user.get("password")):
        raise _unauthorized("The request you have made requires authentication.")
    return user


def _scope_project(ctx: Ctx, user: dict, scope: _Scope | None) -> tuple[str | None, str | None]:
    """(project id, domain id) of the requested scope; no scope means the user's account (domain) scope."""
    d = ctx.rt.directory
    if scope is None or (scope.project is None and scope.domain is None):
        return None, user["domain_id"]
    if scope.project is not None:
        p = scope.project
        project = None
        if p.id:
            project = d.project(p.id)
        elif p.name:
            domain_id = user["domain_id"]
            if p.domain is not None:
                dom = _find_domain(ctx, p.domain)
                domain_id = dom["id"] if dom else ""
            project = d.project_by_name(domain_id, p.name)
        if project is None or project["domain_id"] != user["domain_id"]:
            raise _unauthorized("The request you have made requires authentication. (project not found in the "
                                "user's account)")
        return project["id"], None
    dom = _find_domain(ctx, scope.domain)
    if dom is None or dom["id"] != user["domain_id"]:
        raise _unauthorized("The request you have made requires authentication. (domain scope not permitted)")
    return None, dom["id"]


def create_token(ctx: Ctx) -> Response:
    """POST /v3/auth/tokens -> 201 with X-Subject-Token and the token body (catalog unless ?nocatalog)."""
    body = ctx.body_as(_AuthBody)
    ident = body.auth.identity
    scope = body.auth.scope if isinstance(body.auth.scope, _Scope) else None
    if isinstance(body.auth.scope, str) and body.auth.scope != "unscoped":
        raise InvalidInput("auth.scope must be an object or \"unscoped\".")
    methods = list(ident.methods)
    if "password" in methods:
        if ident.password is None:
            raise InvalidInput("auth.identity.password is required for the password method.")
        user = _password_user(ctx, ident.password)
        mfa = False
    elif "token" in methods:
        token_id = ident.token.id if ident.token else ctx.headers.get("x-auth-token")
        if not token_id:
            raise InvalidInput("auth.identity.token.id is required for the token method.")
        claims = token_claims(ctx, token_id)
        user = ctx.rt.directory.user(claims.user_id) or {}
        mfa = claims.mfa
    else:
        raise InvalidInput(f"Unsupported authentication methods: {', '.join(methods) or 'none'}.")
    if not user.get("enabled", True):
        raise _unauthorized(f"The account is disabled for user: {user['id']}.")
    if user.get("access_mode") == "programmatic":
        raise _unauthorized("This user only supports programmatic access with access keys.")
    project_id, _domain_scope = _scope_project(ctx, user, scope)
    claims = tokens.TokenClaims(
        user_id=user["id"], domain_id=user["domain_id"], issued=ctx.now,
        expires=ctx.now + tokens.TOKEN_TTL_SECONDS, audit_id=tokens.new_audit_id(), methods=tuple(methods),
        project_id=project_id, mfa=mfa,
    )
    token = tokens.issue(ctx.rt.token_secret, claims)
    body_out = token_body(ctx, claims, with_catalog="nocatalog" not in ctx.query)
    return json_response(201, body_out, [(b"x-subject-token", token.encode())])


def token_body(ctx: Ctx, claims: tokens.TokenClaims, *, with_catalog: bool) -> dict:
    d = ctx.rt.directory
    user = d.user(claims.user_id) or {}
    domain = d.domain(claims.domain_id) or {"id": claims.domain_id, "name": ""}
    dom_ref = {"id": domain["id"], "name": domain["name"]}
    token: dict[str, Any] = {
        "methods": list(claims.methods),
        "expires_at": iso_micros_z(claims.expires),
        "issued_at": iso_micros_z(claims.issued),
        "audit_ids": [claims.audit_id],
        "user": {"domain": dom_ref, "id": user.get("id"), "name": user.get("name"),
                 "password_expires_at": None},
        "roles": _token_roles(ctx, user, claims.project_id),
    }
    if claims.project_id:
        project = d.project(claims.project_id) or {"id": claims.project_id, "name": ""}
        token["project"] = {"domain": dom_ref, "id": project["id"], "name": project["name"]}
        token["is_domain"] = False
    else:
        token["domain"] = dom_ref
    if with_catalog:
        token["catalog"] = service_catalog(ctx, claims.project_id)
    return {"token": token}


def _token_roles(ctx: Ctx, user: dict, project_id: str | None) -> list[dict]:
    """Names of the permissions granted in the token's scope (what Huawei's services read from tokens)."""
    d = ctx.rt.directory
    if not user:
        return []
    if d.is_admin(user):
        return [{"id": "0", "name": "te_admin"}, {"id": "0", "name": "secu_admin"}]
    names = []
    for policy in d.policyset(user, project_id).policies:
        role = d.role(policy.id)
        if role is not None:
            names.append({"id": role["id"], "name": role["name"]})
    return names


# The services ecsim serves, all on this one port (devstack-style prefixes for Keystone): type, name, URL under
# the base ("$(project_id)s" as in Keystone's endpoint templates). OpenStack clients find block storage under
# /volume (discovery at /volume/); the Huawei EVS SDK uses /v2.
SERVICES = (("identity", "keystone", "/identity/v3"), ("iam", "iam", "/v3"),
            ("ecs", "ecs", "/v1/$(project_id)s"), ("compute", "nova", "/compute/v2.1/$(project_id)s"),
            ("ims", "ims", ""), ("image", "glance", "/image"),
            ("block-storage", "cinder", "/volume/v3/$(project_id)s"),
            ("volumev3", "cinderv3", "/volume/v3/$(project_id)s"),
            ("volumev2", "cinderv2", "/volume/v2/$(project_id)s"), ("evs", "evs", "/v2/$(project_id)s"))


def _stable_id(*parts: str) -> str:
    """Ids that stay the same across tokens and restarts, as a deployment's catalog ids do."""
    return hashlib.md5("/".join(parts).encode()).hexdigest()


def service_catalog(ctx: Ctx, project_id: str | None) -> list[dict]:
    """The catalog of a token: every service, project-level ones only in a project-scoped token."""
    base, region = ctx.rt.config.base_url(), ctx.rt.config.region
    out = []
    for kind, name, path in SERVICES:
        if "$(project_id)s" in path and not project_id:
            continue
        if kind in ("ims", "image") and not project_id:
            continue
        url = base + path.replace("$(project_id)s", project_id or "")
        out.append({"type": kind, "name": name, "id": _stable_id("service", kind), "endpoints": [
            {"id": _stable_id("endpoint", kind, region), "interface": "public", "region": region,
             "region_id": region, "url": url}]})
    return out


# -- regions, services and endpoints (read-only: the deployment is ecsim itself) -------------------------------------
def _region_view(ctx: Ctx) -> dict:
    region = ctx.rt.config.region
    return {"id": region, "description": "", "parent_region_id": None,
            "links": {"self": f"{ctx.rt.config.base_url()}/v3/regions/{region}"}}


def _service_view(ctx: Ctx, kind: str, name: str) -> dict:
    sid = _stable_id("service", kind)
    return {"id": sid, "type": kind, "name": name, "enabled": True, "description": "",
            "links": {"self": f"{ctx.rt.config.base_url()}/v3/services/{sid}"}}


def _endpoint_views(ctx: Ctx) -> list[dict]:
    base, region = ctx.rt.config.base_url(), ctx.rt.config.region
    out = []
    for kind, _, path in SERVICES:
        eid = _stable_id("endpoint", kind, region)
        out.append({"id": eid, "interface": "public", "region": region, "region_id": region,
                    "service_id": _stable_id("service", kind), "url": base + path, "enabled": True,
                    "links": {"self": f"{base}/v3/endpoints/{eid}"}})
    return out


def list_regions(ctx: Ctx) -> Response:
    return json_response(200, {"regions": [_region_view(ctx)], "links": _list_links(ctx, "/v3/regions")})


def show_region(ctx: Ctx) -> Response:
    if ctx.params["region_id"] != ctx.rt.config.region:
        raise NotFound("region", ctx.params["region_id"], f"Could not find region: {ctx.params['region_id']}.")
    return json_response(200, {"region": _region_view(ctx)})


def list_services(ctx: Ctx) -> Response:
    kind = ctx.q("type")
    views = [_service_view(ctx, k, n) for k, n, _ in SERVICES if kind in (None, k)]
    return json_response(200, {"services": views, "links": _list_links(ctx, "/v3/services")})


def show_service(ctx: Ctx) -> Response:
    found = [_service_view(ctx, k, n) for k, n, _ in SERVICES if _stable_id("service", k) == ctx.params["service_id"]]
    if not found:
        raise NotFound("service", ctx.params["service_id"], f"Could not find service: {ctx.params['service_id']}.")
    return json_response(200, {"service": found[0]})


def list_endpoints(ctx: Ctx) -> Response:
    views = [e for e in _endpoint_views(ctx) if ctx.q("interface") in (None, e["interface"])
             and ctx.q("service_id") in (None, e["service_id"]) and ctx.q("region_id") in (None, e["region_id"])]
    return json_response(200, {"endpoints": views, "links": _list_links(ctx, "/v3/endpoints")})


def show_endpoint(ctx: Ctx) -> Response:
    found = [e for e in _endpoint_views(ctx) if e["id"] == ctx.params["endpoint_id"]]
    if not found:
        raise NotFound("endpoint", ctx.params["endpoint_id"], f"Could not find endpoint: {ctx.params['endpoint_id']}.")
    return json_response(200, {"endpoint": found[0]})


def _subject(ctx: Ctx) -> tokens.TokenClaims:
    subject = ctx.headers.get("x-subject-token")
    if not subject:
        raise InvalidInput("The X-Subject-Token header is required.")
    try:
        claims = token_claims(ctx, subject)
    except AuthError as exc:
        raise NotFound("token", "", f"Could not find token: {exc.reason}") from exc
    caller = ctx.principal
    assert caller is not None
    if claims.user_id != caller.user_id and not caller.is_admin:
        raise DomainError("You are not authorized to perform the requested action.", reason="forbidden")
    return claims


def validate_token(ctx: Ctx) -> Response:
    claims = _subject(ctx)
    body = token_body(ctx, claims, with_catalog="nocatalog" not in ctx.query)
    return json_response(200, body, [(b"x-subject-token", ctx.headers["x-subject-token"].encode())])


def check_token(ctx: Ctx) -> Response:
    _subject(ctx)
    return empty(200)


def revoke_token(ctx: Ctx) -> Response:
    claims = _subject(ctx)
    with ctx.rt.store.write() as tx:
        tx.upsert(Put("revoked_token", claims.audit_id, claims.domain_id, {"expires": claims.expires},
                      created=ctx.now))
        ctx.rt.directory.changed(tx)
    return empty(204)


# -- projects and accounts ----------------------------------------------------------------------------------------
def project_view(ctx: Ctx, p: dict, *, full_links: bool = True) -> dict:
    base = ctx.rt.config.base_url()
    links: dict[str, Any] = {"self": f"{base}/v3/projects/{p['id']}"}
    if full_links:
        links.update({"previous": None, "next": None})
    return {"id": p["id"], "name": p["name"], "domain_id": p["domain_id"], "parent_id": p["parent_id"],
            "enabled": p.get("enabled", True), "is_domain": False, "description": p.get("description", ""),
            "links": links}


def _list_links(ctx: Ctx, path: str) -> dict:
    return {"self": f"{ctx.rt.config.base_url()}{path}", "previous": None, "next": None}


def _caller(ctx: Ctx) -> Any:
    assert ctx.principal is not None
    return ctx.principal


def _domain_projects(ctx: Ctx, domain_id: str) -> list[dict]:
    return [r.doc for r in ctx.rt.store.select("project", domain_id, newest_first=False)]


def list_auth_projects(ctx: Ctx) -> Response:
    projects = [project_view(ctx, p, full_links=False) for p in _domain_projects(ctx, _caller(ctx).domain_id)]
    return json_response(200, {"projects": projects, "links": {"self": f"{ctx.rt.config.base_url()}/v3/auth/projects"}})


def _domain_view(ctx: Ctx) -> dict:
    """The caller's account: the only domain a caller sees."""
    dom = ctx.rt.directory.domain(_caller(ctx).domain_id) or {}
    return {"id": dom.get("id"), "name": dom.get("name"), "enabled": dom.get("enabled", True),
            "description": dom.get("description", ""), "tags": [],
            "links": {"self": f"{ctx.rt.config.base_url()}/v3/domains/{dom.get('id')}"}}


def list_auth_domains(ctx: Ctx) -> Response:
    return json_response(200, {"domains": [_domain_view(ctx)], "links": _list_links(ctx, "/v3/auth/domains")})


def list_domains(ctx: Ctx) -> Response:
    """GET /v3/domains?name=: the caller's account (what the `openstack` CLI's --domain options look up)."""
    dom = _domain_view(ctx)
    shown = [dom] if ctx.q("name") in (None, dom["name"]) else []
    return json_response(200, {"domains": shown, "links": _list_links(ctx, "/v3/domains")})


def show_domain(ctx: Ctx) -> Response:
    dom = _domain_view(ctx)
    if ctx.params["domain_id"] != dom["id"]:
        raise NotFound("domain", ctx.params["domain_id"], f"Could not find domain: {ctx.params['domain_id']}.")
    return json_response(200, {"domain": dom})


def show_catalog(ctx: Ctx) -> Response:
    return json_response(200, {"catalog": service_catalog(ctx, _caller(ctx).project_id),
                               "links": {"self": f"{ctx.rt.config.base_url()}/v3/auth/catalog"}})


def list_projects(ctx: Ctx) -> Response:
    """GET /v3/projects?name=&parent_id=&enabled=&domain_id= (the SDK resolves project ids this way)."""
    caller = _caller(ctx)
    domain_id = ctx.q("domain_id") or caller.domain_id
    projects = _domain_projects(ctx, caller.domain_id) if domain_id == caller.domain_id else []
    for key in ("name", "parent_id", "id"):
        value = ctx.q(key)
        if value is not None:
            projects = [p for p in projects if p.get(key) == value]
    enabled = ctx.q_bool("enabled")
    if enabled is not None:
        projects = [p for p in projects if p.get("enabled", True) == enabled]
    if ctx.q_bool("is_domain"):
        projects = []
    return json_response(200, {"projects": [project_view(ctx, p) for p in projects],
                               "links": _list_links(ctx, "/v3/projects")})


def _project_in_domain(ctx: Ctx, project_id: str) -> dict:
    p = ctx.rt.directory.project(project_id)
    if p is None or p["domain_id"] != _caller(ctx).domain_id:
        raise NotFound("project", project_id, f"Could not find project: {project_id}.")
    return p


def show_project(ctx: Ctx) -> Response:
    return json_response(200, {"project": project_view(ctx, _project_in_domain(ctx, ctx.params["project_id"]))})


class _ProjectCreate(Struct):
    name: str
    parent_id: str
    domain_id: str | None = None
    description: str = ""


class _ProjectUpdate(Struct):
    name: str | None = None
    description: str | None = None


def create_project(ctx: Ctx) -> Response:
    """POST /v3/projects: a sub-project `<region>_<name>` under a region project."""
    body = ctx.wrapped("project", _ProjectCreate)
    caller = _caller(ctx)
    parent = _project_in_domain(ctx, body.parent_id)
    if parent["parent_id"] != caller.domain_id:
        raise InvalidInput("parent_id must be a region project (sub-projects cannot be nested).")
    if not body.name.startswith(parent["name"] + "_") or len(body.name) > 64:
        raise InvalidInput(f"A sub-project's name must start with '{parent['name']}_' and be at most 64 characters.")
    d = ctx.rt.directory
    with ctx.rt.store.write() as tx:
        if tx.select("project", caller.domain_id, [Cond("eq", "name", body.name)], limit=1):
            raise Conflict(f"Conflict occurred attempting to store project - Duplicate entry: {body.name}.")
        doc = {"id": new_hex32(), "name": body.name, "domain_id": caller.domain_id, "parent_id": parent["id"],
               "description": body.description, "enabled": True, "is_domain": False, "created": ctx.now}
        Directory.put_project(tx, doc, new=True)
        ensure_project(tx, caller.domain_id, body.name, ctx.rt.config.availability_zones, ctx.now)
        d.changed(tx)
    return json_response(201, {"project": project_view(ctx, doc, full_links=False)})


def update_project(ctx: Ctx) -> Response:
    body = ctx.wrapped("project", _ProjectUpdate)
    p = dict(_project_in_domain(ctx, ctx.params["project_id"]))
    if p["parent_id"] == p["domain_id"] and body.name and body.name != p["name"]:
        raise InvalidInput("A region project cannot be renamed.")
    if body.name is not None:
        p["name"] = body.name
    if body.description is not None:
        p["description"] = body.description
    with ctx.rt.store.write() as tx:
        Directory.put_project(tx, p, new=False)
        ctx.rt.directory.changed(tx)
    view = project_view(ctx, p, full_links=False)
    view["extra"] = {}
    return json_response(200, {"project": view})


def list_projects_for_user(ctx: Ctx) -> Response:
    user = ctx.rt.directory.user(ctx.params["user_id"])
    if user is None or user["domain_id"] != _caller(ctx).domain_id:
        raise NotFound("user", ctx.params["user_id"], f"Could not find user: {ctx.params['user_id']}.")
    projects = [project_view(ctx, p) for p in _domain_projects(ctx, user["domain_id"])]
    return json_response(200, {"projects": projects, "links": _list_links(ctx, f"/v3/users/{user['id']}/projects")})
