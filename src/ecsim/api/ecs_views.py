"""How Huawei ECS renders servers and flavors: v1 ServerDetail (strings where Huawei sends strings), the v1.1
CloudServer (real ints and bools) and the flavor list entry. Views read the stored doc, never change it."""

from __future__ import annotations

from ecsim.domain import servers
from ecsim.domain.catalogs import Flavor
from ecsim.runtime import Runtime
from ecsim.timefmt import iso_micros, iso_seconds_z


def _flavor_block(rt: Runtime, flavor_id: str, *, as_strings: bool) -> dict:
    f = rt.flavors.get(flavor_id)
    vcpus, ram, disk = (f.vcpus, f.ram, f.disk) if f else (0, 0, 0)
    if as_strings:
        return {"id": flavor_id, "name": flavor_id, "disk": str(disk), "vcpus": str(vcpus), "ram": str(ram),
                "gpus": [], "asic_accelerators": []}
    return {"id": flavor_id, "name": flavor_id, "disk": disk, "vcpus": vcpus, "ram": ram, "gpus": [],
            "asic_accelerators": []}


def _addresses(doc: dict, *, version_as_int: bool) -> dict:
    if doc.get("vm_state") == "building" and doc.get("task_state") == "scheduling":
        return {}
    out: dict[str, list] = {}
    for nic in doc.get("nics", []):
        out.setdefault(nic["vpc_id"], []).append({
            "version": 4 if version_as_int else "4", "addr": nic["ip"], "primary": nic["primary"],
            "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": nic["mac"], "OS-EXT-IPS:port_id": nic["port_id"],
        })
    return out


def _hints(doc: dict) -> dict:
    return {k: (v if isinstance(v, list) else [v]) for k, v in (doc.get("scheduler_hints") or {}).items()}


def _fault(doc: dict) -> dict | None:
    return doc.get("fault") if servers.status(doc) in ("ERROR", "DELETED") else None


def server_detail(rt: Runtime, doc: dict) -> dict:
    """GET /v1/{project_id}/cloudservers/{server_id} and the v1 detail list."""
    launched = doc.get("launched_at")
    terminated = doc.get("terminated_at")
    return {
        "id": doc["id"],
        "name": doc["name"],
        "description": doc.get("description", ""),
        "status": servers.status(doc),
        "progress": 0,  # Huawei does not report progress: 0 whatever the state (its examples, ACTIVE included)
        "created": iso_seconds_z(doc["created"]),
        "updated": iso_seconds_z(doc["updated"]),
        "OS-SRV-USG:launched_at": iso_micros(launched) if launched else "",
        "OS-SRV-USG:terminated_at": iso_micros(terminated) if terminated else None,
        "tenant_id": doc["project_id"],
        "user_id": doc["user_id"],
        "hostId": servers.host_id(doc["project_id"], doc.get("host")),
        "host_status": "UP",
        "flavor": _flavor_block(rt, doc["flavor_id"], as_strings=True),
        "image": {"id": doc["image_id"]},
        "key_name": doc.get("key_name"),
        "metadata": doc.get("metadata", {}),
        "addresses": _addresses(doc, version_as_int=False),
        "security_groups": doc.get("security_groups", []),
        "accessIPv4": "",
        "accessIPv6": "",
        "config_drive": doc.get("config_drive", ""),
        "locked": bool(doc.get("locked")),
        "fault": _fault(doc),
        "os-extended-volumes:volumes_attached": [
            {"id": v["id"], "delete_on_termination": "true" if v.get("delete_on_termination") else "false",
             "bootIndex": str(v["boot_index"]), "device": v["device"]}
            for v in doc.get("volumes", [])
        ],
        "OS-EXT-STS:vm_state": doc.get("vm_state"),
        "OS-EXT-STS:task_state": doc.get("task_state"),
        "OS-EXT-STS:power_state": doc.get("power_state", 0),
        "OS-EXT-SRV-ATTR:host": doc.get("host", ""),
        "OS-EXT-SRV-ATTR:instance_name": doc.get("instance_name", ""),
        "OS-EXT-SRV-ATTR:hypervisor_hostname": doc.get("hypervisor_hostname", ""),
        "OS-EXT-SRV-ATTR:hostname": doc.get("hostname") or doc["name"],
        "OS-EXT-SRV-ATTR:reservation_id": doc.get("reservation_id", ""),
        "OS-EXT-SRV-ATTR:launch_index": doc.get("launch_index", 0),
        "OS-EXT-SRV-ATTR:kernel_id": "",
        "OS-EXT-SRV-ATTR:ramdisk_id": "",
        "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
        "OS-EXT-SRV-ATTR:user_data": doc.get("user_data"),
        "OS-DCF:diskConfig": doc.get("disk_config", "MANUAL"),
        "OS-EXT-AZ:availability_zone": doc["availability_zone"],
        "os:scheduler_hints": _hints(doc),
        "tags": doc.get("tags", []),
        "sys_tags": [{"key": "_sys_enterprise_project_id", "value": doc.get("enterprise_project_id", "0")}],
        "enterprise_project_id": doc.get("enterprise_project_id", "0"),
        "auto_terminate_time": "",
        "cpu_options": {"hw:cpu_threads": None},
        "enclave_options": {"enabled": False},
        "hypervisor": None,
        "spod_id": None,
        "network_interfaces": [
            {"port_id": n["port_id"], "primary": n["primary"], "ip_addresses": [n["ip"]], "ipv6_addresses": [],
             "subnet_id": n["subnet_id"], "association": None}
            for n in doc.get("nics", [])
        ],
    }


def _links(rt: Runtime, project_id: str, kind: str, ident: str) -> list[dict]:
    base = rt.config.base_url()
    return [{"rel": "self", "href": f"{base}/v2.1/{project_id}/{kind}/{ident}"},
            {"rel": "bookmark", "href": f"{base}/{project_id}/{kind}/{ident}"}]


def updated_server(rt: Runtime, doc: dict) -> dict:
    """PUT /v1/{project_id}/cloudservers/{server_id}: a Nova-like server of its own schema (UpdateServerResult),
    where `image` is the image's id and flavor and server carry links."""
    pid = doc["project_id"]
    return {
        "id": doc["id"], "name": doc["name"], "description": doc.get("description", ""),
        "status": servers.status(doc), "progress": 0, "tenant_id": pid,
        "user_id": doc["user_id"], "image": doc["image_id"] or "", "created": iso_seconds_z(doc["created"]),
        "updated": iso_seconds_z(doc["updated"]), "hostId": servers.host_id(pid, doc.get("host")),
        "flavor": {"id": doc["flavor_id"], "links": _links(rt, pid, "flavors", doc["flavor_id"])},
        "addresses": {vpc: [{"version": a["version"], "addr": a["addr"]} for a in nics]
                      for vpc, nics in _addresses(doc, version_as_int=True).items()},
        "metadata": doc.get("metadata", {}), "accessIPv4": "", "accessIPv6": "",
        "OS-DCF:diskConfig": doc.get("disk_config", "MANUAL"), "locked": bool(doc.get("locked")),
        "tags": doc.get("tags", []), "links": _links(rt, pid, "servers", doc["id"]),
        "OS-EXT-SRV-ATTR:user_data": doc.get("user_data"),
        "OS-EXT-SRV-ATTR:hostname": doc.get("hostname") or doc["name"],
    }


# v1.1 list: the default field set, and what `expect-fields` may add.
EXPECT_FIELDS = (
    "launched_at", "key_name", "locked", "root_device_name", "tenancy", "dedicated_host_id",
    "enterprise_project_id", "tags", "metadata", "addresses", "security_groups", "volumes_attached", "image",
    "power_state", "cpu_options", "market_info",
)


def cloud_server(rt: Runtime, doc: dict, expect: set[str], volume_sizes: dict[str, int]) -> dict:
    """GET /v1.1/{project_id}/cloudservers/detail item (CloudServer)."""
    out = {
        "id": doc["id"],
        "name": doc["name"],
        "status": servers.status(doc),
        "tenant_id": doc["project_id"],
        "user_id": doc["user_id"],
        "availability_zone": doc["availability_zone"],
        "vm_state": doc.get("vm_state"),
        "task_state": doc.get("task_state"),
        "created": iso_seconds_z(doc["created"]),
        "updated": iso_seconds_z(doc["updated"]),
        "flavor": _flavor_block(rt, doc["flavor_id"], as_strings=False),
        "in_recycle_bin": False,
        "spod_id": None,
    }
    if doc.get("description"):
        out["description"] = doc["description"]
    fault = _fault(doc)
    if fault:
        out["fault"] = fault
    launched = doc.get("launched_at")
    extra = {
        "launched_at": iso_micros(launched) if launched else "",
        "key_name": doc.get("key_name"),
        "locked": bool(doc.get("locked")),
        "root_device_name": "/dev/vda",
        "tenancy": "shared",
        "dedicated_host_id": None,
        "enterprise_project_id": doc.get("enterprise_project_id", "0"),
        "tags": doc.get("tags", []),
        "metadata": doc.get("metadata", {}),
        "addresses": _addresses(doc, version_as_int=True),
        "security_groups": doc.get("security_groups", []),
        "volumes_attached": [
            {"id": v["id"], "delete_on_termination": bool(v.get("delete_on_termination")), "device": v["device"],
             "bootIndex": str(v["boot_index"]), "size": volume_sizes.get(v["id"], 0)}
            for v in doc.get("volumes", [])
        ],
        "image": {"id": doc["image_id"]},
        "power_state": doc.get("power_state", 0),
        "cpu_options": {"hw:cpu_threads": None},  # as the show: not set for shared flavors
        "market_info": {"charge_mode": "postpaid", "prepaid_info": None},
    }
    for name in expect:
        if name in extra:
            out[name] = extra[name]
    return out


def flavor_specs(f: Flavor, azs: list[str]) -> dict[str, str]:
    """A flavor's extra specs, as ECS's `os_extra_specs` and Nova's `extra_specs` show them."""
    az_spec = ",".join(f"{az}({f.az_status.get(az, f.status)})" for az in azs)
    specs = {
        "ecs:performancetype": f.performancetype,
        "ecs:generation": f.generation,
        "ecs:virtualization_env_types": "CloudCompute",
        "resource_type": f.resource_type,
        "cond:operation:status": f.status,
        "cond:operation:az": az_spec,
        "quota:max_rate": str(f.max_rate),
        "quota:min_rate": str(f.min_rate),
        "quota:max_pps": str(f.max_pps),
        "quota:vif_max_num": str(f.vif_max_num),
        "hw:numa_nodes": "1",
    }
    if f.cpu_name:
        specs["info:cpu:name"] = f.cpu_name
    return specs


def flavor_entry(base_url: str, project_id: str, f: Flavor, azs: list[str]) -> dict:
    """GET /v1/{project_id}/cloudservers/flavors item: vcpus a string, ram an int (as Huawei sends them)."""
    return {
        "id": f.id,
        "name": f.id,
        "vcpus": str(f.vcpus),
        "ram": f.ram,
        "disk": str(f.disk),
        "swap": "",
        "OS-FLV-EXT-DATA:ephemeral": 0,
        "OS-FLV-DISABLED:disabled": False,
        "rxtx_factor": 1.0,
        "rxtx_quota": None,
        "rxtx_cap": None,
        "os-flavor-access:is_public": True,
        "links": [
            {"href": f"{base_url}/v1.0/{project_id}/flavors/{f.id}", "rel": "self", "type": None},
            {"href": f"{base_url}/{project_id}/flavors/{f.id}", "rel": "bookmark", "type": None},
        ],
        "os_extra_specs": flavor_specs(f, azs),
        "attachableQuantity": {"free_scsi": 60, "free_blk": 24, "free_disk": 60, "free_nic": 12},
    }
