"""Nova v2 / v2.1 servers: create, list (summary and detail), show, update, delete, and the actions on
`/servers/{id}/action` chosen by the body key (os-start, os-stop, reboot, resize, confirmResize, revertResize,
rebuild, lock, unlock). The same servers the Huawei ECS API shows; Nova's status codes, 409 messages and empty
202 bodies. Bodies are strict (unknown keys are 400, as Nova's schemas say)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import secrets
import string
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote, urlencode

import msgspec
from msgspec import UNSET, Struct, UnsetType, field

from ecsim.api import nova_views as views
from ecsim.api.nova import MAX_LIMIT, Strict, check_name, check_query, links, version
from ecsim.domain import console, servers, tags, volumes
from ecsim.domain.errors import DomainError, InvalidInput, NotFound
from ecsim.domain.provision import NicSpec, ServerSpec, VolumeSpec
from ecsim.http.context import JSON_HEADERS, Ctx, Response, convert, empty, json_response
from ecsim.services import compute, groups, keypairs, lifecycle
from ecsim.services.server_rows import DELETED_KIND, get_server, load_server
from ecsim.store import Cond, Row

REGEX_SCAN = 10000  # servers a regular-expression name filter looks at



# -- request bodies -------------------------------------------------------------------------------------------------
class Network(Strict):
    uuid: str | None = None
    port: str | None = None
    fixed_ip: str | None = None
    tag: str | None = None


class BlockDevice(Strict):
    boot_index: int | str | None = None
    uuid: str | None = None
    source_type: str | None = None
    destination_type: str | None = None
    volume_size: int | str | None = None
    volume_type: str | None = None
    delete_on_termination: bool | str = False
    device_name: str | None = None
    disk_bus: str | None = None
    device_type: str | None = None
    guest_format: str | None = None
    no_device: bool | None = None
    tag: str | None = None


class SecurityGroupName(Strict):
    name: str


class NovaServer(Strict):
    name: str
    flavorRef: str | int
    imageRef: str = ""
    networks: list[Network] | Literal["auto", "none"] | None = None
    adminPass: str | None = None
    metadata: dict[str, str] = {}
    key_name: str | None = None
    security_groups: list[SecurityGroupName] = []
    user_data: str | None = None
    availability_zone: str | None = None
    config_drive: bool | str | None = None
    min_count: int | str = 1
    max_count: int | str | None = None
    return_reservation_id: bool = False
    accessIPv4: str | None = None
    accessIPv6: str | None = None
    disk_config: Literal["AUTO", "MANUAL"] | None = field(default=None, name="OS-DCF:diskConfig")
    description: str | None = None
    tags: list[str] = []
    block_device_mapping_v2: list[BlockDevice] = []
    personality: list[dict] | None = None


class Hints(Struct):
    group: str | list[str] | None = None


class CreateBody(Strict):
    server: NovaServer
    hints: Hints | None = field(default=None, name="os:scheduler_hints")
    hints_alias: Hints | None = field(default=None, name="OS-SCH-HNT:scheduler_hints")


class UpdateServer(Strict):
    name: str | None = None
    description: str | None = None
    accessIPv4: str | None = None
    accessIPv6: str | None = None
    disk_config: Literal["AUTO", "MANUAL"] | None = field(default=None, name="OS-DCF:diskConfig")
    hostname: str | None = None


class UpdateBody(Strict):
    server: UpdateServer


class Reboot(Strict):
    type: Literal["HARD", "Hard", "hard", "SOFT", "Soft", "soft"]


class Resize(Strict):
    flavorRef: str | int
    disk_config: Literal["AUTO", "MANUAL"] | None = field(default=None, name="OS-DCF:diskConfig")


class Rebuild(Strict):
    imageRef: str
    name: str | None = None
    adminPass: str | None = None
    metadata: dict[str, str] | None = None
    preserve_ephemeral: bool = False
    disk_config: Literal["AUTO", "MANUAL"] | None = field(default=None, name="OS-DCF:diskConfig")
    accessIPv4: str | None = None
    accessIPv6: str | None = None
    personality: list[dict] | None = None
    description: str | None = None
    key_name: str | None = None
    user_data: str | None = None


class Lock(Strict):
    locked_reason: str | UnsetType = UNSET  # a string when given: null is 400 (Nova's schema)


# Request fields newer than Nova's first microversion (nova.md 5.1, 5.4): before it a request naming one is refused as
# an unknown property, after a removal too. (first, last) version; None: open.
_CREATE_FIELDS = {"description": ((2, 19), None), "tags": ((2, 52), None), "personality": (None, (2, 56))}
_UPDATE_FIELDS = {"description": ((2, 19), None), "hostname": ((2, 90), None)}
_REBUILD_FIELDS = {"description": ((2, 19), None), "key_name": ((2, 54), None), "user_data": ((2, 57), None),
                   "personality": (None, (2, 56))}


def _check_fields(ctx: Ctx, where: str, fields: dict[str, tuple]) -> None:
    """400 for a field of the body's `where` member that the request's microversion does not have (Nova's schemas:
    additionalProperties false); the legacy /v2 API drops it (relaxed schemas). Before the body is converted."""
    body = ctx.json.get(where) if isinstance(ctx.json, dict) else None
    if not isinstance(body, dict):
        return
    v = version(ctx)
    for key, (first, last) in fields.items():
        if key in body and ((first is not None and v < first) or (last is not None and v > last)):
            if ctx.relaxed:
                del body[key]
                continue
            raise InvalidInput(f"Invalid input for field/attribute {where}. Value: {body}. Additional "
                               f"properties are not allowed ('{key}' was unexpected)")


# -- helpers --------------------------------------------------------------------------------------------------------



def check_metadata(metadata: dict[str, str]) -> None:
    for key, value in metadata.items():
        if not 1 <= len(key) <= 255 or len(value) > 255:
            raise InvalidInput("Invalid input for field/attribute metadata: keys must be 1 to 255 characters and "
                               "values at most 255.")


def _check_key(ctx: Ctx, key_name: str | None) -> None:
    """A key_name must be one of the caller's key pairs (Nova: 400 "Invalid key_name provided.")."""
    assert ctx.principal is not None
    if key_name is not None and not keypairs.exists(ctx.rt.store, ctx.principal.user_id, key_name):
        raise InvalidInput("Invalid key_name provided.")


def _address(text: str | None, family: int) -> str | None:
    """accessIPv4 / accessIPv6: a valid address of that family, or "" / absent."""
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        address = None
    if address is None or address.version != family:
        raise InvalidInput(f"Invalid input for field/attribute accessIPv{family}. Value: {text}. '{text}' is not a "
                           f"'ipv{family}'")
    return str(address)  # Nova stores the normalized form


def _generated_password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(10)) + "!aA1"


def _count(value: int | str | None, what: str) -> int | None:
    if value is None:
        return None
    try:
        n = int(value)
    except ValueError as exc:
        raise InvalidInput(f"Invalid input for field/attribute {what}. Value: {value}.") from exc
    if n < 1:
        raise InvalidInput(f"Invalid input for field/attribute {what}. Value: {value}. must be at least 1")
    return n


def _flavor_id(ref: str | int) -> str:
    text = str(ref)
    if not text:
        raise InvalidInput("Invalid input for field/attribute flavorRef. Value: . '' is too short")
    return text.rstrip("/").rsplit("/", 1)[-1]  # an id or a flavor URL


def _server_view(ctx: Ctx, doc: dict, **kw: Any) -> dict:
    return views.server(ctx.rt, doc, links(ctx), version(ctx), **kw)


# -- create ---------------------------------------------------------------------------------------------------------
def _nics(ctx: Ctx, networks: list[Network] | str | None) -> tuple[str, list[NicSpec]]:
    """(VPC id, NICs) for Nova's `networks`: "auto" (or absent) is the project's first subnet, "none" no NIC, a
    list names subnets by id (Huawei's native networks are its subnets). An empty list requests no network in
    particular, which Nova treats as "auto" (the `openstack` CLI sends it below 2.37 when given no --nic)."""
    store, pid = ctx.rt.store, ctx.project
    if networks == "none" or networks == "auto" or not networks:
        subnet_rows = store.select("subnet", pid, newest_first=False, limit=1)
        vpc_rows = store.select("vpc", pid, newest_first=False, limit=1)
        if not vpc_rows:
            raise InvalidInput("Unable to automatically allocate a network for project " + pid)
        if networks == "none" or not subnet_rows:
            return vpc_rows[0].id, []
        return subnet_rows[0].doc["vpc_id"], [NicSpec(subnet_rows[0].id)]
    assert isinstance(networks, list)
    nics, vpc = [], None
    for net in networks:
        if net.port:
            raise InvalidInput("Ports (networks[].port) are not supported by ecsim yet; give networks[].uuid.")
        if not net.uuid:
            raise InvalidInput("Bad networks format: network uuid is required.")
        row = store.get("subnet", net.uuid)
        if row is None or row.scope != pid:
            raise InvalidInput(f"Network {net.uuid} could not be found.")
        if vpc not in (None, row.doc["vpc_id"]):
            raise InvalidInput("All networks of a server must belong to one VPC.")
        vpc = row.doc["vpc_id"]
        nics.append(NicSpec(net.uuid, net.fixed_ip))
    assert vpc is not None
    return vpc, nics


def _disks(s: NovaServer) -> tuple[str, VolumeSpec, list[VolumeSpec]]:
    """(image id, system disk, data disks) from imageRef and block_device_mapping_v2: an image or an existing
    volume to boot from, blank or existing volumes besides."""
    image_id, root, data = s.imageRef, VolumeSpec(volumes.DEFAULT_TYPE), []
    for bdm in s.block_device_mapping_v2:
        size = int(bdm.volume_size) if bdm.volume_size not in (None, "") else None
        boot = str(bdm.boot_index) == "0"
        volume_type = bdm.volume_type or volumes.DEFAULT_TYPE
        delete = str(bdm.delete_on_termination).lower() == "true"
        if bdm.source_type == "volume" and bdm.destination_type in (None, "volume"):
            if not bdm.uuid:
                raise InvalidInput("Block Device Mapping is Invalid: a volume mapping needs the volume's uuid.")
            existing = VolumeSpec(volume_type, None, False, delete, volume_id=bdm.uuid)
            if boot:
                image_id, root = "", existing
            else:
                data.append(existing)
        elif bdm.source_type == "image" and boot:  # a new boot volume: kept unless the mapping says otherwise
            image_id = bdm.uuid or image_id
            root = VolumeSpec(volume_type, size, False, delete)
        elif bdm.source_type == "blank" and not boot:
            if size is None:
                raise InvalidInput("Block device mapping: a blank volume needs volume_size.")
            data.append(VolumeSpec(volume_type, size, False, delete))
        else:
            raise InvalidInput(f"Block device mapping with source_type {bdm.source_type!r} (boot_index "
                               f"{bdm.boot_index}) is not supported by ecsim yet (images and existing volumes "
                               "boot; blank and existing volumes attach).")
    if not image_id and root.volume_id is None:
        raise InvalidInput("Block Device Mapping is Invalid: Boot sequence for the instance and image/block device "
                           "mapping combination is not valid.")
    return image_id, root, data


_CREATE_MESSAGES = {"flavor_not_found": "Invalid flavorRef provided.",
                    "image_not_found": "Can not find requested image",
                    "az_not_found": "The requested availability zone is not available"}


def _check_user_data(user_data: str | None) -> None:
    """Nova's schema: base64 text of at most 65535 characters."""
    if user_data is None:
        return
    if len(user_data) > 65535:
        raise InvalidInput(f"Invalid input for field/attribute user_data. Value: {user_data[:32]}... is too long")
    try:
        base64.b64decode(user_data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"Invalid input for field/attribute user_data. Value: {user_data}. "
                           f"'{user_data}' is not a 'base64'") from None


def _config_drive(value: bool | str | None) -> bool:
    """Nova's boolean: true/false and their string forms ("True", "1", ...); "" is false."""
    if isinstance(value, bool) or value is None:
        return bool(value)
    if value.lower() in ("", "false", "f", "0", "no", "n", "off"):
        return False
    if value.lower() in ("true", "t", "1", "yes", "y", "on"):
        return True
    raise InvalidInput(f"Invalid input for field/attribute config_drive. Value: {value}. '{value}' is not of type "
                       "'boolean'")


def create_server(ctx: Ctx) -> Response:
    """POST /servers -> 202 {"server": {id, links, OS-DCF:diskConfig, security_groups, adminPass}} + Location."""
    _check_fields(ctx, "server", _CREATE_FIELDS)
    body = ctx.body_as(CreateBody)
    s = body.server
    check_name(s.name)
    if version(ctx) >= (2, 37) and s.networks is None:
        raise InvalidInput("Invalid input for field/attribute networks: 'networks' is a required property")
    pid = ctx.project
    hints = body.hints or body.hints_alias
    group = hints.group if hints else None
    if isinstance(group, list):
        group = group[0] if group else None
    if group:
        try:
            groups.load_group(ctx.rt.store, pid, group)
        except NotFound as exc:
            raise InvalidInput(f"Instance group {group} could not be found.") from exc
    sg_ids = []
    for sg in s.security_groups:
        found = _security_group(ctx, sg.name)
        if found is None:
            raise InvalidInput(f"Security group {sg.name} not found for project {pid}.")
        sg_ids.append(found["id"])
    check_metadata(s.metadata)
    for tag in s.tags:
        tags.check_nova_tag(tag)
    _check_user_data(s.user_data)
    _check_key(ctx, s.key_name)
    vpc_id, nics = _nics(ctx, s.networks)
    image_id, root, data = _disks(s)
    admin_pass = s.adminPass or _generated_password()
    min_count, max_count = _count(s.min_count, "min_count"), _count(s.max_count, "max_count")
    count = max_count or min_count or 1
    if min_count and max_count and min_count > max_count:
        raise InvalidInput("min_count must be <= max_count")
    spec = ServerSpec(
        name=s.name, image_id=image_id, flavor_id=_flavor_id(s.flavorRef), vpc_id=vpc_id, nics=nics,
        root_volume=root, data_volumes=data, availability_zone=s.availability_zone, key_name=s.key_name,
        admin_pass=admin_pass, user_data=s.user_data, metadata=dict(s.metadata), security_group_ids=sg_ids,
        tags=list(s.tags), description=s.description or "",
        scheduler_hints={"group": [group]} if group else {},
        access_ipv4=_address(s.accessIPv4, 4), access_ipv6=_address(s.accessIPv6, 6),
        disk_config=s.disk_config or "MANUAL", config_drive=_config_drive(s.config_drive),
        boot_from_volume=not s.imageRef)
    assert ctx.principal is not None
    try:
        _, ids = compute.create_servers(ctx.rt, pid, ctx.principal.user_id, spec, count=count, now=ctx.now,
                                        face="nova")
    except DomainError as exc:
        if exc.reason == "group_member_quota":
            raise DomainError("Quota exceeded, too many servers in group", reason="quota") from exc
        if exc.reason == "metadata_quota":
            raise DomainError(f"Quota exceeded for metadata_items: {exc.message}", reason="quota") from exc
        if exc.reason == "quota":
            raise
        # Nova answers 400 for what the create refuses, in its own words where it has them
        raise InvalidInput(_CREATE_MESSAGES.get(exc.reason, exc.message)) from exc
    try:
        doc: dict | None = get_server(ctx.rt, pid, ids[0], ctx.now)
    except NotFound:  # the scheduler found no host: the server failed and was rolled back
        doc = None
    if s.return_reservation_id:
        return json_response(202, {"reservation_id": doc["reservation_id"] if doc else ""})
    lk = links(ctx)
    names = [g["name"] for g in doc["security_groups"]] if doc else [g.name for g in s.security_groups]
    out = {"id": ids[0], "links": lk.pair("servers", ids[0]), "OS-DCF:diskConfig": s.disk_config or "MANUAL",
           "security_groups": [{"name": n} for n in names or ["default"]], "adminPass": admin_pass}
    return json_response(202, {"server": out}, [(b"location", out["links"][0]["href"].encode())])


# -- reads ----------------------------------------------------------------------------------------------------------
# Nova's index_query_v275 properties: other keys are refused from 2.75.
_LIST_PARAMS = {"limit", "marker", "name", "status", "image", "flavor", "changes-since", "ip", "sort_key",
                "sort_dir", "all_tenants", "project_id", "deleted", "reservation_id", "availability_zone",
                "locked", "tags", "tags-any", "not-tags", "not-tags-any", "changes-before", "key_name",
                "description", "host", "node", "uuid", "user_id", "launched_at", "terminated_at", "ip6", "vm_state",
                "power_state", "task_state", "config_drive", "progress", "created_at", "display_name", "tenant_id",
                "image_ref", "hostname", "soft_deleted", "access_ip_v4", "access_ip_v6", "auto_disk_config",
                "display_description", "kernel_id", "ramdisk_id", "root_device_name", "launch_index", "os_type",
                "architecture", "vm_mode", "cell_name", "default_ephemeral_device", "default_swap_device",
                "updated_at", "ephemeral_gb", "memory_mb", "vcpus", "root_gb", "info_cache"}


def _doc_filters(ctx: Ctx) -> list[Callable[[dict], bool]]:
    """The filters no index serves, as predicates on the server doc: locks, any-of tags, who and where."""
    preds: list[Callable[[dict], bool]] = []
    locked = ctx.q("locked")
    if locked is not None and version(ctx) >= (2, 73):
        if locked.lower() not in _TRUE | _FALSE:
            raise InvalidInput(f"Invalid input for query parameters locked. Value: {locked}.")
        want = locked.lower() in _TRUE
        preds.append(lambda d: bool(d.get("locked")) is want)
    for key, negate in (("tags-any", False), ("not-tags-any", True)):
        if ctx.q(key):
            wanted = set((ctx.q(key) or "").split(","))
            preds.append(lambda d, w=wanted, n=negate: bool(w & set(d.get("tags", []))) is not n)
    if "," in (ctx.q("tags") or ""):  # every one of these tags (the index looks up the first)
        all_of = set((ctx.q("tags") or "").split(","))
        preds.append(lambda d: all_of <= set(d.get("tags", [])))
    if ctx.q("not-tags"):  # excludes the servers that have every one of these tags
        every = set((ctx.q("not-tags") or "").split(","))
        preds.append(lambda d: not every <= set(d.get("tags", [])))
    for key, field_of in (("uuid", "id"), ("user_id", "user_id"), ("host", "host"), ("node", "hypervisor_hostname"),
                          ("description", "description"), ("vm_state", "vm_state"), ("task_state", "task_state"),
                          ("tenant_id", "project_id")):
        value = ctx.q(key)
        if value is not None:
            preds.append(lambda d, v=value, f=field_of: str(d.get(f) or "") == v)
    if ctx.q("power_state") is not None:
        power = ctx.q_int("power_state", None, low=0)
        preds.append(lambda d: d.get("power_state", 0) == power)
    if ctx.q("ip6"):
        part = ctx.q("ip6") or ""
        preds.append(lambda d: any(":" in ip and part in ip for ip in d.get("ips", [])))
    return preds


# Nova's sort keys (schemas/servers.py): the valid ones, and those it accepts and ignores.
_SORT_KEYS = ("access_ip_v4", "access_ip_v6", "auto_disk_config", "availability_zone", "config_drive", "created_at",
              "display_description", "display_name", "host", "hostname", "image_ref", "instance_type_id", "kernel_id",
              "key_name", "launch_index", "launched_at", "locked_by", "node", "power_state", "progress", "project_id",
              "ramdisk_id", "root_device_name", "task_state", "terminated_at", "updated_at", "user_id", "uuid",
              "vm_state")
_SORT_IGNORED = ("architecture", "cell_name", "cleaned", "default_ephemeral_device", "default_swap_device", "deleted",
                 "deleted_at", "disable_terminate", "ephemeral_gb", "ephemeral_key_uuid", "id", "key_data",
                 "launched_on", "locked", "memory_mb", "os_type", "reservation_id", "root_gb", "shutdown_terminate",
                 "user_data", "vcpus", "vm_mode")
_SORTED_BY = {"created_at": "created", "display_name": "name", "uuid": "id"}  # the ones an index serves


def _sort(ctx: Ctx) -> tuple[str, bool]:
    """(store column, descending) from sort_key / sort_dir. Nova's valid keys beyond the indexed ones are refused
    with a message saying so, rather than ignored."""
    keys, dirs = ctx.query.get("sort_key", []), ctx.query.get("sort_dir", [])
    for key in keys:
        if key not in _SORT_KEYS and key not in _SORT_IGNORED:
            raise InvalidInput(f"Invalid input for query parameters sort_key. Value: {key}. '{key}' is not one of "
                               f"{list(_SORT_KEYS + _SORT_IGNORED)}")
    for d in dirs:
        if d not in ("asc", "desc"):
            raise InvalidInput(f"Invalid input for query parameters sort_dir. Value: {d}. '{d}' is not one of "
                               "['asc', 'desc']")
    keys = [k for k in keys if k not in _SORT_IGNORED]
    descending = (dirs[0] if dirs else "desc") == "desc"
    if not keys:
        return "created", descending
    if keys[0] not in _SORTED_BY or any(k != "uuid" for k in keys[1:]):
        raise InvalidInput(f"ecsim sorts servers by one of {', '.join(_SORTED_BY)} (then uuid), not by "
                           f"{', '.join(keys)}.")
    return _SORTED_BY[keys[0]], descending


def _list(ctx: Ctx, view: tuple | None = None) -> tuple[list, str | None]:
    """The page of servers the query asks for; `view` as for compute.list_servers."""
    check_query(ctx, _LIST_PARAMS)
    order, descending = _sort(ctx)
    statuses = [v.upper() for v in ctx.query.get("status", []) if v]  # Nova takes every one given
    for status in statuses:
        if status not in servers.STATUSES:
            if version(ctx) >= (2, 38):
                raise InvalidInput(f"Invalid status value: {status.lower()}")
            return [], None  # before 2.38 an unknown status matches nothing
    deleted = ctx.q("deleted") if ctx.is_admin else None  # Nova drops the filter for everyone else
    only_deleted = deleted is not None and deleted.lower() in _TRUE - {""}
    if "DELETED" in statuses:
        if not ctx.is_admin:
            raise DomainError("Only administrators may list deleted instances", reason="forbidden")
        only_deleted = True
    name = ctx.q("name")
    pattern = None
    if name and any(c in name for c in "^$*+?[](){}|\\"):  # Nova's name filter is a regular expression
        try:
            pattern = re.compile(name)
        except re.error as exc:
            raise InvalidInput(f"Invalid filter field: name: {name}") from exc
        name = None
    flt = compute.ServerFilter(
        name=name, statuses=tuple(s for s in statuses if s != "DELETED") or None,
        flavor_id=_flavor_id(ctx.q("flavor") or "x") if ctx.q("flavor") else None,
        image_id=(ctx.q("image") or "").rstrip("/").rsplit("/", 1)[-1] or None, ip=ctx.q("ip"),
        reservation_id=ctx.q("reservation_id"), availability_zone_eq=ctx.q("availability_zone"),
        key_name=ctx.q("key_name"), tags=(ctx.q("tags") or "").split(",")[0] or None)
    preds = _doc_filters(ctx)
    limit = ctx.q_int("limit", MAX_LIMIT, low=0)
    assert limit is not None
    limit = min(limit, MAX_LIMIT)
    since_ts = ctx.q_time("changes-since")
    before_ts = ctx.q_time("changes-before") if version(ctx) >= (2, 66) else None
    if since_ts is not None and before_ts is not None and before_ts < since_ts:
        raise InvalidInput("The value of changes-since must be less than or equal to changes-before.")
    # A time window also shows the servers deleted in the last day (unless an admin says deleted=false).
    window = since_ts is not None or before_ts is not None
    kinds = (DELETED_KIND,) if only_deleted else ("server", DELETED_KIND) if window and deleted is None \
        else ("server",)
    # A regular expression or a time window has no index: they look at the newest REGEX_SCAN servers, and the
    # page is cut from what matches (before `limit`, as Nova filters in its query).
    scan = pattern is not None or window or bool(preds)
    marker = ctx.q("marker")
    try:
        runs = [compute.list_servers(ctx.rt, _list_scope(ctx), flt, ctx.now, limit=REGEX_SCAN if scan else limit,
                                     marker=marker if len(kinds) == 1 else None, order=order, descending=descending,
                                     kind=kind, view=None if scan else view)[0] for kind in kinds]
    except DomainError as exc:
        if exc.reason == "marker_not_found":
            raise InvalidInput(f"marker [{marker}] not found") from exc
        raise
    rows = runs[0] if len(runs) == 1 else _merged(runs, order, descending, marker)
    if scan:
        rows = [r for r in rows if (pattern is None or pattern.search(r.doc["name"]))
                and (since_ts is None or r.doc["updated"] >= since_ts)
                and (before_ts is None or r.doc["updated"] <= before_ts)
                and all(p(r.doc) for p in preds)][:limit]
    next_link = None
    if limit and len(rows) == limit:
        query = urlencode([(k, v) for k, v in ctx.query_pairs if k != "marker"] + [("marker", rows[-1].id)],
                          quote_via=quote)
        collection = "servers/detail" if ctx.path.rstrip("/").endswith("/detail") else "servers"
        next_link = f"{links(ctx).api}/{collection}?{query}"
    return rows, next_link


def _merged(runs: list[list[Row]], order: str, descending: bool, marker: str | None) -> list[Row]:
    """Live and deleted servers in one order (a deleted server's row is ordered by its deletion, its doc keeps
    its creation), from after the marker."""
    def key(r: Row) -> tuple:
        return ({"created": r.doc["created"], "name": r.doc["name"]}.get(order, r.id), r.id)
    rows = sorted((r for run in runs for r in run), key=key, reverse=descending)
    if marker is not None:
        at = next((i for i, r in enumerate(rows) if r.id == marker), None)
        if at is None:
            raise InvalidInput(f"marker [{marker}] not found")
        rows = rows[at + 1:]
    return rows


_FALSE = {"0", "f", "false", "off", "n", "no"}
_TRUE = {"", "1", "t", "true", "on", "y", "yes"}


def _list_scope(ctx: Ctx) -> str | None:
    """The project whose servers to list: the caller's, or with `all_tenants` (admins only, Nova's policy
    `os_compute_api:servers:index:get_all_tenants`) every project, or the one `project_id` names."""
    raw = ctx.q("all_tenants")
    if raw is None or raw.lower() in _FALSE:
        return ctx.project
    if raw.lower() not in _TRUE:
        raise InvalidInput(f"Invalid value '{raw}' for all_tenants")
    if not ctx.is_admin:
        which = "detail" if ctx.path.rstrip("/").endswith("/detail") else "index"
        raise DomainError(f"Policy doesn't allow os_compute_api:servers:{which}:get_all_tenants to be performed.",
                          reason="forbidden")
    return ctx.q("project_id") or None


def _listing(key: str, items: list, next_link: str | None) -> dict:
    out: dict = {key: items}
    if next_link:
        out[f"{key}_links"] = [{"rel": "next", "href": next_link}]
    return out


def list_servers(ctx: Ctx) -> Response:
    rows, next_link = _list(ctx)
    lk = links(ctx)
    items = [{"id": r.id, "name": r.doc["name"], "links": lk.pair("servers", r.id)} for r in rows]
    return json_response(200, _listing("servers", items, next_link))


def _view_key(ctx: Ctx, show: bool) -> tuple:
    return ("nova.server", version(ctx), links(ctx).api, show)


def _view_bytes(ctx: Ctx, row: Row, *, show: bool = False) -> bytes:
    """The encoded view, cached per (microversion, base URL, row version) like the ECS views."""
    lk, v = links(ctx), version(ctx)
    return ctx.rt.row_view(_view_key(ctx, show), row, lambda doc: views.server(ctx.rt, doc, lk, v, show=show))


def list_servers_detail(ctx: Ctx) -> Response:
    rows, next_link = _list(ctx, _view_key(ctx, False))
    body = b'{"servers":[' + b",".join(_view_bytes(ctx, r) for r in rows) + b"]"
    if next_link:
        body += b',"servers_links":' + msgspec.json.encode([{"rel": "next", "href": next_link}])
    return Response(200, body + b"}", list(JSON_HEADERS))


def load_doc(ctx: Ctx) -> dict:
    """The server the path names, settled now (404 if unknown or another project's)."""
    return get_server(ctx.rt, ctx.project, ctx.params["server_id"], ctx.now)


def show_server(ctx: Ctx) -> Response:
    row = load_server(ctx.rt, ctx.project, ctx.params["server_id"], ctx.now)
    return Response(200, b'{"server":' + _view_bytes(ctx, row, show=True) + b"}", list(JSON_HEADERS))


def list_ips(ctx: Ctx) -> Response:
    """GET /servers/{id}/ips -> {"addresses": {network: [{version, addr}]}}."""
    return json_response(200, {"addresses": views.plain_addresses(load_doc(ctx))})


def show_ips(ctx: Ctx) -> Response:
    """GET /servers/{id}/ips/{network_label} -> {network: [...]}; 404 for a network the server is not on."""
    addresses = views.plain_addresses(load_doc(ctx))
    label = ctx.params["network_label"]
    if label not in addresses:
        raise NotFound("network", label, "Instance is not a member of specified network")
    return json_response(200, {label: addresses[label]})


# -- writes ---------------------------------------------------------------------------------------------------------
def update_server(ctx: Ctx) -> Response:
    _check_fields(ctx, "server", _UPDATE_FIELDS)
    changes = {k: v for k, v in msgspec.structs.asdict(ctx.body_as(UpdateBody).server).items() if v is not None}
    check_name(changes.get("name"))
    renames = {"accessIPv4": "access_ipv4", "accessIPv6": "access_ipv6"}
    changes = {renames.get(k, k): v for k, v in changes.items()}

    def apply(doc: dict) -> None:
        doc.update(changes)
        doc["updated"] = ctx.now

    doc = lifecycle.change_server(ctx.rt, ctx.project, ctx.params["server_id"], apply, now=ctx.now,
                                  is_admin=ctx.is_admin, lock_checked=False, facets="name" in changes)
    return json_response(200, {"server": _server_view(ctx, doc, full=False, show=True)})


def delete_server(ctx: Ctx) -> Response:
    """DELETE /servers/{id} -> 204; any state, but a locked server only by an admin."""
    compute.delete_servers(ctx.rt, ctx.project, [ctx.params["server_id"]], now=ctx.now,
                           check=lambda doc: servers.check_lock(doc, ctx.is_admin))
    return empty(204)


def force_delete_server(ctx: Ctx) -> Response:
    """forceDelete -> 202: deletes at once (ecsim deletes at once anyway: there is no soft delete)."""
    _args(ctx, "forceDelete")
    compute.delete_servers(ctx.rt, ctx.project, [ctx.params["server_id"]], now=ctx.now,
                           check=lambda doc: servers.check_lock(doc, ctx.is_admin))
    return empty(202)


def restore_server(ctx: Ctx) -> Response:
    """restore -> 409 for every live server: only a soft-deleted one can be restored, and deletes are immediate
    (Nova's reclaim_instance_interval = 0)."""
    _args(ctx, "restore")
    doc = load_doc(ctx)
    raise DomainError(f"Cannot 'restore' instance {doc['id']} while it is in vm_state {doc.get('vm_state')}",
                      reason="state")


# -- actions --------------------------------------------------------------------------------------------------------
def _security_group(ctx: Ctx, name: str) -> dict | None:
    """The project's security group with this name (or id), as a server lists it."""
    pid = ctx.project
    rows = ctx.rt.store.select("secgroup", pid, [Cond("eq", "name", name)], limit=1)
    row = rows[0] if rows else ctx.rt.store.get("secgroup", name)
    return {"id": row.id, "name": row.doc["name"]} if row is not None and row.scope == pid else None


def _change_security_groups(ctx: Ctx, key: str, apply: Callable[[dict, dict, float], None]) -> Response:
    name = _args(ctx, key, SecurityGroupName).name
    if not name:
        raise InvalidInput("Security group name cannot be empty")
    group = _security_group(ctx, name)
    if group is None:
        raise NotFound("security_group", name, f"Security group {name} not found for project {ctx.project}.")
    lifecycle.change_server(ctx.rt, ctx.project, ctx.params["server_id"], lambda doc: apply(doc, group, ctx.now),
                            now=ctx.now, is_admin=ctx.is_admin, lock_checked=False)
    return empty(202)


def add_security_group(ctx: Ctx) -> Response:
    return _change_security_groups(ctx, "addSecurityGroup", servers.add_security_group)


def remove_security_group(ctx: Ctx) -> Response:
    return _change_security_groups(ctx, "removeSecurityGroup", servers.remove_security_group)


def _args(ctx: Ctx, key: str, typ: type | None = None) -> Any:
    """The action's value: null and {} both mean "no arguments" (openstacksdk sends null, Tempest {})."""
    value = ctx.json[key]
    if typ is None:
        if value not in (None, {}) and not ctx.relaxed:
            raise InvalidInput(f"Invalid input for field/attribute {key}. Value: {value}. Additional properties "
                               "are not allowed")
        return None
    return convert({} if value is None else value, typ, f"$.{key}", relaxed=ctx.relaxed)


def _batch(ctx: Ctx, action: str, *, hard: bool = False) -> Response:
    compute.batch_action(ctx.rt, ctx.project, [ctx.params["server_id"]], action, now=ctx.now, hard=hard,
                         check=lambda doc: servers.check_lock(doc, ctx.is_admin))
    return empty(202)


def start_server(ctx: Ctx) -> Response:
    _args(ctx, "os-start")
    return _batch(ctx, "start")


def stop_server(ctx: Ctx) -> Response:
    _args(ctx, "os-stop")
    return _batch(ctx, "stop")


def reboot_server(ctx: Ctx) -> Response:
    if not isinstance(ctx.json["reboot"], dict):
        raise InvalidInput("Invalid input for field/attribute reboot. 'type' is a required property")
    return _batch(ctx, "reboot", hard=_args(ctx, "reboot", Reboot).type.upper() == "HARD")


def resize_server(ctx: Ctx) -> Response:
    args = _args(ctx, "resize", Resize)
    lifecycle.nova_resize(ctx.rt, ctx.project, ctx.params["server_id"], _flavor_id(args.flavorRef),
                          now=ctx.now, is_admin=ctx.is_admin, disk_config=args.disk_config)
    return empty(202)


def confirm_resize(ctx: Ctx) -> Response:
    _args(ctx, "confirmResize")
    lifecycle.change_server(ctx.rt, ctx.project, ctx.params["server_id"],
                            lambda doc: servers.confirm_resize(doc, ctx.now), now=ctx.now, is_admin=ctx.is_admin)
    return empty(204)


def revert_resize(ctx: Ctx) -> Response:
    _args(ctx, "revertResize")
    lifecycle.change_server(ctx.rt, ctx.project, ctx.params["server_id"],
                            lambda doc: servers.revert_resize(doc, ctx.now, ctx.rt.timing), now=ctx.now,
                            is_admin=ctx.is_admin, facets=True)
    return empty(202)


def rebuild_server(ctx: Ctx) -> Response:
    """-> 202 with the server (the reduced view before 2.75) and adminPass."""
    _check_fields(ctx, "rebuild", _REBUILD_FIELDS)
    args = _args(ctx, "rebuild", Rebuild)
    check_name(args.name)
    if args.metadata is not None:
        check_metadata(args.metadata)
        if len(args.metadata) > compute.MAX_METADATA:  # as for create (Nova checks both alike)
            raise DomainError(f"Quota exceeded for metadata_items: at most {compute.MAX_METADATA} items.",
                              reason="quota")
    _check_key(ctx, args.key_name)
    changes: dict = {}
    for key, value in (("name", args.name), ("metadata", args.metadata), ("description", args.description),
                       ("access_ipv4", _address(args.accessIPv4, 4)), ("access_ipv6", _address(args.accessIPv6, 6)),
                       ("key_name", args.key_name), ("user_data", args.user_data),
                       ("disk_config", args.disk_config)):
        if value is not None:
            changes[key] = value
    image_id = args.imageRef.rstrip("/").rsplit("/", 1)[-1]
    doc = lifecycle.nova_rebuild(ctx.rt, ctx.project, ctx.params["server_id"], image_id, changes, now=ctx.now,
                                 is_admin=ctx.is_admin)
    view = _server_view(ctx, doc, full=False, show=True)
    view["adminPass"] = args.adminPass or _generated_password()
    if version(ctx) >= (2, 54):
        view["key_name"] = doc.get("key_name")
    if version(ctx) >= (2, 57):
        view["user_data"] = doc.get("user_data")
    view.pop("OS-EXT-SRV-ATTR:user_data", None)  # rebuild's view (2.75+) has only the top-level user_data
    return json_response(202, {"server": view}, [(b"location", view["links"][0]["href"].encode())])


class ConsoleOutput(Strict):
    length: int | str | None = None


def console_output(ctx: Ctx) -> Response:
    """os-getConsoleOutput: the last `length` lines of the server's console log (null or -1: all); 409 while the
    server has not launched yet, as Nova's InstanceNotReady."""
    raw = _args(ctx, "os-getConsoleOutput", ConsoleOutput).length
    if isinstance(raw, str):
        if not re.fullmatch(r"-?[0-9]+", raw):
            raise InvalidInput(f"Invalid input for field/attribute length. Value: {raw}. '{raw}' does not match "
                               "'^-?[0-9]+$'")
        raw = int(raw)
    if raw is not None and raw < -1:
        raise InvalidInput(f"Invalid input for field/attribute length. Value: {raw}. {raw} is less than the minimum "
                           "of -1")
    doc = load_doc(ctx)
    if doc.get("launched_at") is None:
        raise DomainError(f"Instance {doc['id']} is not ready", reason="state")
    return json_response(200, {"output": console.tail(console.log_lines(doc), raw)})


def lock_server(ctx: Ctx) -> Response:
    reason = None
    if version(ctx) >= (2, 73):  # before 2.73 any value is accepted
        given = _args(ctx, "lock", Lock).locked_reason
        reason = None if given is UNSET else given
        if reason is not None and not 1 <= len(reason) <= 255:
            raise InvalidInput("Invalid input for field/attribute locked_reason: must be 1 to 255 characters.")
    by = "admin" if ctx.is_admin else "owner"
    lifecycle.change_server(ctx.rt, ctx.project, ctx.params["server_id"],
                            lambda doc: servers.lock(doc, ctx.now, by=by, reason=reason), now=ctx.now,
                            is_admin=ctx.is_admin, lock_checked=False)
    return empty(202)


def unlock_server(ctx: Ctx) -> Response:
    """Whoever IAM allows ecs:servers:unlock may unlock (Nova's admin-only override of an admin's lock is an oslo
    policy rule; Huawei authorizes with IAM actions instead)."""
    _args(ctx, "unlock")
    lifecycle.change_server(ctx.rt, ctx.project, ctx.params["server_id"], lambda doc: servers.unlock(doc, ctx.now),
                            now=ctx.now, is_admin=ctx.is_admin, lock_checked=False)
    return empty(202)
