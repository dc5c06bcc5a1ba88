"""Nova's network proxy reads (up to microversion 2.35, as in Nova; 404 beyond), which the `openstack` CLI uses
when the catalog has no network service: `os-security-groups` (the project's VPC security groups; ecsim keeps no
rules, so `rules` is empty; `--security-group NAME` resolves there), `os-networks` (the project's subnets, which are
Huawei's native networks and what Nova's `networks[].uuid` names; `--nic net-id=` and `--network` resolve there)
and `os-tenant-networks` (the same subnets as `id`, `label` and `cidr`). Also a server's groups
(`/servers/{id}/os-security-groups`). Creating and changing groups or networks belongs to the VPC API, which
ecsim does not serve."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from ecsim.api.nova import version
from ecsim.domain.errors import NotFound
from ecsim.http.context import Ctx, Response, json_response
from ecsim.services.server_rows import get_server
from ecsim.store import Row

PROXY_MAX = (2, 35)  # Nova answers 404 for its network proxy APIs from 2.36
# network_dict's fields (nova/api/openstack/compute/networks.py); a Neutron network has no addresses of its own,
# ecsim's (a subnet) has them.
_NETWORK_FIELDS = ("id", "cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6", "gateway_v6", "label",
                   "netmask_v6")


def _group_view(row: Row) -> dict:
    doc = row.doc
    return {"id": row.id, "name": doc["name"], "description": doc.get("description") or "",
            "tenant_id": row.scope, "rules": []}


def _network_view(row: Row) -> dict:
    doc = row.doc
    net = ipaddress.ip_network(doc["cidr"])
    out = dict.fromkeys(_NETWORK_FIELDS)
    out.update(id=row.id, label=doc["name"], cidr=doc["cidr"], netmask=str(net.netmask),
               gateway=doc.get("gateway_ip"), broadcast=str(net.broadcast_address))
    return out


def _list(ctx: Ctx, kind: str, key: str, view: Callable[[Row], dict]) -> Response:
    if version(ctx) > PROXY_MAX:
        raise NotFound("api", ctx.path, "The resource could not be found.")
    return json_response(200, {key: [view(r) for r in ctx.rt.store.select(kind, ctx.project, newest_first=False)]})


def _show(ctx: Ctx, kind: str, param: str, key: str, view: Callable[[Row], dict], missing: str) -> Response:
    if version(ctx) > PROXY_MAX:
        raise NotFound("api", ctx.path, "The resource could not be found.")
    ident = ctx.params[param]
    row = ctx.rt.store.get(kind, ident)
    if row is None or row.scope != ctx.project:
        raise NotFound(key, ident, missing.format(ident))
    return json_response(200, {key: view(row)})


def list_security_groups(ctx: Ctx) -> Response:
    return _list(ctx, "secgroup", "security_groups", _group_view)


def show_security_group(ctx: Ctx) -> Response:
    return _show(ctx, "secgroup", "security_group_id", "security_group", _group_view, "Security group {} not found.")


def list_networks(ctx: Ctx) -> Response:
    return _list(ctx, "subnet", "networks", _network_view)


def show_network(ctx: Ctx) -> Response:
    return _show(ctx, "subnet", "network_id", "network", _network_view, "Network {} could not be found.")


def _tenant_network_view(row: Row) -> dict:
    return {"id": row.id, "label": row.doc["name"], "cidr": row.doc["cidr"]}


def list_tenant_networks(ctx: Ctx) -> Response:
    return _list(ctx, "subnet", "networks", _tenant_network_view)


def show_tenant_network(ctx: Ctx) -> Response:
    return _show(ctx, "subnet", "network_id", "network", _tenant_network_view, "Network {} could not be found.")


def list_server_security_groups(ctx: Ctx) -> Response:
    doc = get_server(ctx.rt, ctx.project, ctx.params["server_id"], ctx.now)
    rows = ctx.rt.store.get_many("secgroup", [g["id"] for g in doc.get("security_groups", [])])
    return json_response(200, {"security_groups": [_group_view(rows[g["id"]]) for g in doc.get("security_groups", [])
                                                   if g["id"] in rows]})
