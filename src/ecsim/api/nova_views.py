"""How Nova v2 / v2.1 renders servers, flavors and version documents, with every field gated by microversion as
Nova gates it (Tempest validates each version's response against a strict schema). Views read docs, never change
them."""

from __future__ import annotations

from dataclasses import dataclass

from ecsim.api.ecs_views import flavor_specs
from ecsim.domain import servers
from ecsim.domain.catalogs import Flavor
from ecsim.domain.provision import user_metadata
from ecsim.http import microversion
from ecsim.runtime import Runtime
from ecsim.timefmt import iso_micros, iso_seconds_z

Version = tuple[int, int]
PROGRESS_STATUSES = ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING")


@dataclass(frozen=True, slots=True)
class Links:
    """`api` is what self links start with (`http://h/compute/v2.1/<pid>`), `bookmark` the unversioned root
    (`http://h/compute/<pid>`)."""

    api: str
    bookmark: str

    def pair(self, collection: str, ident: str) -> list[dict]:
        return [{"rel": "self", "href": f"{self.api}/{collection}/{ident}"},
                {"rel": "bookmark", "href": f"{self.bookmark}/{collection}/{ident}"}]


# -- version documents ---------------------------------------------------------------------------------------------
def version_entry(root: str, which: str) -> dict:
    """`which` is "v2.1" (current, microversions) or "v2.0" (the legacy API, none)."""
    v = microversion.NOVA
    current = which == "v2.1"
    return {
        "id": which, "status": "CURRENT" if current else "DEPRECATED",
        "version": v.max_text if current else "", "min_version": v.min_text if current else "",
        "updated": "2013-07-23T11:33:21Z" if current else "2025-07-04T12:00:00Z",
        "links": [{"rel": "self", "href": f"{root}/{'v2.1' if current else 'v2'}/"}],
    }


def version_doc(root: str, which: str) -> dict:
    entry = version_entry(root, which)
    entry["links"].append({"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"})
    entry["media-types"] = [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version="
                             + ("2.1" if which == "v2.1" else "2")}]
    return {"version": entry}


# -- flavors -----------------------------------------------------------------------------------------------------------
def flavor(f: Flavor, links: Links, version: Version, azs: list[str], *, detail: bool) -> dict:
    out: dict = {"id": f.id, "name": f.id, "links": links.pair("flavors", f.id)}
    if version >= (2, 55):
        out["description"] = None
    if not detail:
        return out
    out.update({
        "ram": f.ram, "vcpus": f.vcpus, "disk": f.disk, "swap": 0 if version >= (2, 75) else "",
        "OS-FLV-EXT-DATA:ephemeral": 0, "os-flavor-access:is_public": True, "OS-FLV-DISABLED:disabled": False,
        "rxtx_factor": 1.0,
    })
    if version >= (2, 61):
        out["extra_specs"] = flavor_specs(f, azs)
    return out


# -- servers -----------------------------------------------------------------------------------------------------------
def _addresses(doc: dict, *, extended: bool = True) -> dict:
    """By VPC (Huawei's network); `extended` adds the OS-EXT-IPS type and MAC (not in the reduced PUT / rebuild
    views before 2.75, nor in /ips)."""
    if doc.get("vm_state") == "building" and doc.get("task_state") == "scheduling":
        return {}
    out: dict[str, list] = {}
    for nic in doc.get("nics", []):
        entry = {"version": 4, "addr": nic["ip"]}
        if extended:
            entry.update({"OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": nic["mac"]})
        out.setdefault(nic["vpc_id"], []).append(entry)
    return out


def plain_addresses(doc: dict) -> dict:
    return _addresses(doc, extended=False)


def _flavor_block(rt: Runtime, doc: dict, links: Links, version: Version) -> dict:
    fid = doc["flavor_id"]
    if version < (2, 47):
        return {"id": fid, "links": [{"rel": "bookmark", "href": f"{links.bookmark}/flavors/{fid}"}]}
    f = rt.flavors.get(fid)
    out = {"vcpus": f.vcpus if f else 0, "ram": f.ram if f else 0, "disk": f.disk if f else 0, "ephemeral": 0,
           "swap": 0, "original_name": fid}
    out["extra_specs"] = flavor_specs(f, rt.config.availability_zones) if f else {}
    return out


def server(rt: Runtime, doc: dict, links: Links, version: Version, *, full: bool = True,
           show: bool = False) -> dict:
    """GET /servers/{id} and /servers/detail; `full=False` is the reduced view PUT and rebuild answered before
    2.75 (no extension attributes); `show` adds what only the single-server GET carries (server_groups, 2.71)."""
    status = servers.status(doc)
    out: dict = {
        "id": doc["id"], "name": doc["name"], "status": status, "tenant_id": doc["project_id"],
        "user_id": doc["user_id"], "metadata": user_metadata(doc.get("metadata", {})),
        "hostId": servers.host_id(doc["project_id"], doc.get("host")),
        # a server booted from a volume has no image of its own (Nova answers "")
        "image": "" if doc.get("boot_from_volume") else {"id": doc["image_id"], "links": [
            {"rel": "bookmark", "href": f"{links.bookmark}/images/{doc['image_id']}"}]},
        "flavor": _flavor_block(rt, doc, links, version),
        "created": iso_seconds_z(doc["created"]), "updated": iso_seconds_z(doc["updated"]),
        "addresses": _addresses(doc, extended=full or version >= (2, 75)),
        "accessIPv4": doc.get("access_ipv4") or "",
        "accessIPv6": doc.get("access_ipv6") or "", "links": links.pair("servers", doc["id"]),
        "OS-DCF:diskConfig": doc.get("disk_config", "MANUAL"),
    }
    if status in PROGRESS_STATUSES:
        out["progress"] = 100 if status in ("ACTIVE", "VERIFY_RESIZE") else 0
    if status in ("ERROR", "DELETED") and doc.get("fault"):
        out["fault"] = doc["fault"]
    if version >= (2, 9):
        out["locked"] = bool(doc.get("locked"))
    if version >= (2, 19):
        out["description"] = doc.get("description") or None
    if version >= (2, 26):
        out["tags"] = doc.get("tags", [])
    if version >= (2, 63):
        out["trusted_image_certificates"] = None
    if version >= (2, 73):
        out["locked_reason"] = doc.get("locked_reason")
    if show and version >= (2, 71):
        out["server_groups"] = servers.group_ids(doc)[:1]
    if not full and version < (2, 75):
        return out
    launched, terminated = doc.get("launched_at"), doc.get("terminated_at")
    if doc.get("security_groups"):  # Nova leaves the key out when the server has none
        out["security_groups"] = [{"name": g["name"]} for g in doc["security_groups"]]
    out.update({
        "OS-EXT-AZ:availability_zone": doc["availability_zone"], "config_drive": doc.get("config_drive", ""),
        "key_name": doc.get("key_name"),
        "OS-SRV-USG:launched_at": iso_micros(launched) if launched else None,
        "OS-SRV-USG:terminated_at": iso_micros(terminated) if terminated else None,
        "OS-EXT-STS:vm_state": doc.get("vm_state"), "OS-EXT-STS:task_state": doc.get("task_state"),
        "OS-EXT-STS:power_state": doc.get("power_state", 0),
        "os-extended-volumes:volumes_attached": [
            {"id": v["id"], "delete_on_termination": bool(v.get("delete_on_termination"))} if version >= (2, 3)
            else {"id": v["id"]} for v in doc.get("volumes", [])],
        "OS-EXT-SRV-ATTR:host": doc.get("host"), "OS-EXT-SRV-ATTR:instance_name": doc.get("instance_name", ""),
        "OS-EXT-SRV-ATTR:hypervisor_hostname": doc.get("hypervisor_hostname"),
    })
    if version >= (2, 3):
        out.update({
            "OS-EXT-SRV-ATTR:reservation_id": doc.get("reservation_id", ""),
            "OS-EXT-SRV-ATTR:launch_index": doc.get("launch_index", 0),
            "OS-EXT-SRV-ATTR:hostname": doc.get("hostname") or doc["name"],
            "OS-EXT-SRV-ATTR:kernel_id": "", "OS-EXT-SRV-ATTR:ramdisk_id": "",
            "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda", "OS-EXT-SRV-ATTR:user_data": doc.get("user_data"),
        })
    if version >= (2, 16):
        out["host_status"] = "UP"
    return out
