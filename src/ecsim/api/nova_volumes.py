"""Nova v2 / v2.1 volume attachments: `/servers/{server_id}/os-volume_attachments` — list, attach, show, detach.

The same attachments the Huawei ECS API (block_device, volumes_attached) and Cinder / EVS (status in-use,
attachments) show: attaching and detaching go through services/attachments.py like ECS's attachvolume and
detachvolume; the jobs those write are ECS's and Nova ignores them. The attachment id is the volume id, and every
volume on the server is listed, the system disk included (Nova lists every volume block device mapping).
Fields follow the microversion as Nova gates them: `tag` from 2.70, `delete_on_termination` from 2.79 (ecsim serves
up to 2.79, so `attachment_id` / `bdm_uuid` of 2.89 never appear)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from msgspec import UNSET, UnsetType

from ecsim.api.nova import Strict, check_query, offset_limit, version
from ecsim.domain import servers, volumes
from ecsim.domain.errors import DomainError, InvalidInput, NotFound
from ecsim.http.context import Ctx, Response, empty, json_response
from ecsim.services import attachments, block
from ecsim.services.server_rows import get_server

# Nova's schema patterns (nova/api/openstack/compute/schemas/volume_attachments.py, parameter_types.tag).
DEVICE_PATTERN = re.compile(r"(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$")
TAG_PATTERN = re.compile(r"^[^,/]*$")
TAG_MAX = 60
_TRUE = {"true", "1", "on", "yes", "y", "t"}
_FALSE = {"false", "0", "off", "no", "n", "f"}
_LIST_PARAMS = {"limit", "offset"}



class Attachment(Strict):
    volumeId: str
    device: str | None = None
    tag: str | UnsetType | None = UNSET
    delete_on_termination: bool | str | UnsetType = UNSET


class AttachBody(Strict):
    volumeAttachment: Attachment


# -- helpers --------------------------------------------------------------------------------------------------------


def _invalid(field: str, value: Any, why: str) -> InvalidInput:
    return InvalidInput(f"Invalid input for field/attribute {field}. Value: {value}. {why}")


def _unexpected(key: str) -> InvalidInput:
    return InvalidInput("Invalid input for field/attribute volumeAttachment. Additional properties are not allowed "
                        f"('{key}' was unexpected)")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _boolean(value: bool | str) -> bool:
    if isinstance(value, bool):
        return value
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise _invalid("delete_on_termination", value, f"'{value}' is not one of the accepted boolean values")


def _parse(ctx: Ctx) -> tuple[str, str | None, str | None, bool]:
    """(volume id, device, tag, delete_on_termination) from the strict body, with Nova's per-version schema."""
    att = ctx.body_as(AttachBody).volumeAttachment
    v = version(ctx)
    if att.tag is not UNSET and v < (2, 49):
        raise _unexpected("tag")
    if att.delete_on_termination is not UNSET and v < (2, 79):
        raise _unexpected("delete_on_termination")
    if not _is_uuid(att.volumeId):
        raise _invalid("volumeId", att.volumeId, f"'{att.volumeId}' is not a 'uuid'")
    if att.device is not None and not DEVICE_PATTERN.match(att.device):
        raise _invalid("device", att.device, f"'{att.device}' does not match "
                       f"'{DEVICE_PATTERN.pattern}'")
    tag = None if isinstance(att.tag, UnsetType) else att.tag
    if tag is not None and (len(tag) > TAG_MAX or not TAG_PATTERN.match(tag)):
        raise _invalid("tag", tag, f"'{tag}' must be at most {TAG_MAX} characters without ',' or '/'")
    delete = False if isinstance(att.delete_on_termination, UnsetType) else _boolean(att.delete_on_termination)
    return att.volumeId, att.device, tag, delete


def _view(ctx: Ctx, server_id: str, entry: dict) -> dict:
    out: dict = {"id": entry["id"], "volumeId": entry["id"], "serverId": server_id}
    if entry.get("device"):
        out["device"] = entry["device"]
    v = version(ctx)
    if v >= (2, 70):
        out["tag"] = entry.get("tag")
    if v >= (2, 79):
        out["delete_on_termination"] = bool(entry.get("delete_on_termination"))
    return out


def _entry(doc: dict, volume_id: str) -> dict | None:
    return next((v for v in doc.get("volumes", []) if v["id"] == volume_id), None)


def _not_attached(server_id: str, volume_id: str) -> NotFound:
    return NotFound("volume_attachment", volume_id, f"Instance {server_id} is not attached to volume {volume_id}")


def _volume_not_found(volume_id: str) -> NotFound:
    return NotFound("volume", volume_id, f"Volume {volume_id} could not be found.")


def _check_volume(ctx: Ctx, volume_id: str) -> dict:
    try:
        return block.load_volume(ctx.rt, ctx.project, volume_id, ctx.now).doc
    except NotFound as exc:
        raise _volume_not_found(volume_id) from exc


def _attach_refusal(exc: DomainError, server: dict, vol: dict, device: str | None) -> DomainError:
    """Nova's answer for what the shared attach refused: InvalidVolume / InvalidDevicePath 400, DevicePathInUse 409,
    TooManyDiskDevices 403, InstanceInvalidState 409 (StateConflict, passed through), a vanished volume 404."""
    volume_id, server_id = vol["id"], server["id"]
    if isinstance(exc, volumes.VolumeStateError) and exc.details.get("status", "") is None:
        return _volume_not_found(volume_id)  # deleted between the check and the attach
    if exc.reason == "already_attached":
        return InvalidInput(f"Invalid volume: volume {volume_id} already attached")
    if exc.reason == "volume_state":
        return InvalidInput(f"Invalid volume: volume '{volume_id}' status must be 'available'. Currently in "
                            f"'{exc.details.get('status') or vol['status']}'")
    if exc.reason in ("volume_not_shared", "too_many_attachments"):
        return InvalidInput(f"Invalid volume: {exc.message}")
    if exc.reason == "az_mismatch":
        return InvalidInput(f"Invalid volume: Instance {server_id} and volume {volume_id} are not in the same "
                            f"availability_zone. Instance is in {server['availability_zone']}. Volume is in "
                            f"{vol['availability_zone']}")
    if exc.reason == "device_in_use":
        return DomainError(f"The supplied device path ({device}) is in use.", reason="conflict")
    if exc.reason == "too_many_volumes":
        return DomainError(f"The maximum allowed number of disk devices ({servers.MAX_DISKS}) to attach to a single "
                           "instance has been exceeded.", reason="forbidden")
    if exc.reason == "invalid" and device is not None:
        return InvalidInput(f"The supplied device path ({device}) is invalid.")
    return exc


# -- handlers -------------------------------------------------------------------------------------------------------
def list_attachments(ctx: Ctx) -> Response:
    """GET .../os-volume_attachments[?limit&offset] -> 200 {"volumeAttachments": [...]}, the system disk first."""
    check_query(ctx, _LIST_PARAMS)
    offset, limit = offset_limit(ctx)
    server_id = ctx.params["server_id"]
    doc = get_server(ctx.rt, ctx.project, server_id, ctx.now)
    entries = sorted(doc.get("volumes", []), key=lambda e: e["boot_index"] != 0)[offset:offset + limit]
    return json_response(200, {"volumeAttachments": [_view(ctx, server_id, e) for e in entries]})


def show_attachment(ctx: Ctx) -> Response:
    """GET .../os-volume_attachments/{volume_id} -> 200 {"volumeAttachment"}; 404 when not on this server."""
    server_id, volume_id = ctx.params["server_id"], ctx.params["volume_id"]
    entry = _entry(get_server(ctx.rt, ctx.project, server_id, ctx.now), volume_id)
    if entry is None:
        raise _not_attached(server_id, volume_id)
    return json_response(200, {"volumeAttachment": _view(ctx, server_id, entry)})


def attach(ctx: Ctx) -> Response:
    """POST .../os-volume_attachments -> 200 {"volumeAttachment"} (Nova answers 200 up to 2.100).

    Nova's order: the server (404), the body (400), the lock (409), the server's state (409), the volume (404), a
    shared (multiattach) volume before 2.60 (400), then what Cinder and the block device mapping refuse (400 / 403 /
    409)."""
    pid, server_id = ctx.project, ctx.params["server_id"]
    server = get_server(ctx.rt, pid, server_id, ctx.now)
    volume_id, device, tag, delete = _parse(ctx)
    servers.check_lock(server, ctx.is_admin)
    servers.check_attach(server, vm_states=servers.NOVA_ATTACH_STATES)
    vol = _check_volume(ctx, volume_id)
    if vol.get("multiattach") and version(ctx) < (2, 60):
        raise InvalidInput("Multiattach volumes are only supported starting with compute API version 2.60.")
    if _entry(server, volume_id) is not None:
        raise InvalidInput(f"Invalid volume: volume {volume_id} already attached")
    try:
        attachments.attach_volume(ctx.rt, pid, server_id, volume_id, device, now=ctx.now, tag=tag,
                                  delete_on_termination=delete, vm_states=servers.NOVA_ATTACH_STATES)
    except NotFound:
        raise
    except DomainError as exc:
        mapped = _attach_refusal(exc, server, vol, device)
        if mapped is exc:
            raise
        raise mapped from exc
    doc = get_server(ctx.rt, pid, server_id, ctx.now)
    entry = _entry(doc, volume_id)
    out: dict = {"id": volume_id, "serverId": server_id, "volumeId": volume_id,
                 "device": entry["device"] if entry else device}
    if version(ctx) >= (2, 70):
        out["tag"] = tag
    if version(ctx) >= (2, 79):
        out["delete_on_termination"] = delete
    return json_response(200, {"volumeAttachment": out})


def detach(ctx: Ctx) -> Response:
    """DELETE .../os-volume_attachments/{volume_id} -> 202. Nova's order: the server (404), the volume (404), the
    mapping (404), the root disk (400), the lock (409), the server's state (409)."""
    pid, server_id, volume_id = ctx.project, ctx.params["server_id"], ctx.params["volume_id"]
    server = get_server(ctx.rt, pid, server_id, ctx.now)
    _check_volume(ctx, volume_id)
    entry = _entry(server, volume_id)
    if entry is None:
        raise _not_attached(server_id, volume_id)
    if entry["boot_index"] == 0:
        raise InvalidInput("Cannot detach a root device volume")
    servers.check_lock(server, ctx.is_admin)
    try:
        attachments.detach_volume(ctx.rt, pid, server_id, volume_id, now=ctx.now,
                                  vm_states=servers.NOVA_ATTACH_STATES)
    except volumes.VolumeStateError as exc:  # the volume is still attaching / detaching
        raise InvalidInput(exc.message if exc.message.startswith("Invalid volume") else
                           f"Invalid volume: {exc.message}") from exc
    except DomainError as exc:
        if exc.reason == "not_attached":
            raise _not_attached(server_id, volume_id) from exc
        raise
    return empty(202)

