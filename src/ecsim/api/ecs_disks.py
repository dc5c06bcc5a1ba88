"""Huawei ECS v1: disks on servers — attach and detach one, attach a shared disk to several servers and detach a
disk from several (seeds 000 and 002), and the block devices a server shows."""

from __future__ import annotations

from msgspec import Struct, field

from ecsim.domain.errors import DomainError, InvalidInput
from ecsim.http.context import Ctx, Response, empty, json_response
from ecsim.services import attachments
from ecsim.services.server_rows import get_server


class VolumeAttachment(Struct):
    volumeId: str
    device: str | None = None
    passthrough: str | bool | None = field(default=None, name="hw:passthrough")
    volume_type: str | None = None
    count: int | None = None


class AttachBody(Struct):
    volumeAttachment: VolumeAttachment
    dry_run: bool = False


class ServerInfo(Struct):
    server_id: str
    device: str | None = None


class BatchAttachBody(Struct):
    serverinfo: list[ServerInfo]


class BatchDetachBody(Struct):
    serverinfo: list[str]  # plain server ids (unlike the attach body's objects)



def attach_volume(ctx: Ctx) -> Response:
    """POST /v1/{project_id}/cloudservers/{server_id}/attachvolume -> 200 {"job_id"}; dry_run -> 202."""
    body = ctx.body_as(AttachBody)
    job = attachments.attach_volume(ctx.rt, ctx.project, ctx.params["server_id"], body.volumeAttachment.volumeId,
                                    body.volumeAttachment.device, now=ctx.now, dry_run=body.dry_run)
    return empty(202) if job is None else json_response(200, {"job_id": job["id"]})


def detach_volume(ctx: Ctx) -> Response:
    """DELETE /v1/{project_id}/cloudservers/{server_id}/detachvolume/{volume_id}?delete_flag=0|1 -> 200 {"job_id"}."""
    flag = ctx.q("delete_flag", "0")
    if flag not in ("0", "1"):
        raise InvalidInput("delete_flag must be 0 or 1.")
    job = attachments.detach_volume(ctx.rt, ctx.project, ctx.params["server_id"], ctx.params["volume_id"],
                                    now=ctx.now, force=flag == "1")
    return json_response(200, {"job_id": job["id"]})


def batch_attach(ctx: Ctx) -> Response:
    """POST /v1/{project_id}/batchaction/attachvolumes/{volume_id} -> 200 {"job_id"}, a sub-job per server."""
    body = ctx.body_as(BatchAttachBody)
    job = attachments.attach_shared_volume(ctx.rt, ctx.project, ctx.params["volume_id"],
                                           [(s.server_id, s.device) for s in body.serverinfo], now=ctx.now)
    return json_response(200, {"job_id": job["id"]})


def batch_detach(ctx: Ctx) -> Response:
    """POST /v1/{project_id}/batchaction/detachvolumes/{volume_id} -> 200 {"job_id"}, a sub-job per server."""
    body = ctx.body_as(BatchDetachBody)
    job = attachments.detach_from_servers(ctx.rt, ctx.project, ctx.params["volume_id"], body.serverinfo,
                                          now=ctx.now)
    return json_response(200, {"job_id": job["id"]})


def _device(server: dict, disk: dict) -> dict:
    index = "abcdefghijklmnopqrstuvwxyz".index(disk["device"][-1])
    return {"serverId": server["id"], "id": disk["id"], "volumeId": disk["id"], "device": disk["device"],
            "bootIndex": disk["boot_index"], "size": disk["size"], "bus": "virtio",
            "pciAddress": f"0000:02:{index + 1:02x}.0"}


def _attachable(disks: list[dict]) -> dict:
    free = 60 - len(disks)
    return {"free_scsi": free, "free_blk": max(0, 24 - len(disks)), "free_disk": free}


def list_block_devices(ctx: Ctx) -> Response:
    """GET /v1/{project_id}/cloudservers/{server_id}/block_device."""
    server, disks = attachments.block_devices(ctx.rt, ctx.project, ctx.params["server_id"], ctx.now)
    return json_response(200, {"attachableQuantity": _attachable(disks),
                               "volumeAttachments": [_device(server, d) for d in disks]})


def list_volume_attachments(ctx: Ctx) -> Response:
    """GET /v1/{project_id}/cloudservers/{server_id}/os-volume_attachments: Nova's shape, the id is the volume's."""
    server = get_server(ctx.rt, ctx.project, ctx.params["server_id"], ctx.now)
    return json_response(200, {"volumeAttachments": [
        {"id": v["id"], "volumeId": v["id"], "serverId": server["id"], "device": v["device"]}
        for v in server.get("volumes", [])]})


def show_block_device(ctx: Ctx) -> Response:
    """GET /v1/{project_id}/cloudservers/{server_id}/block_device/{volume_id}."""
    server, disks = attachments.block_devices(ctx.rt, ctx.project, ctx.params["server_id"], ctx.now)
    volume_id = ctx.params["volume_id"]
    disk = next((d for d in disks if d["id"] == volume_id), None)
    if disk is None:
        raise DomainError(f"The EVS disk {volume_id} is not attached to server {server['id']}.",
                          reason="not_attached")
    return json_response(200, {"volumeAttachment": _device(server, disk)})
