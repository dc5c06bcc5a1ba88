"""Provisioning: the documents of a new server and its disks, from a validated spec. Used by every create path
(the ECS API, and `ecsim seed` for bulk data), so seeded servers are the same as created ones."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ecsim.domain import network, servers, volumes
from ecsim.domain.catalogs import Flavor, Image
from ecsim.domain.timeline import Timing, schedule
from ecsim.ids import new_uuid


@dataclass
class NicSpec:
    subnet_id: str
    ip_address: str | None = None


@dataclass
class VolumeSpec:
    volume_type: str
    size: int | None = None
    multiattach: bool = False
    # None: the default, deleted with the server for a system disk (ECS's, and Nova's local-disk boot), kept for a
    # data disk; Nova's block_device_mapping_v2 says so explicitly, for a boot volume made from an image too.
    delete_on_termination: bool | None = None
    volume_id: str | None = None  # an existing volume to attach (Nova's block_device_mapping_v2 source "volume")


@dataclass
class ServerSpec:
    name: str
    image_id: str
    flavor_id: str
    vpc_id: str
    nics: list[NicSpec]
    root_volume: VolumeSpec
    data_volumes: list[VolumeSpec] = field(default_factory=list)
    availability_zone: str | None = None
    key_name: str | None = None
    admin_pass: str | None = None
    user_data: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    security_group_ids: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    description: str = ""
    enterprise_project_id: str = "0"
    scheduler_hints: dict[str, list[str]] = field(default_factory=dict)
    charging_mode: str = "0"
    access_ipv4: str | None = None  # Nova's accessIPv4 / accessIPv6
    access_ipv6: str | None = None
    disk_config: str = "MANUAL"  # Nova's OS-DCF:diskConfig
    boot_from_volume: bool = False  # Nova: no imageRef, a boot volume made from an image (or an existing volume)
    multi_az: bool = False  # ECS's batch_create_in_multi_az: a batch without a zone spreads over the zones
    config_drive: bool = False


# Metadata ECS writes itself (shown by the ECS API; Nova's face shows only the user's own keys).
SYSTEM_METADATA = frozenset({
    "charging_mode", "vpc_id", "image_name", "os_type", "os_bit", "metering.image_id", "metering.imagetype",
    "metering.resourcespeccode", "metering.resourcetype",
})


def user_metadata(metadata: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in metadata.items() if k not in SYSTEM_METADATA}


def hypervisor_of(host: str, az: str) -> str:
    """The hypervisor name of a host `podNN.<az>`."""
    return f"nova{int(host[3:5]):03d}@{az}"


def build_server(spec: ServerSpec, *, project_id: str, user_id: str, name: str, index: int, az: str, host: str,
                 subnets: dict[str, dict], security_groups: list[dict], reservation: str, image: Image,
                 flavor: Flavor, root_size: int, now: float, timing: Timing) -> tuple[dict, list[dict]]:
    """(server doc, its volume docs). Allocates the NICs' addresses from `subnets` (mutated)."""
    sid = new_uuid()
    build = servers.create_steps(timing)
    attach_delay = build[0][0] + build[1][0]
    ready_delay = build[2][0] + build[3][0]
    nics = []
    for j, nic in enumerate(spec.nics):
        ip = network.allocate_ip(subnets[nic.subnet_id], nic.ip_address)
        nics.append({"port_id": new_uuid(), "subnet_id": nic.subnet_id, "vpc_id": spec.vpc_id, "ip": ip,
                     "mac": network.new_mac(), "primary": j == 0})
    disks = [(spec.root_volume, root_size, True)] + [(d, d.size or 10, False) for d in spec.data_volumes]
    volume_docs, attached = [], []
    for k, (disk, size, boot) in enumerate(disks):
        device = volumes.device_name(k)
        if disk.volume_id is not None:  # an existing volume: the caller attaches it (its own row)
            attached.append({"id": disk.volume_id, "device": device, "boot_index": 0 if boot else -1,
                             "delete_on_termination": bool(disk.delete_on_termination)})
            continue
        vol = volumes.new_attached_volume(
            project_id=project_id, user_id=user_id, server_id=sid, name=f"{name}-volume-{k:04d}", size=size,
            volume_type=disk.volume_type, az=az, device=device, bootable=boot, multiattach=disk.multiattach,
            image_id=image.id if boot else None, image_name=image.name if boot else None, now=now,
            attach_delay=attach_delay, ready_delay=ready_delay)
        volume_docs.append(vol)
        attached.append({"id": vol["id"], "device": device, "boot_index": 0 if boot else -1,
                         "delete_on_termination": (boot if disk.delete_on_termination is None
                                                   else disk.delete_on_termination)})
    system_metadata = {
        "charging_mode": spec.charging_mode, "vpc_id": spec.vpc_id, "image_name": image.name,
        "os_type": image.os_type, "os_bit": image.os_bit, "metering.image_id": image.id,
        "metering.imagetype": image.imagetype, "metering.resourcespeccode": flavor.id, "metering.resourcetype": "1",
    }
    doc = {
        "id": sid, "name": name, "project_id": project_id, "user_id": user_id, "created": now, "updated": now,
        "launched_at": None, "terminated_at": None, "vm_state": "building", "task_state": "scheduling",
        "power_state": servers.POWER_NOSTATE, "flavor_id": flavor.id, "image_id": image.id,
        "availability_zone": az, "host": host, "hypervisor_hostname": hypervisor_of(host, az),
        "vpc_id": spec.vpc_id, "nics": nics, "ips": [n["ip"] for n in nics], "security_groups": security_groups,
        "metadata": {**system_metadata, **spec.metadata}, "tags": list(spec.tags), "description": spec.description,
        "key_name": spec.key_name, "user_data": spec.user_data, "locked": False, "locked_reason": None,
        "volumes": attached, "reservation_id": reservation, "launch_index": index,
        "instance_name": "instance-" + os.urandom(4).hex(), "scheduler_hints": spec.scheduler_hints,
        "enterprise_project_id": spec.enterprise_project_id, "charging_mode": spec.charging_mode,
        "disk_config": spec.disk_config, "config_drive": "True" if spec.config_drive else "", "fault": None,
        "access_ipv4": spec.access_ipv4, "access_ipv6": spec.access_ipv6,
        "boot_from_volume": spec.boot_from_volume or spec.root_volume.volume_id is not None,
    }
    schedule(doc, now, build)
    return doc, volume_docs
