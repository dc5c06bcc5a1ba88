"""Servers: the Nova-style state model every face shares (vm_state / task_state / power_state), and the rules for
each lifecycle action. Pure functions over server docs; the services layer loads and stores them.

A server doc (the stored form; each API family renders its own view):
  id, name, project_id, user_id, created, updated, launched_at, vm_state, task_state, power_state, flavor_id,
  image_id, availability_zone, host, vpc_id, nics[{port_id, subnet_id, vpc_id, ip, mac, primary}], ips[],
  security_groups[{id, name}], metadata{}, tags["k=v"], description, key_name, locked, volumes[{id, device,
  boot_index, delete_on_termination}], reservation_id, launch_index, instance_name, hypervisor_hostname,
  scheduler_hints{}, enterprise_project_id, charging_mode, user_data, fault, and `_steps` (pending transitions).
"""

from __future__ import annotations

import hashlib

from ecsim.domain.errors import StateConflict
from ecsim.domain.timeline import AT, Timing, busy, schedule

# (vm_state) -> default status, and task_state overrides (nova.api.openstack.common._STATE_MAP).
_STATE_MAP: dict[str, tuple[str, dict[str, str]]] = {
    "active": ("ACTIVE", {
        "rebooting": "REBOOT", "reboot_pending": "REBOOT", "reboot_started": "REBOOT",
        "rebooting_hard": "HARD_REBOOT", "reboot_pending_hard": "HARD_REBOOT", "reboot_started_hard": "HARD_REBOOT",
        "updating_password": "PASSWORD", "rebuilding": "REBUILD", "rebuild_block_device_mapping": "REBUILD",
        "rebuild_spawning": "REBUILD", "migrating": "MIGRATING", "resize_prep": "RESIZE",
        "resize_migrating": "RESIZE", "resize_migrated": "RESIZE", "resize_finish": "RESIZE",
    }),
    "building": ("BUILD", {}),
    "stopped": ("SHUTOFF", {
        "resize_prep": "RESIZE", "resize_migrating": "RESIZE", "resize_migrated": "RESIZE",
        "resize_finish": "RESIZE", "rebuilding": "REBUILD", "rebuild_block_device_mapping": "REBUILD",
        "rebuild_spawning": "REBUILD",
    }),
    "resized": ("VERIFY_RESIZE", {"resize_reverting": "REVERT_RESIZE"}),
    "paused": ("PAUSED", {"migrating": "MIGRATING"}),
    "suspended": ("SUSPENDED", {}),
    "rescued": ("RESCUE", {}),
    "error": ("ERROR", {"rebuilding": "REBUILD", "rebuild_block_device_mapping": "REBUILD",
                        "rebuild_spawning": "REBUILD"}),
    "deleted": ("DELETED", {}),
    "soft-delete": ("SOFT_DELETED", {}),
    "shelved": ("SHELVED", {}),
    "shelved_offloaded": ("SHELVED_OFFLOADED", {}),
}

# Filtering by a stable status also returns the servers passing through its transitional ones (ECS list rule).
STATUS_FILTER_EXPANSION = {
    "ACTIVE": ("ACTIVE", "REBOOT", "HARD_REBOOT", "REBUILD", "MIGRATING", "RESIZE"),
    "SHUTOFF": ("SHUTOFF", "RESIZE", "REBUILD"),
    "ERROR": ("ERROR", "REBUILD"),
    "VERIFY_RESIZE": ("VERIFY_RESIZE", "REVERT_RESIZE"),
}
STATUSES = (
    "ACTIVE", "BUILD", "ERROR", "HARD_REBOOT", "MIGRATING", "REBOOT", "REBUILD", "RESIZE", "REVERT_RESIZE",
    "SHUTOFF", "VERIFY_RESIZE", "DELETED", "SHELVED", "SHELVED_OFFLOADED", "UNKNOWN", "PAUSED", "SUSPENDED",
)

POWER_NOSTATE, POWER_RUNNING, POWER_SHUTDOWN = 0, 1, 4


def status(doc: dict) -> str:
    vm = doc.get("vm_state")
    entry = _STATE_MAP.get(vm or "")
    if entry is None:
        return "UNKNOWN"
    default, overrides = entry
    return overrides.get(doc.get("task_state") or "", default)


def host_id(project_id: str, host: str | None) -> str:
    """Nova's hostId: sha224(project_id + host), empty without a host."""
    if not host:
        return ""
    return hashlib.sha224((project_id + host).encode()).hexdigest()


FACETS_VERSION = 1  # bump when facets() changes: the runtime recomputes them for stored servers


def facets(doc: dict) -> tuple[tuple[str, str], ...]:
    """The attributes server lists filter on (store/query.py). A tag is findable by `key=value` and by its key."""
    out = [("name", doc["name"]), ("flavor", doc["flavor_id"]), ("image", doc["image_id"]),
           ("az", doc["availability_zone"]), ("ep", doc.get("enterprise_project_id") or "0")]
    if doc.get("reservation_id"):
        out.append(("reservation", doc["reservation_id"]))
    if doc.get("key_name"):
        out.append(("key_name", doc["key_name"]))
    out += [("ip", ip) for ip in doc.get("ips", [])]
    for tag in doc.get("tags", []):
        out.append(("tag", tag))
        key = tag.split("=", 1)[0]
        if key != tag:
            out.append(("tag", key))
    for key, value in (doc.get("metadata") or {}).items():
        out += [("meta", f"{key}={value}"), ("metakey", key)]
    return tuple(dict.fromkeys(out))


def is_deleted(doc: dict) -> bool:
    return doc.get("vm_state") == "deleted"


# -- lifecycle rules ----------------------------------------------------------------------------------------------
def create_steps(timing: Timing) -> list[tuple[float, dict]]:
    """BUILD: scheduling -> networking -> block_device_mapping -> spawning -> ACTIVE."""
    return [
        (timing("create.scheduling"), {"task_state": "networking"}),
        (timing("create.networking"), {"task_state": "block_device_mapping"}),
        (timing("create.block_device_mapping"), {"task_state": "spawning"}),
        (timing("create.spawning"), {"vm_state": "active", "task_state": None, "power_state": POWER_RUNNING,
                                     "launched_at": AT}),
    ]


def _require(doc: dict, action: str, vm_states: tuple[str, ...]) -> None:
    if is_deleted(doc):
        raise StateConflict("instance", doc["id"], action, "vm_state", "deleted")
    if doc.get("task_state") is not None or busy(doc):
        raise StateConflict("instance", doc["id"], action, "task_state", doc.get("task_state"))
    if doc.get("vm_state") not in vm_states:
        raise StateConflict("instance", doc["id"], action, "vm_state", doc.get("vm_state"))


def check_start(doc: dict) -> None:
    _require(doc, "start", ("stopped",))


def check_stop(doc: dict) -> None:
    _require(doc, "stop", ("active", "error"))


def check_reboot(doc: dict, hard: bool) -> None:
    _require(doc, "reboot", ("active", "stopped", "error") if hard else ("active",))


def check_delete(doc: dict) -> None:
    if is_deleted(doc) or doc.get("task_state") == "deleting":
        raise StateConflict("instance", doc["id"], "delete", "task_state", "deleting")


def start(doc: dict, now: float, timing: Timing) -> None:
    check_start(doc)
    schedule(doc, now, [
        (0.0, {"task_state": "powering-on"}),
        (timing("start"), {"vm_state": "active", "task_state": None, "power_state": POWER_RUNNING}),
    ])


def stop(doc: dict, now: float, timing: Timing, hard: bool = False) -> None:
    check_stop(doc)
    schedule(doc, now, [
        (0.0, {"task_state": "powering-off"}),
        (timing("stop.hard" if hard else "stop.soft"),
         {"vm_state": "stopped", "task_state": None, "power_state": POWER_SHUTDOWN}),
    ])


def reboot(doc: dict, now: float, timing: Timing, hard: bool) -> None:
    check_reboot(doc, hard)
    task = "rebooting_hard" if hard else "rebooting"
    schedule(doc, now, [
        (0.0, {"task_state": task}),
        (timing("reboot.hard" if hard else "reboot.soft"),
         {"vm_state": "active", "task_state": None, "power_state": POWER_RUNNING}),
    ])


def delete(doc: dict, now: float, timing: Timing) -> None:
    check_delete(doc)
    doc.pop("_steps", None)  # deletion overrides whatever was in flight
    schedule(doc, now, [
        (0.0, {"task_state": "deleting"}),
        (timing("delete"), {"vm_state": "deleted", "task_state": None, "power_state": POWER_NOSTATE,
                            "terminated_at": AT}),
    ])
