"""ecsim's IAM insight endpoints under /_ecsim/iam: the policy simulator and the least-privilege generator.

Local control-plane endpoints like the rest of /_ecsim: they read the identity directory and the decision log of
this server and change nothing.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from msgspec import Struct, field

from ecsim.catalog import all_operations, reserved_names
from ecsim.domain.errors import InvalidInput, NotFound
from ecsim.http.context import Ctx, Response, json_response
from ecsim.http.router import MethodNotAllowed, Router
from ecsim.iam.analysis import (
    compile_documents,
    path_ids,
    path_params,
    resolve_operation,
    simulate_one,
    suggest,
    urns_for,
)
from ecsim.iam.conditions import global_condition_keys
from ecsim.iam.evaluate import PolicySet
from ecsim.iam.policy import PolicyError
from ecsim.iam.resources import NAMED_TYPES, RESOURCE_TYPES, resource_condition_keys, shared_ep

MAX_OPERATIONS = 500
_ROUTER: list[Router] = []


def _match(method: str, path: str) -> Any:
    """Concrete paths (`POST /v1/<project>/cloudservers/action`) resolve as the server routes them."""
    if not _ROUTER:
        _ROUTER.append(Router(all_operations(), reserved_names()))
    try:
        return _ROUTER[0].match(method, path)
    except MethodNotAllowed as exc:
        raise PolicyError(f"{method} {path}: the path takes only {', '.join(exc.allowed)}") from None


def _resource_keys(rt: Any, op: Any, project_id: str) -> Any:
    """The condition keys (tags, enterprise project) of the operation's resources that exist in the project."""
    if op.resource_type not in RESOURCE_TYPES or op.resource_type in NAMED_TYPES:
        return None
    kind = RESOURCE_TYPES[op.resource_type][1]

    def keys(urn: str) -> dict:
        row = rt.store.get(kind, urn.rsplit(":", 1)[-1])
        return resource_condition_keys(row.doc) if row is not None and row.scope == project_id else {}

    return keys


def _enterprise_project(rt: Any, op: Any, urns: tuple[str, ...] | None, project_id: str) -> str | None:
    """The enterprise project of the operation's resources, as the server takes it for grants on enterprise
    projects (None: one does not exist in the project, or they are in several)."""
    if not urns or op.resource_type not in RESOURCE_TYPES or op.resource_type in NAMED_TYPES:
        return None
    kind = RESOURCE_TYPES[op.resource_type][1]
    rows = (rt.store.get(kind, u.rsplit(":", 1)[-1]) for u in urns)
    return shared_ep(r.doc if r is not None and r.scope == project_id else None for r in rows)


class SimulateBody(Struct, forbid_unknown_fields=True):
    operations: list[str]
    user: str | None = None  # a user name or id of the bootstrap account
    policies: list[dict] | None = None  # or policy documents (1.1 / 5.0), evaluated as one set
    project_id: str | None = None  # the project the calls would be made in (default: the region project)
    resources: list[str] = field(default_factory=list)  # URNs, or bare ids of the operations' resource type
    context: dict[str, Any] = field(default_factory=dict)  # condition keys to set, e.g. {"g:SourceIp": "10.0.0.1"}


def simulate(ctx: Ctx) -> Response:
    """POST /_ecsim/iam/simulate: for a user or policy documents, would each operation be allowed, and why."""
    body = ctx.body_as(SimulateBody)
    if (body.user is None) == (body.policies is None):
        raise InvalidInput("give exactly one of 'user' (a user name or id) and 'policies' (policy documents)")
    if not body.operations or len(body.operations) > MAX_OPERATIONS:
        raise InvalidInput(f"'operations' must list 1 to {MAX_OPERATIONS} operations")
    rt = ctx.rt
    boot = rt.boot
    directory = rt.directory
    user = None
    if body.user is not None:
        user = directory.user(body.user) or directory.user_by_name(boot.domain_id, body.user)
        if user is None:
            raise NotFound("user", body.user, f"user {body.user!r} does not exist")
    try:
        ops = [resolve_operation(spec, _match) for spec in body.operations]
        documents = compile_documents(body.policies) if body.policies is not None else None
        params = [path_params(spec, _match) for spec in body.operations]
    except PolicyError as exc:
        raise InvalidInput(str(exc)) from None
    # The project: as given, else the one concrete request lines name in their paths, else the region's.
    named = {p["project_id"] for p in params if "project_id" in p}
    if (body.project_id is not None and named - {body.project_id}) or len(named) > 1:
        raise InvalidInput(f"the operations' paths name projects {sorted(named)}; simulate one project at a time "
                           f"(project_id {body.project_id or 'not given'})")
    project_id = body.project_id or (named.pop() if named else boot.project_id)
    project = directory.project(project_id)
    if project is None:
        raise NotFound("project", project_id, f"project {project_id} does not exist")
    domain = directory.domain(user["domain_id"] if user else boot.domain_id) or {}
    principal = SimpleNamespace(
        user_id=user["id"] if user else "simulated-user", user_name=user["name"] if user else "simulated-user",
        domain_id=domain.get("id", boot.domain_id), domain_name=domain.get("name"), project_id=project_id,
        project_name=project["name"], mfa=False)
    context = global_condition_keys(principal, now=ctx.now, source_ip="127.0.0.1", region=rt.config.region)
    context.update({str(k).lower(): v for k, v in body.context.items()})
    results = []
    for spec, op in zip(body.operations, ops, strict=True):
        urns = urns_for(op, body.resources or path_ids(spec, op, _match), rt.config.region, principal.domain_id)
        op_context = context
        if op.request_ep:  # a create: the enterprise project it creates in (the default one unless set)
            op_context = {**context, "g:enterpriseprojectid": context.get("g:enterpriseprojectid") or "0"}
        policyset: PolicySet | None
        if documents is not None:
            policyset = documents
        elif directory.is_admin(user):  # type: ignore[arg-type]
            policyset = None
        else:  # the user's grants, as the server picks them: the project's, and an enterprise project's
            ep = None
            if op.scope == "project" and op.enterprise_project and directory.has_enterprise_grants(user):
                ep = op_context["g:enterpriseprojectid"] if op.request_ep else \
                    _enterprise_project(rt, op, urns, project_id)
            policyset = directory.policyset(user, project_id if op.scope == "project" else None,  # type: ignore[arg-type]
                                            ep)
        keys = _resource_keys(rt, op, project_id)
        result = simulate_one(policyset, op, op_context, urns, keys)
        if (not result["allowed"] and documents is None and user is not None and op.access_level == "list"
                and op.enterprise_project and directory.has_enterprise_grants(user)):
            # as the server decides a list the project refuses: where an enterprise-project grant allows it
            asked = op_context.get("g:enterpriseprojectid")
            for ep in (asked,) if asked else directory.enterprise_projects(user):
                granted = simulate_one(directory.policyset(user, project_id, ep), op, op_context, urns, keys)
                if granted["allowed"]:
                    result = granted
                    break
        results.append(result)
    return json_response(200, {
        "principal": {"user_id": principal.user_id, "user_name": principal.user_name, "project_id": project_id,
                      "policies": "documents" if documents is not None else "granted"},
        "allowed": all(r["allowed"] for r in results), "results": results,
    })


def suggest_policy(ctx: Ctx) -> Response:
    """GET /_ecsim/iam/suggest?user=&since=&until=: the least policy allowing every call recorded for them."""
    user = ctx.q("user")
    since, until = ctx.q_time("since"), ctx.q_time("until")
    if not user and since is None and until is None:
        raise InvalidInput("name a user, a time window (since / until), or both")
    records = ctx.rt.decisions.query(user=user, since=since, until=until, limit=100_000)
    if not records:
        directory, boot = ctx.rt.directory, ctx.rt.boot
        if user and not (directory.user(user) or directory.user_by_name(boot.domain_id, user)):
            raise NotFound("user", user, f"user {user!r} does not exist and made no recorded call")
        raise NotFound("calls", user or "", "no recorded calls match; make the calls first (every authorized call is "
                       "recorded)")
    return json_response(200, {"calls": len(records), **suggest(records).as_dict()})
