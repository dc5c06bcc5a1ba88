"""Response bodies of the block-storage faces: Cinder's volume views (exact key sets per microversion: Tempest's
schemas allow no extra keys), EVS's VolumeDetail (Cinder's keys plus Huawei's), volume types, availability zones,
quotas and version documents."""

from __future__ import annotations

import uuid

from ecsim.config import Config
from ecsim.domain import volumes
from ecsim.timefmt import iso_micros

# Cinder shows a few internal statuses as their public counterparts.
_DISPLAY_STATUS = {"managing": "creating", "error_managing": "error", "error_managing_deleting": "deleting"}
SERVICE_UUID = "b0a5e2f2-5d8e-4c1b-9a6f-3c2d1e0f9a87"  # the one volume service behind every volume


def links(root: str, project_id: str, volume_id: str) -> list[dict]:
    """self under the versioned root, bookmark without the version (`http://h/volume/v3` -> `http://h/volume`)."""
    bare = root.rsplit("/", 1)[0]
    return [{"rel": "self", "href": f"{root}/{project_id}/volumes/{volume_id}"},
            {"rel": "bookmark", "href": f"{bare}/{project_id}/volumes/{volume_id}"}]


def metadata(vol: dict) -> dict:
    """User metadata plus the visible admin keys (`readonly`, `attached_mode`), the admin value winning."""
    out = dict(vol.get("metadata") or {})
    if vol.get("readonly") is not None:
        out["readonly"] = "True" if vol["readonly"] else "False"
    if vol.get("attached_mode"):
        out["attached_mode"] = vol["attached_mode"]
    return out


def attachments(vol: dict) -> list[dict]:
    return [{"id": vol["id"], "attachment_id": a["attachment_id"], "volume_id": vol["id"],
             "server_id": a.get("server_id"), "host_name": a.get("host_name"), "device": a.get("device"),
             "attached_at": iso_micros(a["attached_at"])} for a in vol.get("attachments", [])]


def image_metadata(vol: dict) -> dict | None:
    if not vol.get("image_id"):
        return None
    return {"image_id": vol["image_id"], "image_name": vol.get("image_name") or "", "container_format": "bare",
            "disk_format": "zvhd2", "min_disk": str(vol["size"]), "min_ram": "0", "size": "0", "checksum": ""}


def volume_detail(vol: dict, root: str, version: tuple[int, int], *, owner_view: bool = True,
                  status: str | None = None) -> dict:
    """Cinder's detail view. `owner_view` adds what show/list carry beyond create/update (tenant id, image
    metadata); `status` overrides the shown status (a create answers "creating")."""
    out = {
        "id": vol["id"], "status": status or _DISPLAY_STATUS.get(vol["status"], vol["status"]), "size": vol["size"],
        "availability_zone": vol["availability_zone"], "created_at": iso_micros(vol["created"]),
        "updated_at": iso_micros(vol["updated"]) if vol.get("updated") else None, "name": vol["name"] or None,
        "description": vol.get("description"), "volume_type": vol["volume_type"], "snapshot_id": None,
        "source_volid": None, "metadata": metadata(vol), "links": links(root, vol["project_id"], vol["id"]),
        "user_id": vol["user_id"], "bootable": "true" if vol.get("bootable") else "false",
        "encrypted": bool(vol.get("encrypted")), "replication_status": "disabled", "consistencygroup_id": None,
        "multiattach": bool(vol.get("multiattach")), "attachments": attachments(vol),
    }
    if owner_view:
        out["os-vol-tenant-attr:tenant_id"] = vol["project_id"]
        image = image_metadata(vol)
        if image is not None:
            out["volume_image_metadata"] = image
    if version >= (3, 13):
        out["group_id"] = None
    if version >= (3, 48):
        out["shared_targets"] = False
        out["service_uuid"] = SERVICE_UUID
    if version >= (3, 63):
        out["volume_type_id"] = volumes.type_id(vol["volume_type"])
    if version >= (3, 65):
        out["consumes_quota"] = True
    return out


def volume_summary(vol: dict, root: str) -> dict:
    return {"id": vol["id"], "name": vol["name"] or None, "links": links(root, vol["project_id"], vol["id"])}


def _derived_id(volume_id: str, what: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{volume_id}/{what}"))


def evs_volume(vol: dict, root: str) -> dict:
    """EVS's VolumeDetail: the Cinder view at 3.0 plus Huawei's keys (shareable as a string, tags, EP, ...)."""
    out = volume_detail(vol, root, (3, 0))
    out.update({
        "os-vol-host-attr:host": f"pod01.{vol['availability_zone']}#{vol['volume_type']}",
        "os-volume-replication:extended_status": None, "os-vol-mig-status-attr:migstat": None,
        "os-vol-mig-status-attr:name_id": None, "shareable": "true" if vol.get("multiattach") else "false",
        "service_type": "EVS", "dedicated_storage_id": None, "dedicated_storage_name": None,
        "tags": dict(vol.get("tags") or {}), "wwn": "688860300000" + vol["id"].replace("-", "")[:20],
        "enterprise_project_id": vol.get("enterprise_project_id") or "0", "serial_number": None,
    })
    perf = vol.get("performance")
    if perf:  # provisioned IOPS and throughput (GPSSD2, ESSD2): each with an id of its own
        for key, value in perf.items():
            if value is not None:
                out[key] = {"frozened": False, "id": _derived_id(vol["id"], key), "total_val": value}
    out.setdefault("volume_image_metadata", {})
    return out


def volume_type(name: str, config: Config) -> dict:
    azs = ",".join(config.availability_zones)
    return {
        "id": volumes.type_id(name), "name": name, "description": None, "is_public": True, "qos_specs_id": None,
        "os-volume-type-access:is_public": True,
        "extra_specs": {"volume_backend_name": name, "availability-zone": azs, "RESKEY:availability_zones": azs,
                        "HW:availability_zone": azs},
    }


def availability_zones(config: Config) -> dict:
    return {"availabilityZoneInfo": [{"zoneName": az, "zoneState": {"available": True}}
                                     for az in config.availability_zones]}


def quota_set(project_id: str, usage: dict[str, tuple[int, int]], *, with_usage: bool) -> dict:
    out: dict = {"id": project_id}
    for name, (in_use, limit) in usage.items():
        out[name] = {"limit": limit, "in_use": in_use, "reserved": 0, "allocated": 0} if with_usage else limit
    return {"quota_set": out}


# -- version discovery --------------------------------------------------------------------------------------------
V3_UPDATED = "2023-08-31T00:00:00Z"
V2_UPDATED = "2017-02-25T12:00:00Z"


def version_doc(base: str, major: int, low: str, high: str) -> dict:
    if major == 2:
        status, version, min_version, updated = "DEPRECATED", "", "", V2_UPDATED
    else:
        status, version, min_version, updated = "CURRENT", high, low, V3_UPDATED
    return {
        "id": f"v{major}.0", "status": status, "version": version, "min_version": min_version, "updated": updated,
        "links": [{"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
                  {"rel": "self", "href": f"{base}/v{major}/"}],
        "media-types": [{"base": "application/json",
                         "type": f"application/vnd.openstack.volume+json;version={major}"}],
    }
