"""Server use cases over the store, shared by every API face (Huawei ECS v1/v1.1 now, Nova later): they load docs,
apply the domain rules, write the result and its job in one transaction, and raise DomainErrors for the faces to
render. A batch either passes validation for every server or changes none."""

from __future__ import annotations

import base64
import binascii
import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from ecsim.config import quota_limit
from ecsim.domain import jobs, network, provision, servers, tags, volumes
from ecsim.domain.catalogs import Flavor, Image
from ecsim.domain.errors import DomainError, InvalidInput, NotFound, QuotaExceeded
from ecsim.domain.groups import NO_VALID_HOST
from ecsim.domain.provision import ServerSpec, VolumeSpec
from ecsim.domain.timeline import final_at, settle
from ecsim.ids import new_uuid
from ecsim.runtime import Runtime
from ecsim.services import block, groups
from ecsim.services.block import save_volume
from ecsim.services.server_rows import lock_servers, save_job, save_server, server_put, settle_due
from ecsim.store import Cond, Row, SqlStore, like_escape

NAME_RE = re.compile(r"^[\w.\-\u4e00-\u9fff]+$")
MAX_COUNT = 100
MAX_METADATA = 10  # user metadata pairs per server
NO_HOST_CODE = "Ecs.0000"  # the code of a creation the scheduler could not place (unverified)


# -- reads --------------------------------------------------------------------------------------------------------
def volumes_by_id(rt: Runtime, docs: list[dict], now: float) -> dict[str, dict]:
    """The volumes attached to these servers, settled at `now`."""
    ids = [v["id"] for d in docs for v in d.get("volumes", [])]
    rows = rt.store.get_many("volume", ids)
    out = {}
    for vid, row in rows.items():
        settle(row.doc, now)
        out[vid] = row.doc
    return out


@dataclass
class ServerFilter:
    name: str | None = None  # fuzzy; "." matches any single character
    statuses: tuple[str, ...] | None = None
    flavor_id: str | None = None
    image_id: str | None = None
    ip: str | None = None  # fuzzy
    ip_eq: str | None = None
    tags: str | None = None
    not_tags: str | None = None
    reservation_id: str | None = None
    availability_zone: str | None = None  # fuzzy
    availability_zone_eq: str | None = None
    key_name: str | None = None
    enterprise_project_id: str | None = None
    metadata: tuple[str, str] | None = None
    metadata_key: str | None = None
    launched_since: float | None = None
    enterprise_projects: tuple[str, ...] | None = None

    def conds(self) -> list[Cond]:
        c: list[Cond] = []
        if self.statuses:
            c.append(Cond("in", "status", self.statuses))
        for op, key, value in (
            ("facet", "flavor", self.flavor_id),
            ("facet", "image", self.image_id),
            ("facet", "reservation", self.reservation_id),
            ("facet", "az", self.availability_zone_eq),
            ("facet", "key_name", self.key_name),
            ("facet", "ip", self.ip_eq),
            ("facet", "tag", self.tags),
            ("nofacet", "tag", self.not_tags),
            ("facet", "meta", f"{self.metadata[0]}={self.metadata[1]}" if self.metadata else None),
            ("facet", "metakey", self.metadata_key),
            ("facet_like", "name", _fuzzy(self.name, dot_is_any=True)),
            ("facet_like", "ip", _fuzzy(self.ip)),
            ("facet_like", "az", _fuzzy(self.availability_zone)),
        ):
            if value is not None:
                c.append(Cond(op, key, value))
        if self.enterprise_projects is not None:  # a list allowed only through enterprise-project grants
            c.append(Cond("facet_in", "ep", self.enterprise_projects))
        if self.enterprise_project_id and self.enterprise_project_id != "all_granted_eps":
            c.append(Cond("facet", "ep", self.enterprise_project_id))
        return c


def _fuzzy(text: str | None, *, dot_is_any: bool = False) -> str | None:
    """A LIKE pattern matching `text` anywhere (ECS name filters let "." match any character)."""
    if not text:
        return None
    pattern = like_escape(text)
    return "%" + (pattern.replace(".", "_") if dot_is_any else pattern) + "%"


def list_servers(rt: Runtime, project_id: str | None, flt: ServerFilter, now: float, *, limit: int,
                 offset: int = 0, marker: str | None = None, with_count: bool = False, order: str = "created",
                 descending: bool = True, kind: str = "server", view: tuple | None = None
                 ) -> tuple[list[Row], int | None]:
    """A page of servers, newest first (or by `order`: created, name or id), their docs settled at `now` (rows carry
    the version for view caches). `project_id` None lists every project's (Nova's all_tenants, for admins).
    `kind` DELETED_KIND lists what stays of deleted servers, most recently deleted first. `view`: the key the caller
    renders the rows with (Runtime.row_view); where the store prefers it (Dialect.lazy_docs) only the rows whose view
    is not cached then carry their doc."""
    settle_due(rt, project_id, now)
    conds = flt.conds()
    if marker is not None:
        row = rt.store.get(kind, marker)
        if row is None or (project_id is not None and row.scope != project_id):
            raise InvalidInput(f"marker [{marker}] not found", reason="marker_not_found")
        at = row.created if order == "created" else row.doc["name"] if order == "name" else row.id
        conds.append(Cond("before" if descending else "after", order, (at, row.id)))
    rows = rt.select_for_view(kind, project_id, conds, view if flt.launched_since is None else None, limit=limit,
                              offset=offset, order=order, newest_first=descending)
    total = rt.store.count(kind, project_id, flt.conds()) if with_count else None
    out = []
    for r in rows:
        if r.settle_at is not None:  # only rows with pending steps need their doc (and settling) here
            settle(r.doc, now)
        if flt.launched_since is not None and (r.doc.get("launched_at") or 0) < flt.launched_since:
            continue
        out.append(r)
    return out, total


# -- create -------------------------------------------------------------------------------------------------------
def validate_name(name: str, *, max_len: int = 64) -> None:
    if not name or len(name) > max_len:
        raise DomainError(f"The server name must be 1 to {max_len} characters long.", reason="name_too_long")
    if not NAME_RE.match(name):
        raise DomainError("The server name may contain only letters, digits, Chinese characters, '_', '-' and '.'.",
                          reason="name_invalid")


def validate_description(text: str | None) -> None:
    if text and (len(text) > 85 or any(c in text for c in "<>")):
        raise InvalidInput("description must be at most 85 characters and must not contain '<' or '>'.")


_META_KEY = re.compile(r"[A-Za-z0-9_\-:.]{1,255}")
_HOST_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
USER_DATA_MAX = 32 * 1024  # bytes, before base64 encoding


def validate_metadata(items: dict[str, str]) -> None:
    """ECS's rule for user metadata: keys of letters, digits, '_', '-', ':' and '.', 1-255; values up to 255."""
    for key, value in items.items():
        if not _META_KEY.fullmatch(key) or len(value) > 255:
            raise InvalidInput(f"Invalid metadata {key!r}: keys are 1 to 255 letters, digits, '_', '-', ':' or '.'; "
                               "values at most 255 characters.")


def validate_user_data(text: str | None) -> None:
    """Base64 of at most 32 KB of content."""
    if text is None:
        return
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("user_data must be base64-encoded.") from None
    if len(raw) > USER_DATA_MAX:
        raise InvalidInput(f"user_data holds {len(raw)} bytes; at most {USER_DATA_MAX} are allowed.")


def validate_hostname(name: str) -> None:
    """1-64 characters: dot-separated labels of letters, digits and '-' (not at either end of a label)."""
    if not 1 <= len(name) <= 64 or not all(_HOST_LABEL.fullmatch(label) for label in name.split(".")):
        raise InvalidInput(f"Invalid hostname {name!r}: 1 to 64 characters, dot-separated labels of letters, digits "
                           "and '-', neither starting nor ending with '-' or '.'.")


def validate_admin_pass(password: str) -> None:
    classes = sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                   any(c.isdigit() for c in password), any(not c.isalnum() for c in password)))
    if not 8 <= len(password) <= 26 or classes < 3:
        raise DomainError("The password must be 8 to 26 characters long and contain at least three of: uppercase "
                          "letters, lowercase letters, digits and special characters.", reason="password_weak")


def usage(rt: Runtime, project_id: str) -> dict[str, int]:
    """What a project uses of the compute quotas ecsim counts (Nova's and ECS's limits)."""
    by_flavor = rt.store.group_count("server", project_id, "flavor_id")
    return {"instances": sum(by_flavor.values()),
            "cores": sum(n * rt.flavors[f].vcpus for f, n in by_flavor.items() if f in rt.flavors),
            "ram": sum(n * rt.flavors[f].ram for f, n in by_flavor.items() if f in rt.flavors),
            "server_groups": rt.store.count("server_group", project_id)}


def absolute_limits(rt: Runtime, project_id: str) -> dict[str, int]:
    """The project's compute limits and what it uses, as Nova's limits name them (ECS's name them alike)."""
    used = usage(rt, project_id)
    return {
        "maxTotalInstances": quota_limit(rt.config, "instances"), "totalInstancesUsed": used["instances"],
        "maxTotalCores": quota_limit(rt.config, "cores"), "totalCoresUsed": used["cores"],
        "maxTotalRAMSize": quota_limit(rt.config, "ram"), "totalRAMUsed": used["ram"],
        "maxServerGroups": quota_limit(rt.config, "server_groups"), "totalServerGroupsUsed": used["server_groups"],
        "maxServerGroupMembers": quota_limit(rt.config, "server_group_members"),
        "maxServerMeta": MAX_METADATA, "maxPersonality": 5, "maxPersonalitySize": 10240, "maxTotalKeypairs": 100,
        "maxSecurityGroups": 10, "maxSecurityGroupRules": 20, "maxTotalFloatingIps": 10, "totalFloatingIpsUsed": 0,
        "totalSecurityGroupsUsed": 1, "maxImageMeta": 128,
    }


def check_quota(tx: SqlStore, rt: Runtime, project_id: str, instances: int, cores: int, ram: int) -> None:
    """Room for this many more instances, cores and MiB of RAM (a resize asks for the difference)."""
    usage = tx.group_count("server", project_id, "flavor_id")
    used_instances = sum(usage.values())
    used_cores = sum(n * rt.flavors[f].vcpus for f, n in usage.items() if f in rt.flavors)
    used_ram = sum(n * rt.flavors[f].ram for f, n in usage.items() if f in rt.flavors)
    for name, used, asked in (("instances", used_instances, instances), ("cores", used_cores, cores),
                              ("ram", used_ram, ram)):
        if asked <= 0:
            continue
        limit = quota_limit(rt.config, name)
        if used + asked > limit:
            raise QuotaExceeded(
                f"Quota exceeded for {name}: requested {asked}, but already used {used} of {limit} {name}.",
                resource=name, used=used, limit=limit,
            )


def get_flavor(rt: Runtime, flavor_id: str) -> Flavor:
    flavor = rt.flavors.get(flavor_id)
    if flavor is None:
        raise DomainError(f"The flavor {flavor_id} does not exist.", reason="flavor_not_found")
    return flavor


def usable_image(rt: Runtime, project_id: str, image_id: str, flavor: Flavor) -> Image:
    """An active image this project may boot, whose minimum RAM the flavor has."""
    image = rt.image(project_id, image_id)
    if image is None:
        raise DomainError(f"The image {image_id} does not exist.", reason="image_not_found")
    if image.status != "active":
        raise DomainError(f"The image {image_id} is not in Active state.", reason="image_not_active")
    if image.min_ram and flavor.ram < image.min_ram:
        raise DomainError("The flavor does not match the image.", reason="flavor_image_mismatch")
    return image


def _zones(rt: Runtime, spec: ServerSpec, flavor: Flavor, az: str, count: int, *, spread: bool) -> list[str]:
    """Each server's zone: `az` for all, or with batch_create_in_multi_az and no zone asked for (nor a group or an
    existing disk, which tie the batch to one zone), round robin over the zones that sell the flavor."""
    if not (spec.multi_az and spread and spec.availability_zone is None and count > 1):
        return [az] * count
    sold = [z for z in rt.config.availability_zones if flavor.sellable_in(z)
            and flavor.az_status.get(z, flavor.status) != "abandon"] or [az]
    start = sold.index(az) if az in sold else 0
    return [sold[(start + i) % len(sold)] for i in range(count)]


def check_sellable(flavor: Flavor, az: str) -> None:
    if flavor.az_status.get(az, flavor.status) == "abandon":
        raise DomainError(f"Flavor {flavor.id} is abandoned.", reason="flavor_abandoned")
    if not flavor.sellable_in(az):
        raise DomainError(f"Insufficient resources for flavor {flavor.id} in {az}. Try another flavor.",
                          reason="flavor_sold_out")


def create_servers(rt: Runtime, project_id: str, user_id: str, spec: ServerSpec, *, count: int = 1,
                   auto_rename: bool = True, dry_run: bool = False, now: float,
                   face: str = "ecs") -> tuple[dict | None, list[str]]:
    """Validate everything, then (unless dry_run) write the servers, their disks and the create job. The `face`
    "nova" keeps Nova's rules where they differ from ECS's: its own name and password checks (done before
    calling), servers without NICs (networks "none"), the first zone by default, and name-1, name-2, ..."""
    if not 1 <= count <= MAX_COUNT:
        raise DomainError(f"count must be between 1 and {MAX_COUNT}.", reason="count_invalid")
    if face == "ecs":  # Nova checks its own name rule (1-255 characters) and takes any description
        validate_name(spec.name, max_len=59 if count > 1 and auto_rename else 64)
        validate_description(spec.description)
    if spec.admin_pass is not None and face == "ecs":  # Nova takes any password
        validate_admin_pass(spec.admin_pass)
    flavor = get_flavor(rt, spec.flavor_id)
    root = spec.root_volume
    existing = [v.volume_id for v in (root, *spec.data_volumes) if v.volume_id]
    if existing and count != 1:
        raise InvalidInput("Cannot attach one or more volumes to multiple instances")
    if len(set(existing)) != len(existing):
        raise InvalidInput("Block Device Mapping is Invalid: a volume is mapped more than once.")
    boot_volume = _boot_volume(rt, project_id, root.volume_id, now) if root.volume_id else None
    image = usable_image(rt, project_id, boot_volume["image_id"] if boot_volume else spec.image_id, flavor)
    azs = rt.config.availability_zones
    # ECS places a server without a zone anywhere; Nova's face uses the first zone, where Cinder puts volumes by
    # default, so a volume created without a zone can be attached to it (and a server booting from a volume goes
    # to that volume's zone)
    az = spec.availability_zone or (boot_volume["availability_zone"] if boot_volume else
                                    azs[0] if face == "nova" else random.choice(azs))
    if az not in azs:
        raise DomainError(f"The availability zone {az} does not exist.", reason="az_not_found")
    check_sellable(flavor, az)
    if boot_volume is None:
        _check_volume(root, system=True)
    root_size = boot_volume["size"] if boot_volume else root.size or image.min_disk
    if root_size < image.min_disk:
        raise InvalidInput(f"root_volume.size {root_size} is smaller than the image's minimum disk "
                           f"{image.min_disk} GB.")
    if len(spec.data_volumes) > 23:
        raise DomainError("At most 23 data disks can be attached.", reason="too_many_volumes")
    for v in spec.data_volumes:
        if v.volume_id is None:
            _check_volume(v, system=False)
    if (not spec.nics and face == "ecs") or len(spec.nics) > 12:
        raise InvalidInput("nics must list 1 to 12 network interfaces.")
    if len(spec.metadata) > MAX_METADATA:
        raise DomainError(f"metadata may hold at most {MAX_METADATA} key-value pairs.", reason="metadata_quota")
    most = tags.ECS_MAX if face == "ecs" else tags.NOVA_MAX
    if len(spec.tags) > most:
        raise DomainError(f"A server can have at most {most} tags.", reason="tags_invalid")

    with rt.store.write() as tx:
        vpc = tx.get("vpc", spec.vpc_id)
        if vpc is None or vpc.scope != project_id:
            raise DomainError(f"The VPC {spec.vpc_id} does not exist.", reason="vpc_not_found")
        subnets: dict[str, dict] = {}
        for nic in spec.nics:
            if nic.subnet_id not in subnets:
                subnet, _ = network.get_subnet(tx, project_id, nic.subnet_id)
                if subnet["vpc_id"] != spec.vpc_id:
                    raise DomainError(f"The subnet {nic.subnet_id} does not belong to VPC {spec.vpc_id}.",
                                      reason="subnet_vpc_mismatch")
                subnets[nic.subnet_id] = subnet
            if nic.ip_address and count > 1:
                raise InvalidInput("A fixed ip_address cannot be used when count is greater than 1.")
            if nic.ip_address:
                network.check_ip(subnets[nic.subnet_id], nic.ip_address)
        sgs = []
        for sg_id in spec.security_group_ids or []:
            row = tx.get("secgroup", sg_id)
            if row is None or row.scope != project_id:
                raise DomainError(f"The security group {sg_id} does not exist.", reason="secgroup_not_found")
            sgs.append({"id": sg_id, "name": row.doc["name"]})
        if not sgs:
            default = tx.select("secgroup", project_id, [Cond("eq", "name", "default")], limit=1)
            sgs = [{"id": r.id, "name": "default"} for r in default]
        check_quota(tx, rt, project_id, count, flavor.vcpus * count, flavor.ram * count)
        disks = [*([] if boot_volume else [root_size]), *(v.size or 10 for v in spec.data_volumes if not v.volume_id)]
        block.check_quota(tx, rt, project_id, len(disks) * count, sum(disks) * count)  # the disks are EVS volumes
        attach = [_attachable(tx, rt, project_id, vid, az, now) for vid in existing]
        group = (spec.scheduler_hints.get("group") or [None])[0]
        zones = _zones(rt, spec, flavor, az, count, spread=group is None and not existing)
        try:
            if len(set(zones)) == 1:
                hosts = groups.hosts_for(tx, rt, project_id, group, az, count)
            else:  # no group: a host of each server's own zone
                hosts = [groups.hosts_for(tx, rt, project_id, None, z, 1)[0] for z in zones]
        except NotFound as exc:  # a bad reference in the body, like an unknown VPC: 400
            raise InvalidInput(f"The server group {group} does not exist.") from exc

        reservation = "r-" + os.urandom(4).hex()
        timing = rt.timing
        server_docs, volume_docs, subs, ids = [], [], [], []
        for i, host in enumerate(hosts):
            name = spec.name if count == 1 or not auto_rename else \
                f"{spec.name}-{i + 1:04d}" if face == "ecs" else f"{spec.name}-{i + 1}"
            if host is None and face == "nova":  # Nova keeps the server, in ERROR with "No valid host"
                doc, _ = provision.build_server(
                    replace(spec, nics=[]), project_id=project_id, user_id=user_id, name=name, index=i, az=az,
                    host=f"pod01.{az}", subnets={}, security_groups=sgs, reservation=reservation, image=image,
                    flavor=flavor, root_size=root_size, now=now, timing=timing)
                servers.unplaced(doc, now, NO_VALID_HOST)
                server_docs.append(doc)
                ids.append(doc["id"])
                subs.append(jobs.sub_job("createSingleServer", now, now, {"server_id": doc["id"]},
                                         error_code=NO_HOST_CODE, fail_reason=NO_VALID_HOST))
                continue
            if host is None:  # ECS: the group's policy leaves no host: this server's creation fails and rolls back
                ids.append(new_uuid())
                sched = now + timing("create.scheduling")
                subs.append(jobs.sub_job("createSingleServer", now, sched, {"server_id": ids[-1]},
                                         error_code=NO_HOST_CODE, fail_reason=NO_VALID_HOST))
                continue
            doc, vols = provision.build_server(
                spec, project_id=project_id, user_id=user_id, name=name, index=i, az=zones[i], host=host,
                subnets=subnets, security_groups=sgs, reservation=reservation, image=image, flavor=flavor,
                root_size=root_size, now=now, timing=timing)
            server_docs.append(doc)
            volume_docs.extend(vols)
            ids.append(doc["id"])
            subs.append(jobs.sub_job("createSingleServer", now, final_at(doc, now), {"server_id": doc["id"]}))
        if dry_run:
            return None, ids
        for subnet in subnets.values():
            network.put_network(tx, "subnet", subnet, new=False)
        for d in server_docs:
            save_server(tx, d, now, new=True)
            devices = {v["id"]: v["device"] for v in d["volumes"]}
            for vol in attach:  # count is 1: the existing volumes go to this server
                volumes.attach_servers(vol, now, timing, [(d["id"], devices[vol["id"]])])
                save_volume(tx, vol, now, facets=True)
        for v in volume_docs:
            save_volume(tx, v, now, new=True)
        job = jobs.new_job(project_id, "createServer", now, subs=subs, init_window=timing("job.init"))
        save_job(tx, job)
    return job, ids


def _existing_volume(rt: Runtime, project_id: str, volume_id: str, now: float, tx: SqlStore | None = None) -> dict:
    """A volume a block device mapping names (locked inside `tx`); an unknown one is a bad mapping (Nova's 400)."""
    try:
        return block.load_volume(rt, project_id, volume_id, now, tx).doc
    except NotFound as exc:
        raise InvalidInput(f"Block Device Mapping is Invalid: failed to get volume {volume_id}.") from exc


def _boot_volume(rt: Runtime, project_id: str, volume_id: str, now: float) -> dict:
    """The existing volume a server boots from (Nova's messages): bootable, and made from an image ecsim knows."""
    vol = _existing_volume(rt, project_id, volume_id, now)
    if not vol.get("bootable"):
        raise InvalidInput(f"Block Device {volume_id} is not bootable.")
    if not vol.get("image_id"):
        raise InvalidInput(f"Block Device {volume_id} carries no image metadata; ecsim boots only volumes created "
                           "from an image.")
    return vol


def _attachable(tx: SqlStore, rt: Runtime, project_id: str, volume_id: str, az: str, now: float) -> dict:
    """An existing volume the new server will take, locked: in this project and zone, available."""
    vol = _existing_volume(rt, project_id, volume_id, now, tx)
    if vol["availability_zone"] != az:
        raise InvalidInput(f"Server and volumes are not in the same availability zone: volume {volume_id} is in "
                           f"{vol['availability_zone']}, the server in {az}.")
    if vol["status"] != "available" or volumes.busy(vol):
        raise InvalidInput(f"Invalid volume: volume '{volume_id}' status must be 'available'. Currently in "
                           f"'{vol['status']}'")
    return vol


def _check_volume(v: VolumeSpec, *, system: bool) -> None:
    if v.volume_type not in volumes.VOLUME_TYPES:
        raise InvalidInput(f"volumetype {v.volume_type!r} is not one of {', '.join(volumes.VOLUME_TYPES)}.")
    if v.size is not None:
        low, high = (1, 1024) if system else (10, 32768)
        if not (system and v.size == 0) and not low <= v.size <= high:
            which = "root_volume" if system else "data_volumes"
            raise InvalidInput(f"{which}.size must be between {low} and {high} GB.")


# -- batch actions ------------------------------------------------------------------------------------------------
_ACTIONS = {
    "start": ("startServer", "startSingleServer"),
    "stop": ("stopServer", "stopSingleServer"),
    "reboot": ("rebootServer", "rebootSingleServer"),
    "delete": ("deleteServer", "deleteSingleServer"),
}


_APPLY = {
    "start": lambda doc, now, timing, hard: servers.start(doc, now, timing),
    "stop": servers.stop,
    "reboot": servers.reboot,
}


def batch_action(rt: Runtime, project_id: str, ids: list[str], action: str, *, now: float,
                 hard: bool = False, check: Callable[[dict], None] | None = None) -> dict:
    """Start / stop / reboot: every server must allow the action (and pass `check`, e.g. Nova's lock), or the
    transaction rolls back and none changes."""
    timing = rt.timing
    apply = _APPLY[action]
    with rt.store.write() as tx:
        docs = lock_servers(tx, project_id, ids, now)
        puts, subs = [], []
        for doc in docs:
            if check is not None:
                check(doc)
            apply(doc, now, timing, hard)
            subs.append(jobs.sub_job(_ACTIONS[action][1], now, final_at(doc, now), {"server_id": doc["id"]}))
            put = server_put(doc, now)
            assert put is not None
            puts.append(put)
        tx.update_many(puts)
        job = jobs.new_job(project_id, _ACTIONS[action][0], now, subs=subs, init_window=timing("job.init"))
        save_job(tx, job)
    return job


def delete_servers(rt: Runtime, project_id: str, ids: list[str], *, now: float, delete_volume: bool = False,
                   check: Callable[[dict], None] | None = None) -> dict:
    timing = rt.timing
    with rt.store.write() as tx:
        docs = lock_servers(tx, project_id, ids, now)
        for doc in docs:
            if check is not None:
                check(doc)
            servers.check_delete(doc)
        vol_rows = tx.get_many("volume", [v["id"] for d in docs for v in d.get("volumes", [])], for_update=True)
        # The subnets before any counter moves: a create locks its subnet and then the counters, so taking them in
        # the other order here could deadlock against it (PostgreSQL).
        subnet_ids = sorted({nic["subnet_id"] for d in docs for nic in d.get("nics", [])})
        subnets = {sid: row.doc for sid, row in tx.get_many("subnet", subnet_ids, for_update=True).items()}
        subs = []
        for doc in docs:
            servers.delete(doc, now, timing)
            end = final_at(doc, now)
            for v in doc.get("volumes", []):
                row = vol_rows.get(v["id"])
                if row is None:
                    continue
                vol = row.doc
                settle(vol, now)
                drop = delete_volume or bool(v.get("delete_on_termination"))  # true for disks made with it
                volumes.release(vol, doc["id"], now, end - now, delete=drop)
                save_volume(tx, vol, now)
            for nic in doc.get("nics", []):
                if nic["subnet_id"] in subnets:
                    network.release_ip(subnets[nic["subnet_id"]], nic["ip"])
            subs.append(jobs.sub_job(_ACTIONS["delete"][1], now, end, {"server_id": doc["id"]}))
            save_server(tx, doc, now)
        for subnet in subnets.values():
            network.put_network(tx, "subnet", subnet, new=False)
        job = jobs.new_job(project_id, _ACTIONS["delete"][0], now, subs=subs, init_window=timing("job.init"))
        save_job(tx, job)
    return job


def rename_servers(rt: Runtime, project_id: str, ids: list[str], name: str, *, now: float,
                   dry_run: bool = False) -> list[str]:
    validate_name(name)
    with rt.store.write() as tx:
        docs = lock_servers(tx, project_id, ids, now)
        if dry_run:
            return [d["id"] for d in docs]
        for doc in docs:
            doc["name"] = name
            doc["updated"] = now
            save_server(tx, doc, now, facets=True)
    return [d["id"] for d in docs]


def update_server(rt: Runtime, project_id: str, server_id: str, changes: dict, *, now: float) -> dict:
    """Name, description, hostname, user data (rename refreshes the name filter's facet)."""
    if "name" in changes:
        validate_name(changes["name"])
    if "description" in changes:
        validate_description(changes["description"])
    if "hostname" in changes:
        validate_hostname(changes["hostname"])
    validate_user_data(changes.get("user_data"))
    with rt.store.write() as tx:
        doc = lock_servers(tx, project_id, [server_id], now)[0]
        doc.update(changes)
        doc["updated"] = now
        save_server(tx, doc, now, facets="name" in changes)
    return doc


# -- jobs ---------------------------------------------------------------------------------------------------------
def show_job(rt: Runtime, project_id: str, job_id: str, now: float) -> dict:
    parent_id, index = jobs.parent_of(job_id)
    found = rt.store.get_job(parent_id)
    job = jobs.unpack(found[1]) if found is not None and found[0] == project_id else None
    if job is None or jobs.expired(job, now) or index > len(job["subs"]):
        raise DomainError(f"Failed to query system tasks: job {job_id} does not exist.", reason="job_not_found")
    return jobs.render_sub(job, index, now) if index else jobs.render(job, now)
