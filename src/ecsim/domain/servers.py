"""Servers: the Nova-style state model every face shares (vm_state / task_state / power_state), and the rules for
each lifecycle action. Pure functions over server docs; the services layer loads and stores them.

A server doc (the stored form; each API family renders its own view):
  id, name, project_id, user_id, created, updated, launched_at, vm_state, task_state, power_state, flavor_id,
  image_id, availability_zone, host, vpc_id, nics[{port_id, subnet_id, vpc_id, ip, mac, primary}], ips[],
  security_groups[{id, name}], metadata{}, tags["k=v"], description, key_name, locked, volumes[{id, device,
  boot_index, delete_on_termination, tag?}], reservation_id, launch_index, instance_name, hypervisor_hostname,
  scheduler_hints{}, enterprise_project_id, charging_mode, user_data, fault, and `_steps` (pending transitions).
"""

from __future__ import annotations

import hashlib
import re

from ecsim.domain.errors import DomainError, InvalidInput, StateConflict
from ecsim.domain.timeline import AT, STEPS, Timing, busy, schedule
from ecsim.timefmt import iso_seconds_z

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
        "migrating": "MIGRATING", "resize_prep": "RESIZE", "resize_migrating": "RESIZE", "resize_migrated": "RESIZE",
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


FACETS_VERSION = 2  # bump when facets() changes: the runtime recomputes them for stored servers


def facets(doc: dict) -> tuple[tuple[str, str], ...]:
    """The attributes server lists filter on (store/query.py), as they will be once pending steps settle (facets
    are written with a change, not when its steps come due). A tag is findable by `key=value` and by its key;
    `group` makes a server group's members a query."""
    if doc.get("_steps"):
        doc = dict(doc)
        for _, patch in doc["_steps"]:
            doc.update(patch)
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
    out += [("group", g) for g in group_ids(doc)]
    return tuple(dict.fromkeys(out))


def group_ids(doc: dict) -> list[str]:
    hint = (doc.get("scheduler_hints") or {}).get("group")
    return [] if not hint else [hint] if isinstance(hint, str) else list(hint)


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
    if doc.get("vm_state") not in vm_states:  # the vm_state first, as Nova's check_instance_state
        raise StateConflict("instance", doc["id"], action, "vm_state", doc.get("vm_state"))
    if doc.get("task_state") is not None or busy(doc):
        raise StateConflict("instance", doc["id"], action, "task_state", doc.get("task_state"))


def check_start(doc: dict) -> None:
    _require(doc, "start", ("stopped",))


def check_stop(doc: dict) -> None:
    _require(doc, "stop", ("active", "error"))


# A HARD reboot may interrupt these (Nova's task_states.ALLOW_REBOOT): how a hung soft reboot is recovered.
_HARD_REBOOT_TASKS = (None, "rebooting", "reboot_pending", "reboot_started", "rebooting_hard", "resuming",
                      "unpausing", "pausing", "suspending")


def check_reboot(doc: dict, hard: bool) -> None:
    if not hard:
        _require(doc, "reboot", ("active",))
        return
    if is_deleted(doc):
        raise StateConflict("instance", doc["id"], "reboot", "vm_state", "deleted")
    if doc.get("vm_state") not in ("active", "stopped", "error", "paused", "suspended"):
        raise StateConflict("instance", doc["id"], "reboot", "vm_state", doc.get("vm_state"))
    if doc.get("task_state") not in _HARD_REBOOT_TASKS:
        raise StateConflict("instance", doc["id"], "reboot", "task_state", doc.get("task_state"))


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
    doc.pop("_steps", None)  # a HARD reboot replaces the reboot in flight (none other passes the check)
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


# -- actions on one stopped server: OS change and reinstall, resize, cold migration --------------------------------
def _stop_first(doc: dict, action: str, timing: Timing, stop_first: bool) -> tuple[list[tuple[float, dict]], bool]:
    """These actions need a stopped server (ECS: 400 Ecs.0100 otherwise); with `mode: withStopServer` a running one
    is stopped first. Returns the stopping steps and whether the server was running."""
    _require(doc, action, ("active", "stopped") if stop_first else ("stopped",))
    if doc["vm_state"] != "active":
        return [], False
    return [(0.0, {"task_state": "powering-off"}),
            (timing("stop.soft"), {"vm_state": "stopped", "task_state": None, "power_state": POWER_SHUTDOWN})], True


def rebuild(doc: dict, now: float, timing: Timing, changes: dict, *, stop_first: bool) -> None:
    """Change or reinstall the OS: REBUILD, and the server starts with the new system (as ECS does). The new image
    and login are recorded at once, as Nova records the rebuild's image when it starts."""
    stopping, _ = _stop_first(doc, "rebuild", timing, stop_first)
    doc.update(changes)
    schedule(doc, now, [
        *stopping,
        (0.0, {"task_state": "rebuilding"}),
        (timing("rebuild.block_device_mapping"), {"task_state": "rebuild_block_device_mapping"}),
        (timing("rebuild.spawning"), {"task_state": "rebuild_spawning"}),
        (timing("rebuild.start"), {"vm_state": "active", "task_state": None, "power_state": POWER_RUNNING,
                                   "launched_at": AT}),
    ])


def check_stopped(doc: dict, action: str) -> None:
    _require(doc, action, ("stopped",))


def check_resize(doc: dict, stop_first: bool) -> None:
    _require(doc, "resize", ("active", "stopped") if stop_first else ("stopped",))


def resize(doc: dict, now: float, timing: Timing, flavor_id: str, *, stop_first: bool) -> None:
    """ECS v1 resize confirms itself: RESIZE, then the new flavor in the state the server had (a server stopped
    for the resize by `withStopServer` is started again)."""
    stopping, running = _stop_first(doc, "resize", timing, stop_first)
    end = ({"vm_state": "active", "power_state": POWER_RUNNING} if running
           else {"vm_state": "stopped", "power_state": POWER_SHUTDOWN})
    schedule(doc, now, [
        *stopping,
        (0.0, {"task_state": "resize_prep"}),
        (timing("resize.migrating"), {"task_state": "resize_migrating"}),
        (timing("resize.finish"), {"task_state": "resize_finish", "flavor_id": flavor_id}),
        (timing("resize.confirm"), {**end, "task_state": None}),
    ])


def migrate(doc: dict, now: float, timing: Timing, host: str, hypervisor_hostname: str) -> None:
    """Cold migration of a stopped server: MIGRATING, then stopped on the new host."""
    check_stopped(doc, "migrate")
    schedule(doc, now, [
        (0.0, {"task_state": "migrating"}),
        (timing("migrate"), {"task_state": None, "host": host, "hypervisor_hostname": hypervisor_hostname}),
    ])


# -- disks on a server ---------------------------------------------------------------------------------------------
MAX_DISKS = 24  # the system disk and 23 data disks
DEVICE_RE = re.compile(r"^/dev/(?:vd|sd|xvd)[a-z]$")


ECS_ATTACH_STATES = ("active", "stopped")
# Nova also attaches to servers awaiting a resize confirmation (and paused / shelved ones, which ecsim has not).
NOVA_ATTACH_STATES = ("active", "stopped", "resized", "paused", "soft-delete", "shelved", "shelved_offloaded")


def check_attach(doc: dict, action: str = "attach_volume", vm_states: tuple[str, ...] = ECS_ATTACH_STATES) -> None:
    _require(doc, action, vm_states)


def next_device(doc: dict) -> str:
    used = {v["device"][-1] for v in doc.get("volumes", [])}
    for letter in "bcdefghijklmnopqrstuvwxyz":
        if letter not in used:
            return "/dev/vd" + letter
    raise DomainError("At most 24 disks can be attached to an ECS.", reason="too_many_volumes")


def check_device(doc: dict, device: str | None) -> str:
    """The device a new disk gets: the one asked for if it is free, else the next free /dev/vdX."""
    if len(doc.get("volumes", [])) >= MAX_DISKS:
        raise DomainError(f"At most {MAX_DISKS} disks can be attached to an ECS; server {doc['id']} has "
                          f"{MAX_DISKS}.", reason="too_many_volumes")
    if not device:
        return next_device(doc)
    if not DEVICE_RE.match(device):
        raise InvalidInput(f"device {device!r} must be a device name such as /dev/sdb or /dev/vdb.")
    if device[-1] == "a" or any(v["device"][-1] == device[-1] for v in doc.get("volumes", [])):
        raise DomainError(f"The device name {device} is already in use on server {doc['id']}.",
                          reason="device_in_use")
    return device


def add_volume(doc: dict, volume_id: str, device: str, now: float, *, tag: str | None = None,
               delete_on_termination: bool = False) -> None:
    entry = {"id": volume_id, "device": device, "boot_index": -1, "delete_on_termination": delete_on_termination}
    if tag is not None:
        entry["tag"] = tag
    doc.setdefault("volumes", []).append(entry)
    doc["updated"] = now


def remove_volume(doc: dict, volume_id: str, now: float) -> None:
    doc["volumes"] = [v for v in doc.get("volumes", []) if v["id"] != volume_id]
    doc["updated"] = now


# -- Nova's own rules: resize with confirmation, rebuild in place, locks -------------------------------------------
def check_lock(doc: dict, is_admin: bool) -> None:
    """A locked server refuses changes from everyone but admins (Nova: 409 "Instance <id> is locked")."""
    if doc.get("locked") and not is_admin:
        raise DomainError(f"Instance {doc['id']} is locked", reason="locked")


def nova_resize(doc: dict, now: float, timing: Timing, flavor_id: str) -> None:
    """RESIZE, then VERIFY_RESIZE (vm_state resized) showing the new flavor until confirmed or reverted."""
    _require(doc, "resize", ("active", "stopped"))
    doc["resize"] = {"old_flavor_id": doc["flavor_id"], "vm_state": doc["vm_state"],
                     "power_state": doc.get("power_state", POWER_RUNNING)}
    schedule(doc, now, [
        (0.0, {"task_state": "resize_prep"}),
        (timing("resize.migrating"), {"task_state": "resize_migrating"}),
        (timing("resize.finish"), {"task_state": "resize_finish", "flavor_id": flavor_id}),
        (timing("resize.confirm"), {"vm_state": "resized", "task_state": None}),
    ])


def _resized(doc: dict, action: str) -> dict:
    _require(doc, action, ("resized",))
    pending = doc.get("resize")
    if not pending:
        raise DomainError("Instance has not been resized.", reason="invalid")
    return pending


def confirm_resize(doc: dict, now: float) -> None:
    """Back to the state the server had before the resize (SHUTOFF when it was stopped), keeping the new flavor."""
    pending = _resized(doc, "confirmResize")
    del doc["resize"]
    doc.update(vm_state=pending["vm_state"], power_state=pending["power_state"], updated=now)


def revert_resize(doc: dict, now: float, timing: Timing) -> None:
    """REVERT_RESIZE, then the old flavor in the state the server had before."""
    pending = _resized(doc, "revertResize")
    del doc["resize"]
    schedule(doc, now, [
        (0.0, {"task_state": "resize_reverting"}),
        (timing("resize.finish"), {"vm_state": pending["vm_state"], "power_state": pending["power_state"],
                                   "task_state": None, "flavor_id": pending["old_flavor_id"]}),
    ])


def nova_rebuild(doc: dict, now: float, timing: Timing, changes: dict) -> None:
    """REBUILD in place; the server ends ACTIVE, or SHUTOFF when it was stopped (Nova's rebuild)."""
    _require(doc, "rebuild", ("active", "stopped", "error"))
    stopped = doc["vm_state"] == "stopped"
    doc.update(changes)
    end = ({"vm_state": "stopped", "power_state": POWER_SHUTDOWN} if stopped
           else {"vm_state": "active", "power_state": POWER_RUNNING})
    schedule(doc, now, [
        (0.0, {"task_state": "rebuilding"}),
        (timing("rebuild.block_device_mapping"), {"task_state": "rebuild_block_device_mapping"}),
        (timing("rebuild.spawning"), {"task_state": "rebuild_spawning"}),
        (timing("rebuild.start"), {**end, "task_state": None, "launched_at": AT}),
    ])


def lock(doc: dict, now: float, *, by: str, reason: str | None) -> None:
    if doc.get("locked"):
        return  # Nova: locking a locked server is a no-op
    doc.update(locked=True, locked_by=by, locked_reason=reason, updated=now)


def unlock(doc: dict, now: float) -> None:
    doc.update(locked=False, locked_by=None, locked_reason=None, updated=now)


def add_security_group(doc: dict, group: dict, now: float) -> None:
    """Nova addSecurityGroup (`group` = {"id", "name"}): a group already on the server is a 400."""
    groups = doc.get("security_groups", [])
    if any(g["id"] == group["id"] for g in groups):
        raise InvalidInput(f"Security group {group['name']} is already associated with the instance {doc['id']}")
    doc.update(security_groups=[*groups, group], updated=now)


def remove_security_group(doc: dict, group: dict, now: float) -> None:
    """Nova removeSecurityGroup: a group not on the server is a 400; the last one may go too."""
    groups = doc.get("security_groups", [])
    kept = [g for g in groups if g["id"] != group["id"]]
    if len(kept) == len(groups):
        raise InvalidInput(f"Security group {group['name']} is not associated with the instance {doc['id']}")
    doc.update(security_groups=kept, updated=now)


def unplaced(doc: dict, now: float, message: str) -> None:
    """Nova's server the scheduler found no host for: ERROR with its fault, on no host, with no ports and no disks
    (Nova allocates those only on a host)."""
    doc.pop(STEPS, None)
    doc.update(host=None, hypervisor_hostname=None, vm_state="error", task_state=None, power_state=POWER_NOSTATE,
               nics=[], ips=[], volumes=[], updated=now,
               fault={"code": 500, "created": iso_seconds_z(now), "message": message})
