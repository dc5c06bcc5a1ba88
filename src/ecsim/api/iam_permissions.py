"""Huawei IAM administration, permissions: custom policies (1.1 grammar), the system roles and policies, and grants
of them to groups on a project, on the account or on all projects, and to groups or users on an enterprise project.
Every write bumps the identity version."""

from __future__ import annotations

from msgspec import Struct

from ecsim.api import iam_common as acct
from ecsim.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from ecsim.http.context import Ctx, Response, empty, json_response
from ecsim.iam import system
from ecsim.iam.directory import ADMIN_GROUP, Directory, target_key, user_subject
from ecsim.iam.policy import PolicyError, parse_policy, upload_problems
from ecsim.ids import new_hex32
from ecsim.store import Cond


# -- custom policies and permissions ------------------------------------------------------------------------------
class CustomPolicyBody(Struct):
    display_name: str
    type: str
    description: str
    policy: dict
    description_cn: str | None = None


def _validate_custom(body: CustomPolicyBody) -> None:
    if not body.display_name.strip() or len(body.display_name) > 64:
        raise InvalidInput("display_name must be 1 to 64 characters and not only spaces.")
    if body.type not in ("AX", "XA"):
        raise InvalidInput(f"type must be AX (global services) or XA (project-level services), got {body.type!r}.")
    if len(body.description) > 256:
        raise InvalidInput("description must be at most 256 characters.")
    problems = upload_problems(body.policy)
    if problems:
        raise InvalidInput(f"Invalid policy: {problems[0]}")
    try:
        parse_policy(body.policy, allowed_versions=("1.1",))
    except PolicyError as exc:
        raise InvalidInput(f"Invalid policy: {exc}") from exc


def custom_policy_view(ctx: Ctx, role: dict) -> dict:
    return {
        "id": role["id"], "name": role["name"], "display_name": role["display_name"], "type": role["type"],
        "catalog": "CUSTOMED", "domain_id": role["domain_id"], "description": role.get("description", ""),
        "description_cn": role.get("description_cn") or "", "policy": role["policy"],
        "links": {"self": f"{acct.base(ctx)}/v3/roles/{role['id']}"},
        "created_time": str(int(role["created"] * 1000)), "updated_time": str(int(role["updated"] * 1000)),
    }


def role_view(ctx: Ctx, role: dict) -> dict:
    if role.get("domain_id"):
        return custom_policy_view(ctx, role)
    out = dict(role)
    out["links"] = acct.links(ctx, f"/v3/roles/{role['id']}")
    return out


def create_custom_policy(ctx: Ctx) -> Response:
    body = ctx.wrapped("role", CustomPolicyBody)
    _validate_custom(body)
    caller = acct.caller(ctx)
    with ctx.rt.store.write() as tx:
        existing = tx.select("role", caller.domain_id)
        if any(r.doc["display_name"] == body.display_name for r in existing):
            raise Conflict(f"Conflict occurred attempting to store role - Duplicate entry: {body.display_name}.")
        seq = int(tx.meta_get(f"custom_seq:{caller.domain_id}") or 0) + 1
        tx.meta_set(f"custom_seq:{caller.domain_id}", seq)
        role = {"id": new_hex32(), "name": f"custom_{caller.domain_id}_{seq}", "display_name": body.display_name,
                "type": body.type, "description": body.description, "description_cn": body.description_cn,
                "policy": body.policy, "domain_id": caller.domain_id, "catalog": "CUSTOMED", "created": ctx.now,
                "updated": ctx.now}
        Directory.put_role(tx, role, new=True)
        acct.changed(ctx, tx)
    return json_response(201, {"role": custom_policy_view(ctx, role)})


def _custom(ctx: Ctx) -> dict:
    role = acct.role(ctx, ctx.params["role_id"])
    if not role.get("domain_id"):
        raise NotFound("role", role["id"], f"Could not find custom policy: {role['id']}.")
    return role


def list_custom_policies(ctx: Ctx) -> Response:
    rows = ctx.rt.store.select("role", acct.caller(ctx).domain_id, newest_first=False)
    roles = [custom_policy_view(ctx, r.doc) for r in rows]
    page, per_page = ctx.q_int("page", None, low=1), ctx.q_int("per_page", None, low=1, high=300)
    total = len(roles)
    if page and per_page:
        roles = roles[(page - 1) * per_page: page * per_page]
    return json_response(200, {"roles": roles, "links": acct.links(ctx, "/v3.0/OS-ROLE/roles"), "total_number": total})


def show_custom_policy(ctx: Ctx) -> Response:
    role = _custom(ctx)
    refs = ctx.rt.store.count("grant", role["domain_id"], [Cond("jeq", "role_id", role["id"])])
    view = custom_policy_view(ctx, role)
    view["references"] = refs
    return json_response(200, {"role": view})


def update_custom_policy(ctx: Ctx) -> Response:
    body = ctx.wrapped("role", CustomPolicyBody)
    _validate_custom(body)
    with ctx.rt.store.write() as tx:
        role = dict(_custom(ctx))
        if body.type != role["type"]:  # its grants must stay grants its new type allows
            for grant in tx.select("grant", role["domain_id"], [Cond("jeq", "role_id", role["id"])]):
                kind = grant.doc["target"]
                if body.type not in _GRANT_TYPES[kind]:
                    raise Conflict(f"The policy {role['display_name']} is granted on {_WHERE[kind]}, where a "
                                   f"{body.type} policy cannot be; revoke that grant before changing its type.")
        role.update({"display_name": body.display_name, "type": body.type, "description": body.description,
                     "description_cn": body.description_cn, "policy": body.policy, "updated": ctx.now})
        Directory.put_role(tx, role, new=False)
        acct.changed(ctx, tx)
    return json_response(200, {"role": custom_policy_view(ctx, role)})


def delete_custom_policy(ctx: Ctx) -> Response:
    with ctx.rt.store.write() as tx:
        role = _custom(ctx)
        if tx.count("grant", role["domain_id"], [Cond("jeq", "role_id", role["id"])]):
            raise Conflict(f"The policy {role['display_name']} is granted to user groups; revoke it before "
                           "deleting it.")
        tx.delete("role", role["id"])
        acct.changed(ctx, tx)
    return json_response(200, {"message": "Delete success"})


def list_roles(ctx: Ctx) -> Response:
    """GET /v3/roles: system roles and policies, or with domain_id the account's custom policies."""
    caller = acct.caller(ctx)
    domain_id = ctx.q("domain_id")
    if domain_id:
        if domain_id != caller.domain_id:
            raise DomainError("You are not authorized to perform the requested action.", reason="forbidden")
        roles = [r.doc for r in ctx.rt.store.select("role", caller.domain_id, newest_first=False)]
    else:
        roles = [r.as_role() for r in system.SYSTEM_ROLES]
        kind = ctx.q("permission_type")
        if kind == "policy":
            roles = [r for r in roles if r.get("flag") == "fine_grained"]
        elif kind == "role":
            roles = [r for r in roles if not r.get("flag")]
    filters = {"name": ctx.q("name"), "catalog": ctx.q("catalog")}
    for key, value in filters.items():
        if value is not None:
            roles = [r for r in roles if r.get(key) == value]
    if ctx.q("display_name") is not None:
        roles = [r for r in roles if (ctx.q("display_name") or "") in r.get("display_name", "")]
    scope_type = ctx.q("type")
    if scope_type is not None:
        wanted = {"domain": ("AA", "AX"), "project": ("AA", "XA"), "all": ("AA", "AX", "XA")}.get(scope_type)
        if wanted is None:
            raise InvalidInput("type must be domain, project or all.")
        roles = [r for r in roles if r["type"] in wanted]
    total = len(roles)
    page, per_page = ctx.q_int("page", None, low=1), ctx.q_int("per_page", None, low=1, high=300)
    if page and per_page:
        roles = roles[(page - 1) * per_page: page * per_page]
    return json_response(200, {"roles": [role_view(ctx, r) for r in roles], "links": acct.links(ctx, "/v3/roles"),
                               "total_number": total})


def show_role(ctx: Ctx) -> Response:
    return json_response(200, {"role": role_view(ctx, acct.role(ctx, ctx.params["role_id"]))})


# -- grants -------------------------------------------------------------------------------------------------------
# A grant on all projects covers the global services too (iam_02_0519: "including the global service project and
# all IAM projects"), so every type of policy may be granted there.
_GRANT_TYPES = {"project": ("XA", "AA"), "domain": ("AX", "AA"), "all_projects": ("XA", "AX", "AA"),
                "enterprise_project": ("XA", "AA")}
_WHERE = {"project": "a project", "domain": "the account (global services)", "enterprise_project":
          "an enterprise project"}


def _grant_target(ctx: Ctx, target: str) -> tuple[str, str]:
    """(target kind, target id) of a grant path, checked to be in the caller's account. Enterprise projects
    belong to the EPS service, which ecsim does not emulate: any id names one ("0" is the default)."""
    caller = acct.caller(ctx)
    if target == "project":
        project = ctx.rt.directory.project(ctx.params["project_id"])
        if project is None or project["domain_id"] != caller.domain_id:
            raise NotFound("project", ctx.params["project_id"], f"Could not find project: {ctx.params['project_id']}.")
        return "project", project["id"]
    if target == "enterprise_project":
        return target, ctx.params["enterprise_project_id"]
    if ctx.params["domain_id"] != caller.domain_id:
        raise NotFound("domain", ctx.params["domain_id"], f"Could not find domain: {ctx.params['domain_id']}.")
    return ("domain" if target == "domain" else "all_projects"), caller.domain_id


def _subject(ctx: Ctx) -> tuple[str, dict]:
    """The grant's subject (a group id, or a user's subject for direct enterprise-project grants) and its doc."""
    if "user_id" in ctx.params:
        u = acct.user(ctx, ctx.params["user_id"])
        return user_subject(u["id"]), u
    g = acct.group(ctx, ctx.params["group_id"])
    return g["id"], g


def _grant(ctx: Ctx, target: str) -> Response:
    kind, target_id = _grant_target(ctx, target)
    subject, who = _subject(ctx)
    role = acct.role(ctx, ctx.params["role_id"])
    if role["type"] not in _GRANT_TYPES[kind]:
        raise InvalidInput(f"The permission {role['display_name']} (type {role['type']}) cannot be granted on "
                           f"{_WHERE[kind]}.")
    if kind == "enterprise_project" and not (role.get("domain_id") or role.get("flag") == "fine_grained"):
        raise InvalidInput(f"Only policies (not roles such as {role['display_name']}) can be granted on an "
                           "enterprise project.")
    if who.get("name") == ADMIN_GROUP and subject == who["id"]:
        raise InvalidInput("The admin group's permissions cannot be modified.")
    with ctx.rt.store.write() as tx:
        Directory.put_grant(tx, who["domain_id"], subject, role["id"], kind, target_id, ctx.now)
        acct.changed(ctx, tx)
    return empty(204)


def _grant_id(ctx: Ctx, target: str) -> str:
    kind, target_id = _grant_target(ctx, target)
    subject, _ = _subject(ctx)
    role = acct.role(ctx, ctx.params["role_id"])
    return Directory.grant_id(subject, role["id"], kind, target_id)


def _check(ctx: Ctx, target: str) -> Response:
    return empty(204 if ctx.rt.store.get("grant", _grant_id(ctx, target)) else 404)


def _revoke(ctx: Ctx, target: str) -> Response:
    ident = _grant_id(ctx, target)
    with ctx.rt.store.write() as tx:
        if not tx.delete("grant", ident):
            raise NotFound("role", ctx.params["role_id"], f"Could not find role assignment: {ctx.params['role_id']}.")
        acct.changed(ctx, tx)
    return empty(204)


def _list_grants(ctx: Ctx, target: str) -> Response:
    kind, target_id = _grant_target(ctx, target)
    subject, who = _subject(ctx)
    rows = ctx.rt.store.select("grant", who["domain_id"],
                               [Cond("eq", "ref", subject), Cond("eq", "name", target_key(kind, target_id))],
                               newest_first=False)
    roles = [ctx.rt.directory.role(r.doc["role_id"]) for r in rows]
    views = [role_view(ctx, r) for r in roles if r is not None]
    return json_response(200, {"roles": views, "links": acct.links(ctx, ctx.path)})


def grant_project(ctx: Ctx) -> Response:
    return _grant(ctx, "project")


def check_grant_project(ctx: Ctx) -> Response:
    return _check(ctx, "project")


def revoke_project(ctx: Ctx) -> Response:
    return _revoke(ctx, "project")


def list_grants_project(ctx: Ctx) -> Response:
    return _list_grants(ctx, "project")


def grant_domain(ctx: Ctx) -> Response:
    return _grant(ctx, "domain")


def check_grant_domain(ctx: Ctx) -> Response:
    return _check(ctx, "domain")


def revoke_domain(ctx: Ctx) -> Response:
    return _revoke(ctx, "domain")


def list_grants_domain(ctx: Ctx) -> Response:
    return _list_grants(ctx, "domain")


def grant_inherited(ctx: Ctx) -> Response:
    return _grant(ctx, "inherited")


def check_grant_inherited(ctx: Ctx) -> Response:
    return _check(ctx, "inherited")


def revoke_inherited(ctx: Ctx) -> Response:
    return _revoke(ctx, "inherited")


def list_grants_inherited(ctx: Ctx) -> Response:
    return _list_grants(ctx, "inherited")




_SCOPES = {"project": ("project",), "domain": ("domain", "all_projects"), "enterprise_project": ("enterprise_project",)}


def list_role_assignments(ctx: Ctx) -> Response:
    """GET /v3.0/OS-PERMISSION/role-assignments?domain_id=...: the account's grants, one record each, filtered by
    role, subject (a user's records include its groups' unless include_group=false) and scope (on the account,
    is_inherited picks the all-projects records); page / per_page (1-50) together."""
    caller = acct.caller(ctx)
    if ctx.q("domain_id") != caller.domain_id:
        raise DomainError("You are not authorized to perform the requested action.", reason="forbidden")
    user_id, group_id = ctx.q("subject.user_id"), ctx.q("subject.group_id")
    subjects: set[str] | None = None
    if user_id is not None:
        user = acct.user(ctx, user_id)
        subjects = {user_subject(user["id"])}
        if ctx.q_bool("include_group") is not False:
            subjects.update(ctx.rt.directory.groups_of(user))
    elif group_id is not None:
        subjects = {acct.group(ctx, group_id)["id"]}
    elif ctx.q("subject.agency_id") is not None or ctx.q("subject") == "agency":
        subjects = set()  # ecsim has no agencies
    kinds: tuple[str, ...] | None = None
    target_id = ctx.q("scope.project_id") or ctx.q("scope.enterprise_projects_id") or ctx.q("scope.domain_id")
    scope = ("project" if ctx.q("scope.project_id") else "enterprise_project" if ctx.q("scope.enterprise_projects_id")
             else "domain" if ctx.q("scope.domain_id") else ctx.q("scope"))
    if scope is not None:
        if scope not in _SCOPES:
            raise InvalidInput("scope must be one of project, domain, enterprise_project.")
        kinds = _SCOPES[scope]
        if scope == "domain":
            kinds = ("all_projects",) if ctx.q_bool("is_inherited") else ("domain",)
    page, per_page = ctx.q_int("page", None, low=1), ctx.q_int("per_page", None, low=1, high=50)
    if (page is None) != (per_page is None):
        raise InvalidInput("page and per_page must be given together.")
    records = []
    for row in ctx.rt.store.select("grant", caller.domain_id, newest_first=False):
        g = row.doc
        who = g["group_id"]
        if ctx.q("role_id") not in (None, g["role_id"]) or (kinds is not None and g["target"] not in kinds):
            continue
        if target_id is not None and g["target_id"] != target_id:
            continue
        is_user = who.startswith(user_subject(""))
        if (subjects is not None and who not in subjects) or ctx.q("subject") == ("group" if is_user else "user"):
            continue
        record: dict = {"role": {"id": g["role_id"]}, "is_inherited": g["target"] == "all_projects"}
        record["user" if is_user else "group"] = {"id": who.removeprefix(user_subject(""))}
        place = {"all_projects": "domain"}.get(g["target"], g["target"])
        record["scope"] = {place: {"id": g["target_id"]}}
        records.append(record)
    shown = records if page is None or per_page is None else records[(page - 1) * per_page:page * per_page]
    return json_response(200, {"role_assignments": shown, "total_num": len(records)})


def grant_enterprise_project_group(ctx: Ctx) -> Response:
    """PUT /v3.0/OS-PERMISSION/enterprise-projects/{ep}/groups/{group}|users/{user}/roles/{role}."""
    return _grant(ctx, "enterprise_project")


def revoke_enterprise_project_group(ctx: Ctx) -> Response:
    return _revoke(ctx, "enterprise_project")


def list_grants_enterprise_project_group(ctx: Ctx) -> Response:
    return _list_grants(ctx, "enterprise_project")


# Users are granted on enterprise projects directly, through the same paths with users/{user_id}.
grant_enterprise_project_user = grant_enterprise_project_group
revoke_enterprise_project_user = revoke_enterprise_project_group
list_grants_enterprise_project_user = list_grants_enterprise_project_group
