"""Nova's security-group reads: the `os-security-groups` proxy (up to microversion 2.35, as in Nova; the
`openstack` CLI looks groups up there when the catalog has no network service) and a server's groups
(`/servers/{id}/os-security-groups`). The groups are the project's VPC security groups; ecsim keeps no rules, so
`rules` is empty. Creating and changing groups belongs to the VPC API, which ecsim does not serve."""

from __future__ import annotations

from ecsim.api.nova import version
from ecsim.domain.errors import NotFound
from ecsim.http.context import Ctx, Response, json_response
from ecsim.services.server_rows import get_server
from ecsim.store import Row

PROXY_MAX = (2, 35)  # Nova answers 404 for its network proxy APIs from 2.36


def _view(row: Row) -> dict:
    doc = row.doc
    return {"id": row.id, "name": doc["name"], "description": doc.get("description") or "",
            "tenant_id": row.scope, "rules": []}


def check_proxy_version(ctx: Ctx) -> None:
    if version(ctx) > PROXY_MAX:
        raise NotFound("api", ctx.path, "The resource could not be found.")


def list_security_groups(ctx: Ctx) -> Response:
    check_proxy_version(ctx)
    rows = ctx.rt.store.select("secgroup", ctx.project, newest_first=False)
    return json_response(200, {"security_groups": [_view(r) for r in rows]})


def show_security_group(ctx: Ctx) -> Response:
    check_proxy_version(ctx)
    sg_id = ctx.params["security_group_id"]
    row = ctx.rt.store.get("secgroup", sg_id)
    if row is None or row.scope != ctx.project:
        raise NotFound("security_group", sg_id, f"Security group {sg_id} not found.")
    return json_response(200, {"security_group": _view(row)})


def list_server_security_groups(ctx: Ctx) -> Response:
    doc = get_server(ctx.rt, ctx.project, ctx.params["server_id"], ctx.now)
    rows = ctx.rt.store.get_many("secgroup", [g["id"] for g in doc.get("security_groups", [])])
    return json_response(200, {"security_groups": [_view(rows[g["id"]]) for g in doc.get("security_groups", [])
                                                   if g["id"] in rows]})
