"""EVS volumes (disks) as the compute side needs them: system and data disks created with a server, attached to it,
and released when it is deleted. The EVS / Cinder faces build on the same docs.

A volume doc: id, name, project_id, user_id, size (GiB), volume_type, availability_zone, status, bootable,
multiattach, attachments[{server_id, device, attachment_id, attached_at}], image_id, metadata, description,
encrypted, created, updated, and `_steps`.
"""

from __future__ import annotations

from ecsim.domain.timeline import AT, schedule
from ecsim.ids import new_uuid

VOLUME_TYPES = ("SATA", "SAS", "SSD", "GPSSD", "co-p1", "uh-l1", "ESSD", "GPSSD2", "ESSD2")


def device_name(index: int) -> str:
    """/dev/vda for the system disk, then /dev/vdb, /dev/vdc, ..."""
    return "/dev/vd" + "abcdefghijklmnopqrstuvwxyz"[index]


def new_attached_volume(*, project_id: str, user_id: str, server_id: str, name: str, size: int, volume_type: str,
                        az: str, device: str, bootable: bool, multiattach: bool, image_id: str | None,
                        now: float, attach_delay: float, ready_delay: float) -> dict:
    vol = {
        "id": new_uuid(), "name": name, "project_id": project_id, "user_id": user_id, "size": size,
        "volume_type": volume_type, "availability_zone": az, "status": "creating", "bootable": bootable,
        "multiattach": multiattach, "attachments": [], "image_id": image_id, "metadata": {}, "description": "",
        "encrypted": False, "created": now, "updated": now,
    }
    attachment = {"server_id": server_id, "device": device, "attachment_id": new_uuid(), "attached_at": now}
    schedule(vol, now, [
        (0.0, {"status": "creating"}),
        (attach_delay, {"status": "attaching"}),
        (ready_delay, {"status": "in-use", "attachments": [attachment]}),
    ])
    return vol


def release(vol: dict, server_id: str, now: float, delay: float, *, delete: bool) -> None:
    """The server is going away: delete the disk, or detach it and leave it available."""
    remaining = [a for a in vol.get("attachments", []) if a["server_id"] != server_id]
    if delete:
        schedule(vol, now, [(0.0, {"status": "deleting"}), (delay, {"status": "deleted", "attachments": []})])
    else:
        final = "in-use" if remaining else "available"
        schedule(vol, now, [(0.0, {"status": "detaching"}),
                            (delay, {"status": final, "attachments": remaining, "detached_at": AT})])


def new_volume(*, project_id: str, user_id: str, name: str, size: int, volume_type: str, az: str, now: float,
               bootable: bool = False, multiattach: bool = False, image_id: str | None = None,
               description: str = "") -> dict:
    """A standalone, available disk."""
    return {
        "id": new_uuid(), "name": name, "project_id": project_id, "user_id": user_id, "size": size,
        "volume_type": volume_type, "availability_zone": az, "status": "available", "bootable": bootable,
        "multiattach": multiattach, "attachments": [], "image_id": image_id, "metadata": {},
        "description": description, "encrypted": False, "created": now, "updated": now,
    }
