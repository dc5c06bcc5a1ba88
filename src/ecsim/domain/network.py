"""VPCs and subnets: just enough of the VPC service for servers to get ports and private addresses."""

from __future__ import annotations

import ipaddress
import os

from ecsim.domain.errors import DomainError, NotFound
from ecsim.ids import new_uuid
from ecsim.store import Put, SqlStore


def new_vpc(project_id: str, name: str, cidr: str, now: float) -> dict:
    return {"id": new_uuid(), "project_id": project_id, "name": name, "cidr": cidr, "status": "OK", "created": now}


def new_subnet(project_id: str, vpc_id: str, name: str, cidr: str, az: str, now: float) -> dict:
    net = ipaddress.ip_network(cidr)
    return {
        "id": new_uuid(), "project_id": project_id, "vpc_id": vpc_id, "name": name, "cidr": cidr,
        "gateway_ip": str(net.network_address + 1), "availability_zone": az, "status": "ACTIVE", "created": now,
        # The next host offset to hand out; released addresses are reused once the range is exhausted.
        "next_offset": 2, "released": [],
    }


def put_network(tx: SqlStore, kind: str, doc: dict, *, new: bool) -> None:
    p = Put(kind, doc["id"], doc["project_id"], doc, name=doc["name"], ref=doc.get("vpc_id"), created=doc["created"])
    tx.insert(p) if new else tx.update(p)


def get_subnet(tx: SqlStore, project_id: str, subnet_id: str) -> tuple[dict, int]:
    row = tx.get("subnet", subnet_id, for_update=True)
    if row is None or row.scope != project_id:
        raise NotFound("subnet", subnet_id, f"The subnet {subnet_id} does not exist.", reason="subnet_not_found")
    return row.doc, row.version


def check_ip(subnet: dict, requested: str) -> None:
    """DomainError unless `requested` is a free host address of the subnet. Addresses below `next_offset` were handed
    out unless released since; one asked for above it stays in `fixed` until the counter passes it."""
    net = ipaddress.ip_network(subnet["cidr"])
    try:
        addr = ipaddress.ip_address(requested)
    except ValueError as exc:
        raise DomainError(f"ip_address {requested!r} is not an IP address", reason="invalid") from exc
    if addr not in net or addr in (net.network_address, net.broadcast_address, net.network_address + 1):
        raise DomainError(f"ip_address {requested} is not a usable address of subnet {subnet['cidr']}",
                          reason="invalid")
    offset = int(addr) - int(net.network_address)
    if requested not in subnet["released"] and (offset < subnet["next_offset"] or requested in subnet.get("fixed", ())):
        raise DomainError(f"The private IP address {requested} is already in use.", reason="ip_in_use")


def allocate_ip(subnet: dict, requested: str | None = None) -> str:
    """Hand out a host address of the subnet (mutates the subnet doc): `requested` if it is free, else the first
    released one, else the next never handed out (skipping those asked for by address)."""
    released = subnet["released"]
    if requested:
        check_ip(subnet, requested)
        if requested in released:
            released.remove(requested)
        else:
            subnet.setdefault("fixed", []).append(requested)
        return requested
    if released:
        return released.pop(0)
    net = ipaddress.ip_network(subnet["cidr"])
    fixed = subnet.get("fixed") or []
    offset = subnet["next_offset"]
    while True:
        if offset >= net.num_addresses - 1:
            raise DomainError("The subnet has no available IP addresses.", reason="subnet_full")
        ip = str(net.network_address + offset)
        offset += 1
        if ip not in fixed:
            break
        fixed.remove(ip)  # in use, and from now on below the counter
    subnet["next_offset"] = offset
    return ip


def release_ip(subnet: dict, ip: str) -> None:
    if ip not in subnet["released"]:
        subnet["released"].append(ip)


def new_mac() -> str:
    return "fa:16:3e:" + ":".join(f"{b:02x}" for b in os.urandom(3))
