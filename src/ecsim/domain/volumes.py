"""EVS volumes (disks): the Cinder state machine every face shares (EVS native, Cinder v2 and v3, and the disks
servers are created with).

A volume doc: id, name, project_id, user_id, size (GiB), volume_type, availability_zone, status, bootable,
multiattach, readonly (admin metadata: None until set, shown as metadata "readonly"), attached_mode,
attachments [{attachment_id, server_id, host_name, device, attached_at, mode}], image_id and image_name (the image
a disk was made from), metadata (user), description, encrypted, enterprise_project_id, tags, created, updated (None
until the first change), previous_status, counted_size (services/block.py), `_steps`.

Wrong states raise VolumeStateError with Cinder's complete text ("Invalid volume: ..."); the EVS face maps the
reason to its EVS.xxxx code.
"""

from __future__ import annotations

import uuid

from ecsim.domain.errors import DomainError, InvalidInput, NotFound
from ecsim.domain.timeline import Timing, busy, finish, schedule
from ecsim.ids import new_uuid

VOLUME_TYPES = ("SATA", "SAS", "SSD", "GPSSD", "co-p1", "uh-l1", "ESSD", "GPSSD2", "ESSD2")
DEFAULT_TYPE = "SATA"
DELETABLE = ("available", "error", "error_restoring", "error_extending", "error_managing")
MAX_DATA_SIZE = 32768  # GiB
MAX_SHARED_ATTACHMENTS = 16  # servers a shared (SCSI) disk can be attached to
FACETS_VERSION = "1"  # bump when facets() changes: stored volumes are re-indexed on start


class VolumeStateError(DomainError):
    """The volume's status does not allow the action (Cinder: 400 "Invalid volume: ..."; EVS: its own code)."""

    reason = "volume_state"


def device_name(index: int) -> str:
    """/dev/vda for the system disk, then /dev/vdb, /dev/vdc, ..."""
    return "/dev/vd" + "abcdefghijklmnopqrstuvwxyz"[index]


def new_volume(*, project_id: str, user_id: str, name: str, size: int, volume_type: str, az: str, now: float,
               bootable: bool = False, multiattach: bool = False, image_id: str | None = None,
               image_name: str | None = None, description: str | None = None, metadata: dict | None = None,
               enterprise_project_id: str = "0", tags: dict | None = None) -> dict:
    """A standalone, available disk."""
    return {
        "id": new_uuid(), "name": name, "project_id": project_id, "user_id": user_id, "size": size,
        "volume_type": volume_type, "availability_zone": az, "status": "available", "bootable": bootable,
        "multiattach": multiattach, "readonly": None, "attachments": [], "image_id": image_id,
        "image_name": image_name, "metadata": dict(metadata or {}), "description": description, "encrypted": False,
        "enterprise_project_id": enterprise_project_id, "tags": dict(tags or {}), "created": now, "updated": None,
    }


def created(vol: dict, now: float, timing: Timing) -> None:
    """A new volume starts `creating` and becomes available."""
    final = vol["status"]
    vol["status"] = "creating"
    schedule(vol, now, [(timing("volume.create"), {"status": final})])


def new_attached_volume(*, project_id: str, user_id: str, server_id: str, name: str, size: int, volume_type: str,
                        az: str, device: str, bootable: bool, multiattach: bool, image_id: str | None,
                        now: float, attach_delay: float, ready_delay: float, image_name: str | None = None) -> dict:
    """A disk created with a server: creating, attaching, then in-use on that server."""
    vol = new_volume(project_id=project_id, user_id=user_id, name=name, size=size, volume_type=volume_type, az=az,
                     now=now, bootable=bootable, multiattach=multiattach, image_id=image_id, image_name=image_name)
    attachment = {"attachment_id": new_uuid(), "server_id": server_id, "host_name": None, "device": device,
                  "attached_at": now, "mode": "rw", "compute": True}
    vol["status"] = "creating"
    schedule(vol, now, [
        (attach_delay, {"status": "attaching"}),
        (ready_delay, {"status": "in-use", "attachments": [attachment]}),
    ])
    return vol


def release(vol: dict, server_id: str, now: float, delay: float, *, delete: bool) -> None:
    """The server is going away: delete the disk, or detach it and leave it available (or in use by the servers it
    is still attached to). What was in flight on the disk (its attaching) is done first, so that the release
    starts from the attachments it was heading for."""
    finish(vol, now)
    remaining = [a for a in vol.get("attachments", []) if a["server_id"] != server_id]
    if delete:
        schedule(vol, now, [(0.0, {"status": "deleting"}), (delay, {"status": "deleted", "attachments": []})])
    else:
        final = "in-use" if remaining else "available"
        schedule(vol, now, [(0.0, {"status": "detaching"}), (delay, {"status": final, "attachments": remaining})])


def is_gone(vol: dict) -> bool:
    return vol.get("status") == "deleted"


# The provisioned-performance types (the EVS performance table): IOPS range, and throughput range (MiB/s) or None.
PERFORMANCE = {"GPSSD2": ((3000, 128000), (125, 1000)), "ESSD2": ((100, 256000), None)}


def check_performance(volume_type: str, iops: int | None, throughput: int | None) -> None:
    """GPSSD2 disks need their IOPS and throughput, ESSD2 disks their IOPS; other types take neither."""
    ranges = PERFORMANCE.get(volume_type)
    if ranges is None:
        if iops is not None or throughput is not None:
            raise InvalidInput(f"iops and throughput are set only for GPSSD2 and ESSD2 disks, not {volume_type}.")
        return
    (low, high), tp = ranges
    if iops is None or not low <= iops <= high:
        raise InvalidInput(f"A {volume_type} disk needs iops between {low} and {high}, not {iops}.")
    if tp is None and throughput is not None:
        raise InvalidInput(f"throughput is set only for GPSSD2 disks, not {volume_type}.")
    if tp is not None and (throughput is None or not tp[0] <= throughput <= tp[1]):
        raise InvalidInput(f"A {volume_type} disk needs throughput between {tp[0]} and {tp[1]} MiB/s, not "
                           f"{throughput}.")


def _check_limit(size: int) -> None:
    """Past the per-volume limit (quota per_volume_gigabytes): Cinder's VolumeSizeExceedsLimit, a quota error."""
    if size > MAX_DATA_SIZE:
        raise DomainError(f"Requested volume size {size}G is larger than maximum allowed limit {MAX_DATA_SIZE}G.",
                          reason="volume_size_limit")


def check_size(size: int) -> None:
    if size < 1:
        raise InvalidInput(f"Invalid input received: Invalid volume size provided for create request: {size} (size "
                           "argument must be an integer (or string representation of an integer) and greater than "
                           "zero).", reason="volume_size")
    _check_limit(size)


# -- actions --------------------------------------------------------------------------------------------------------
def check_settled(vol: dict, action: str) -> None:
    """Nothing else may be in flight (a realistic-profile transition still running). Checked after the status
    rules, so a transitional status gets Cinder's own message first; this catches the rest (e.g. a second attach
    while the first is still attaching)."""
    if busy(vol):
        raise VolumeStateError(f"Invalid volume: Volume {vol['id']} is {vol['status']}: another operation is in "
                               f"progress; retry {action} when it finishes.", status=vol["status"], action=action)


def check_delete(vol: dict) -> None:
    if vol["status"] not in DELETABLE or vol.get("attachments"):
        raise VolumeStateError(
            "Invalid volume: Volume status must be available or error or error_restoring or error_extending or "
            "error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a "
            "transfer, or be disassociated from snapshots after volume transfer.",
            reason="volume_delete_state", status=vol["status"], action="delete")
    check_settled(vol, "delete")


def delete(vol: dict, now: float, timing: Timing, *, force: bool = False) -> None:
    """Delete (force: from any status, attachments dropped; what Cinder's admin force-delete does)."""
    if not force:
        check_delete(vol)
    schedule(vol, now, [(0.0, {"status": "deleting"}),
                        (timing("volume.delete"), {"status": "deleted", "attachments": []})])


def reserve(vol: dict, now: float) -> None:
    allowed = ("available", "in-use") if vol.get("multiattach") else ("available",)
    if vol["status"] not in allowed:
        need = "available or in-use" if vol.get("multiattach") else "available"
        raise VolumeStateError(f"Invalid volume: Volume status must be {need} to reserve, but the status is "
                               f"{vol['status']}.", status=vol["status"], action="reserve")
    check_settled(vol, "reserve")
    vol["previous_status"] = vol["status"]
    vol["status"] = "attaching"
    vol["updated"] = now


def unreserve(vol: dict, now: float) -> None:
    if vol["status"] == "attaching" and not busy(vol):
        vol["status"] = "in-use" if vol.get("attachments") else "available"
        vol["updated"] = now


def attach(vol: dict, now: float, timing: Timing, *, server_id: str | None, host_name: str | None,
           mountpoint: str, mode: str) -> None:
    if vol["status"] == "maintenance":
        raise VolumeStateError("Invalid volume: The volume cannot be attached in maintenance mode.",
                               status=vol["status"], action="attach")
    if vol.get("readonly") and mode != "ro":
        raise VolumeStateError(f"Invalid attaching mode '{mode}' for volume {vol['id']}.", reason="attach_mode",
                               status=vol["status"], action="attach")
    attachments = vol.get("attachments", [])
    for a in attachments:  # already attached there: nothing to do
        if (server_id and a.get("server_id") == server_id) or (host_name and a.get("host_name") == host_name):
            return
    if vol["status"] not in ("available", "attaching", "reserved", "in-use"):
        raise VolumeStateError(f"Invalid volume: Volume status must be available, attaching or in-use to attach, "
                               f"but the status is {vol['status']}.", status=vol["status"], action="attach")
    if attachments and not vol.get("multiattach"):
        raise VolumeStateError("Invalid volume: volume is already attached and multiple attachments are not "
                               "enabled", reason="volume_in_use", status=vol["status"], action="attach")
    check_settled(vol, "attach")
    _attach(vol, now, timing, [(server_id, host_name, mountpoint)], mode)


def _attach(vol: dict, now: float, timing: Timing, targets: list[tuple[str | None, str | None, str]],
            mode: str, *, compute: bool = False) -> None:
    """`compute`: made by the compute service (ECS or Nova attach, a server's own disks), which only it detaches
    (Cinder's os-detach: 409 ConflictNovaUsingAttachment)."""
    new = [{"attachment_id": new_uuid(), "server_id": server_id, "host_name": host_name, "device": device,
            "attached_at": now, "mode": mode, **({"compute": True} if compute else {})}
           for server_id, host_name, device in targets]
    schedule(vol, now, [
        (0.0, {"status": "attaching"}),
        (timing("volume.attach"), {"status": "in-use", "attachments": [*vol.get("attachments", []), *new],
                                   "attached_mode": mode, "readonly": bool(vol.get("readonly"))}),
    ])


def check_attach_servers(vol: dict, server_ids: list[str]) -> None:
    """ECS attaches a disk that is available, or in use and shared, to servers it is not on yet (ECS's Ecs.0103
    and Ecs.0057 rules)."""
    on = {a.get("server_id") for a in vol.get("attachments", [])}
    for sid in server_ids:
        if sid in on:
            raise DomainError(f"The disk {vol['id']} has already been attached to server {sid}; it cannot be "
                              "attached again.", reason="already_attached")
    shared = bool(vol.get("multiattach"))
    if len(server_ids) > 1 and not shared:
        raise DomainError(f"The disk {vol['id']} is not shared; only a shared disk can be attached to several "
                          "servers.", reason="volume_not_shared")
    if vol["status"] not in (("available", "in-use") if shared else ("available",)) or busy(vol):
        raise VolumeStateError(f"The disk {vol['id']} can be attached only when it is available (or in-use and "
                               f"shared); its status is {vol['status']}.", status=vol["status"], action="attach")
    if shared and len(on) + len(server_ids) > MAX_SHARED_ATTACHMENTS:
        raise DomainError(f"A shared disk can be attached to at most {MAX_SHARED_ATTACHMENTS} servers; disk "
                          f"{vol['id']} is on {len(on)}.", reason="too_many_attachments")


def attach_servers(vol: dict, now: float, timing: Timing, targets: list[tuple[str, str]]) -> None:
    """Attach to servers (server_id, device) in one change: attaching, then in-use with every new attachment."""
    check_attach_servers(vol, [sid for sid, _ in targets])
    _attach(vol, now, timing, [(sid, None, device) for sid, device in targets], "ro" if vol.get("readonly") else "rw",
            compute=True)


def detach_servers(vol: dict, now: float, timing: Timing, server_ids: list[str]) -> None:
    """Detach from these servers (each must hold an attachment) in one change: detaching, then available or still
    in-use on the others."""
    remaining = [a for a in vol.get("attachments", []) if a.get("server_id") not in server_ids]
    schedule(vol, now, [
        (0.0, {"status": "detaching"}),
        (timing("volume.detach"), {"status": "in-use" if remaining else "available", "attachments": remaining,
                                   "attached_mode": vol.get("attached_mode") if remaining else None}),
    ])


def detach(vol: dict, now: float, timing: Timing, attachment_id: str | None) -> None:
    if vol["status"] == "maintenance":
        raise VolumeStateError("Invalid volume: The volume cannot be detached in maintenance mode.",
                               status=vol["status"], action="detach")
    check_settled(vol, "detach")
    attachments = vol.get("attachments", [])
    if attachment_id is None and len(attachments) > 1:
        raise VolumeStateError("Invalid volume: Detach volume failed: More than one attachment, but no "
                               "attachment_id provided.", status=vol["status"], action="detach")
    if attachment_id is not None and not any(a["attachment_id"] == attachment_id for a in attachments):
        raise NotFound("attachment", attachment_id,
                       f"Volume attachment could not be found with filter: attachment_id = {attachment_id}.")
    for a in attachments:
        if a.get("compute") and attachment_id in (None, a["attachment_id"]):
            raise DomainError(f"ConflictNovaUsingAttachment: Detach volume from instance {a['server_id']} using the "
                              "Compute API", reason="conflict")
    remaining = [a for a in attachments if attachment_id is not None and a["attachment_id"] != attachment_id]
    if not attachments:  # nothing attached: the volume simply ends available
        schedule(vol, now, [(0.0, {"status": "available", "attached_mode": None})])
        return
    final = "in-use" if remaining else "available"
    schedule(vol, now, [
        (0.0, {"status": "detaching"}),
        (timing("volume.detach"), {"status": final, "attachments": remaining,
                                   "attached_mode": vol.get("attached_mode") if remaining else None}),
    ])


def extend(vol: dict, now: float, timing: Timing, new_size: int, *, in_use_allowed: bool) -> None:
    """Grow the disk. Cinder extends in-use volumes only from microversion 3.42; EVS extends them online. Shared
    (multiattach) disks grow only while available, through either API (the same backend; EVS.1065)."""
    if new_size <= vol["size"]:
        raise InvalidInput(f"Invalid input received: New size for extend must be greater than current size. "
                           f"(current: {vol['size']}, extended: {new_size}).", reason="extend_size")
    _check_limit(new_size)
    status = vol["status"]
    if status == "in-use" and in_use_allowed and vol.get("multiattach"):
        raise VolumeStateError(f"Invalid volume: Shared volume {vol['id']} must be available to extend, currently "
                               "in-use.", reason="extend_shared", status=status, action="extend")
    if status not in (("available", "in-use") if in_use_allowed else ("available",)):
        raise VolumeStateError(f"Invalid volume: Volume {vol['id']} status must be '{{'status': 'available'}}' to "
                               f"extend, currently {status}.", reason="extend_state", status=status,
                               action="extend")
    check_settled(vol, "extend")
    schedule(vol, now, [(0.0, {"status": "extending", "previous_status": status}),
                        (timing("volume.extend"), {"status": status, "size": new_size})])


def upload_image(vol: dict, now: float, timing: Timing, *, force: bool) -> None:
    allowed = ("available", "in-use") if force else ("available",)
    if vol["status"] not in allowed:
        need = "available or in-use" if force else "available"
        raise VolumeStateError(f"Invalid volume: Volume {vol['id']} status must be {need}", status=vol["status"],
                               action="upload")
    check_settled(vol, "upload")
    final = vol["status"]
    schedule(vol, now, [(0.0, {"status": "uploading", "previous_status": final}),
                        (timing("volume.upload"), {"status": final})])


def update_readonly(vol: dict, now: float, readonly: bool) -> None:
    if vol["status"] != "available":
        raise VolumeStateError(f"Invalid volume: Volume {vol['id']} status must be available to update readonly "
                               f"flag, but current status is: {vol['status']}.", status=vol["status"],
                               action="update_readonly")
    check_settled(vol, "update readonly flag")
    vol["readonly"] = readonly
    vol["updated"] = now


def check_updatable(vol: dict) -> None:
    if vol["status"] == "maintenance":
        raise VolumeStateError("Invalid volume: The volume cannot be updated during maintenance.",
                               status=vol["status"], action="update")


def set_bootable(vol: dict, now: float, bootable: bool) -> None:
    check_updatable(vol)
    vol["bootable"] = bootable
    vol["updated"] = now


def facets(vol: dict) -> tuple[tuple[str, str], ...]:
    """What volume lists filter on (store/query.py), as they will be once pending steps settle: facets are written
    with a change, not when its timed steps come due."""
    if vol.get("_steps"):
        vol = dict(vol)
        for _, patch in vol["_steps"]:
            vol.update(patch)
    out = [("az", vol["availability_zone"]), ("type", vol["volume_type"]),
           ("bootable", "true" if vol.get("bootable") else "false"),
           ("multiattach", "true" if vol.get("multiattach") else "false"),
           ("ep", vol.get("enterprise_project_id") or "0")]
    out += [("server", a["server_id"]) for a in vol.get("attachments", []) if a.get("server_id")]
    for key, value in (vol.get("metadata") or {}).items():
        out += [("meta", f"{key}={value}"), ("metakey", key)]
    return tuple(dict.fromkeys(out))


def type_id(name: str) -> str:
    """Stable ids for the volume types (Cinder shows the name, `volume_type_id` the id)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ecsim-volume-type:{name}"))


TYPE_BY_ID = {type_id(t): t for t in VOLUME_TYPES}
