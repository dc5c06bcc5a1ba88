"""Nova v2 / v2.1 os-server-groups: create (200), list (limit / offset, `all_projects` for admins), show, delete
(204). The same groups the Huawei ECS v1 API serves (api/ecs_groups.py); the request body and the fields of a group
follow the microversion exactly as Nova's schemas and view do (policies + metadata up to 2.63, project_id / user_id
from 2.13, policy + rules from 2.64).

A group of another project is 404 here (Nova answers 403 from its policy check on show / delete): ecsim scopes
every lookup to the caller's project."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET, UnsetType

from ecsim.api.nova import Strict, check_name, check_query, offset_limit, version
from ecsim.domain.errors import DomainError, InvalidInput, NotFound, QuotaExceeded
from ecsim.http.context import Ctx, Response, empty, json_response
from ecsim.services import groups

V215_POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")
V21_POLICIES = V215_POLICIES[:2]
_LIST_PARAMS = {"all_projects", "limit", "offset"}



# -- request bodies -------------------------------------------------------------------------------------------------
class GroupV21(Strict):
    name: Any
    policies: Any


class CreateV21(Strict):
    server_group: GroupV21


class Rules(Strict):
    max_server_per_host: Any = None


class GroupV264(Strict):
    name: Any
    policy: Any
    rules: Rules | UnsetType = UNSET  # an object when given (null is 400, as Nova's schema says)


class CreateV264(Strict):
    server_group: GroupV264


# -- helpers --------------------------------------------------------------------------------------------------------

def _invalid(field: str, value: Any, why: str) -> InvalidInput:
    return InvalidInput(f"Invalid input for field/attribute {field}. Value: {value}. {why}")


def _check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise _invalid("name", name, f"{name!r} is not of type 'string'")
    check_name(name)
    return name


def _check_policy(value: Any, allowed: tuple[str, ...], field: str = "policy") -> str:
    if not isinstance(value, str) or value not in allowed:
        raise _invalid(field, value, f"{value!r} is not one of {list(allowed)}")
    return value


def _max_per_host(value: Any) -> int | None:
    """Nova's parameter_types.positive_integer: an integer (or a string of digits) >= 1."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or (isinstance(value, str) and
                                                                         not value.isdigit()):
        raise _invalid("max_server_per_host", value, f"{value!r} is not of type 'integer', 'string'")
    n = int(value)
    if n < 1:
        raise _invalid("max_server_per_host", value, f"{value} is less than the minimum of 1")
    return n


def _view(ctx: Ctx, doc: dict) -> dict:
    """The group as Nova shows it at the agreed microversion (Tempest's schemas forbid any other field)."""
    v = version(ctx)
    out: dict = {"id": doc["id"], "name": doc["name"]}
    policies = list(doc.get("policies") or [])
    if v >= (2, 64):
        out["policy"] = policies[0] if policies else None
        out["rules"] = dict(doc.get("rules") or {})
    else:
        out["policies"] = policies
    out["members"] = groups.members(ctx.rt.store, doc["project_id"], doc["id"])
    if v < (2, 64):
        out["metadata"] = {}  # exposed by Nova but never used: always empty
    if v >= (2, 13):
        out["project_id"] = doc["project_id"]
        out["user_id"] = doc["user_id"]
    return out


def _load(ctx: Ctx) -> dict:
    gid = ctx.params["server_group_id"]
    try:
        return groups.load_group(ctx.rt.store, ctx.project, gid)
    except NotFound as exc:
        raise NotFound("server_group", gid, f"Instance group {gid} could not be found.") from exc


# -- handlers -------------------------------------------------------------------------------------------------------
def create_group(ctx: Ctx) -> Response:
    """POST /os-server-groups -> 200 {"server_group": {...}}; the body's shape depends on the microversion."""
    v = version(ctx)
    rules: dict = {}
    if v >= (2, 64):
        spec264 = ctx.body_as(CreateV264).server_group
        name = _check_name(spec264.name)
        policy = _check_policy(spec264.policy, V215_POLICIES)
        per_host = None if spec264.rules is UNSET else _max_per_host(spec264.rules.max_server_per_host)
        if per_host is not None:
            rules["max_server_per_host"] = per_host
        if rules and policy != "anti-affinity":
            raise InvalidInput("Only anti-affinity policy supports rules.")
    else:
        spec = ctx.body_as(CreateV21).server_group
        name = _check_name(spec.name)
        allowed = V215_POLICIES if v >= (2, 15) else V21_POLICIES
        policies = spec.policies
        if not isinstance(policies, list):
            raise _invalid("policies", policies, f"{policies!r} is not of type 'array'")
        if len(policies) != 1:
            why = "[] is too short" if not policies else f"{policies!r} is too long"
            raise _invalid("policies", policies, why)
        policy = _check_policy(policies[0], allowed, "policies")
    assert ctx.principal is not None
    try:
        doc = groups.create_group(ctx.rt, ctx.project, ctx.principal.user_id, name, policy, now=ctx.now,
                                  rules=rules)
    except QuotaExceeded as exc:
        raise DomainError("Quota exceeded, too many server groups.", reason="quota") from exc
    return json_response(200, {"server_group": _view(ctx, doc)})


def list_groups(ctx: Ctx) -> Response:
    """GET /os-server-groups -> 200 {"server_groups": [...]}, oldest first; `all_projects` (present with any value)
    lists every project's groups for an admin and is ignored for anyone else, as in Nova."""
    check_query(ctx, _LIST_PARAMS)
    offset, limit = offset_limit(ctx)
    every = "all_projects" in ctx.query and ctx.principal is not None and ctx.principal.is_admin
    docs = groups.list_groups(ctx.rt, None if every else ctx.project, limit=offset + limit)
    return json_response(200, {"server_groups": [_view(ctx, d) for d in docs[offset:offset + limit]]})


def show_group(ctx: Ctx) -> Response:
    return json_response(200, {"server_group": _view(ctx, _load(ctx))})


def delete_group(ctx: Ctx) -> Response:
    """DELETE /os-server-groups/{id} -> 204, empty; members keep running."""
    gid = ctx.params["server_group_id"]
    try:
        groups.delete_group(ctx.rt, ctx.project, gid)
    except NotFound as exc:
        raise NotFound("server_group", gid, f"Instance group {gid} could not be found.") from exc
    return empty(204)
