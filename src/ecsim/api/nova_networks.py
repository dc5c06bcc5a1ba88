"""Nova's `os-networks` proxy (up to microversion 2.35, as in Nova): the project's subnets, which are Huawei's
native networks and what Nova's `networks[].uuid` names. The `openstack` CLI resolves `--nic net-id=` / `--network`
here when the catalog has no network service. Creating networks belongs to the VPC API, which ecsim does not
serve."""

from __future__ import annotations

import ipaddress

from ecsim.api.nova_security_groups import check_proxy_version
from ecsim.domain.errors import NotFound
from ecsim.http.context import Ctx, Response, json_response
from ecsim.store import Row

# network_dict's fields (nova/api/openstack/compute/networks.py); a Neutron network has no addresses of its own,
# ecsim's (a subnet) has them.
_FIELDS = ("id", "cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6", "gateway_v6", "label",
           "netmask_v6")


def _view(row: Row) -> dict:
    doc = row.doc
    net = ipaddress.ip_network(doc["cidr"])
    out = dict.fromkeys(_FIELDS)
    out.update(id=row.id, label=doc["name"], cidr=doc["cidr"], netmask=str(net.netmask),
               gateway=doc.get("gateway_ip"), broadcast=str(net.broadcast_address))
    return out


def list_networks(ctx: Ctx) -> Response:
    check_proxy_version(ctx)
    rows = ctx.rt.store.select("subnet", ctx.project, newest_first=False)
    return json_response(200, {"networks": [_view(r) for r in rows]})


def show_network(ctx: Ctx) -> Response:
    check_proxy_version(ctx)
    net_id = ctx.params["network_id"]
    row = ctx.rt.store.get("subnet", net_id)
    if row is None or row.scope != ctx.project:
        raise NotFound("network", net_id, f"Network {net_id} could not be found.")
    return json_response(200, {"network": _view(row)})
