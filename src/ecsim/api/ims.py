"""Huawei IMS: the public image set and the project's private images (GET /v2/cloudimages). Private images are
made by exporting a volume (Cinder os-volume_upload_image); IMS itself is read-only here."""

from __future__ import annotations

import csv

from ecsim.domain.catalogs import Image
from ecsim.domain.errors import InvalidInput
from ecsim.http.context import Ctx, Response, json_response
from ecsim.timefmt import iso_seconds_z

# Query parameters that filter on an exact attribute of the image view.
_EXACT = ("__imagetype", "__os_type", "__platform", "__os_bit", "__support_kvm", "id", "name", "status",
          "visibility", "disk_format", "container_format", "architecture", "virtual_env_type", "owner")


def image_view(i: Image) -> dict:
    when = iso_seconds_z(i.created)
    return {
        "id": i.id, "name": i.name, "status": i.status, "visibility": i.visibility, "protected": i.imagetype == "gold",
        "__os_version": i.os_version, "__platform": i.platform, "__os_type": i.os_type, "__os_bit": i.os_bit,
        "__imagetype": i.imagetype, "__isregistered": "true", "__image_source_type": "uds",
        "__support_kvm": i.support_kvm, "__support_xen": "false", "__support_largememory": "true",
        "__support_diskintensive": "true", "__support_highperformance": "true", "__support_agent_list": "hss,ces",
        "__os_feature_list": '{"nic_hotplug": "true", "disk_hotplug": "true", "user_data": "true"}',
        "__image_size": str(i.size), "__description": "", "__lazyloading": "true",
        "__originalimagename": "", "__backup_id": "", "__productcode": "", "__data_origin": None,
        "hw_firmware_type": "bios", "hw_vif_multiqueue_enabled": "true", "max_ram": "0",
        "min_disk": i.min_disk, "min_ram": i.min_ram, "size": max(1, i.size // 1024**3), "virtual_size": 0,
        "checksum": "d41d8cd98f00b204e9800998ecf8427e", "container_format": "bare", "disk_format": i.disk_format,
        "virtual_env_type": "FusionCompute", "architecture": i.architecture,
        "file": f"/v2/images/{i.id}/file", "self": f"/v2/images/{i.id}", "schema": "/v2/schemas/image",
        "owner": i.owner or "1bed856811654c1cb661a6ca845ebc77", "tags": [], "created_at": when,
        "updated_at": when, "active_at": when,
    }


def list_images(ctx: Ctx) -> Response:
    """GET /v2/cloudimages (filters on the image attributes, marker + limit paging, newest first): the public
    images and the project's private ones (exported from volumes)."""
    views, more = page(ctx)
    body: dict = {"images": views}
    if more:
        body["page_info"] = {"next_marker": views[-1]["id"]}
    return json_response(200, body)


def _one_of(value: str, glance: bool) -> set[str]:
    """The values a filter accepts: Glance's `in:a,b,"c,d"` names several (the `openstack` CLI resolves image
    names with `id=in:...`), anything else one."""
    if not (glance and value.startswith("in:")):
        return {value.lower()}
    return {v.strip().strip('"').lower() for v in next(csv.reader([value[3:]], skipinitialspace=True))}


def page(ctx: Ctx, *, glance: bool = False) -> tuple[list[dict], bool]:
    """One page of the filtered, sorted image views, and whether more follow (IMS and Glance list alike)."""
    images = [*ctx.rt.images.values(), *ctx.rt.private_images(ctx.project)]
    views = [image_view(i) for i in images]
    for key in _EXACT:
        value = ctx.q(key)
        if value is not None:
            wanted = _one_of(value, glance)
            views = [v for v in views if str(v.get(key, "")).lower() in wanted]
    if ctx.q("protected") is not None:
        want = ctx.q_bool("protected")
        views = [v for v in views if v["protected"] == want]
    for key in ("min_disk", "min_ram"):
        bound = ctx.q_int(key, None, low=0)
        if bound is not None:
            views = [v for v in views if v[key] >= bound]
    sort_key = ctx.q("sort_key", "created_at") or "created_at"
    if sort_key not in ("created_at", "name", "container_format", "disk_format", "status", "id", "size"):
        raise InvalidInput(f"sort_key {sort_key!r} is not supported.")
    views.sort(key=lambda v: (v[sort_key], v["name"]), reverse=(ctx.q("sort_dir", "desc") == "desc"))
    marker = ctx.q("marker")
    if marker:
        ids = [v["id"] for v in views]
        if marker not in ids:
            raise InvalidInput(f"marker {marker} not found")
        views = views[ids.index(marker) + 1:]
    limit = ctx.q_int("limit", 500, low=1, high=1000)
    assert limit is not None
    return views[:limit], len(views) > limit
