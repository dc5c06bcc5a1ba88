"""Huawei ECS v1 / v1.1: servers (create, list, show, update, delete), batch start/stop/reboot, batch rename,
flavors. Request bodies are msgspec types (wrong types and missing fields name the field); unknown keys are
ignored as the real service ignores them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal
from urllib.parse import quote, urlencode

import msgspec
from msgspec import Struct, field

from ecsim.api.ecs_views import EXPECT_FIELDS, cloud_server, flavor_entry, server_detail, updated_server
from ecsim.domain import servers
from ecsim.domain import tags as server_tags
from ecsim.domain.errors import DomainError, InvalidInput, NotFound
from ecsim.domain.provision import NicSpec, ServerSpec, VolumeSpec
from ecsim.domain.servers import STATUS_FILTER_EXPANSION, STATUSES
from ecsim.http import client_tokens
from ecsim.http.context import JSON_HEADERS, Ctx, Response, convert, empty, json_response
from ecsim.http.faults import faults_for
from ecsim.services import compute, keypairs
from ecsim.services.server_rows import get_server, load_server
from ecsim.store import Row
from ecsim.timefmt import parse_iso


# -- request bodies -----------------------------------------------------------------------------------------------
class ServerRef(Struct):
    id: str


class Nic(Struct):
    subnet_id: str | None = None
    port_id: str | None = None
    ip_address: str | None = None
    ipv6_enable: bool = False


class RootVolume(Struct):
    volumetype: str
    size: int | None = None
    iops: int | None = None
    throughput: int | None = None
    passthrough: bool | str | None = field(default=None, name="hw:passthrough")


class DataVolume(Struct):
    volumetype: str
    size: int
    multiattach: bool = False
    shareable: bool = False
    passthrough: bool | str | None = field(default=None, name="hw:passthrough")
    delete_on_termination: bool = False
    data_image_id: str | None = None


class ExtendParam(Struct):
    # v1 sends chargingMode as the int 0, v1.1 as "postPaid"/"prePaid", the console as "0": accept all three.
    chargingMode: int | str | None = None
    enterprise_project_id: str | None = None
    regionID: str | None = None
    isAutoPay: str | None = None
    periodType: str | None = None
    periodNum: int | None = None
    marketType: str | None = None


class SchedulerHints(Struct):
    group: str | None = None
    tenancy: str | None = None
    dedicated_host_id: str | None = None


class SecurityGroupRef(Struct):
    id: str


class ServerTag(Struct):
    key: str
    value: str = ""


class CreateServer(Struct):
    imageRef: str
    flavorRef: str
    name: str
    vpcid: str
    nics: list[Nic]
    root_volume: RootVolume
    data_volumes: list[DataVolume] = []
    count: int = 1
    isAutoRename: bool = True
    availability_zone: str | None = None
    batch_create_in_multi_az: bool = False
    key_name: str | None = None
    adminPass: str | None = None
    user_data: str | None = None
    metadata: dict[str, str] = {}
    security_groups: list[SecurityGroupRef] = []
    publicip: dict | None = None
    extendparam: ExtendParam | None = None
    scheduler_hints: SchedulerHints | None = field(default=None, name="os:scheduler_hints")
    tags: list[str] = []
    server_tags: list[ServerTag] = []
    description: str = ""


class CreateBody(Struct):
    server: CreateServer
    dry_run: bool = False


class StartAction(Struct):
    servers: list[ServerRef]


class StopAction(Struct):
    servers: list[ServerRef]
    type: Literal["SOFT", "HARD"] = "SOFT"


class RebootAction(Struct):
    servers: list[ServerRef]
    type: Literal["SOFT", "HARD"]


class RenameBody(Struct):
    name: str
    servers: list[ServerRef]
    dry_run: bool = False


class DeleteBody(Struct):
    servers: list[ServerRef]
    delete_publicip: bool = False
    delete_volume: bool = False


class UpdateServer(Struct):
    name: str | None = None
    description: str | None = None
    hostname: str | None = None
    user_data: str | None = None


class UpdateBody(Struct):
    server: UpdateServer


# -- create -------------------------------------------------------------------------------------------------------
def _spec(s: CreateServer, extend: ExtendParam | None) -> ServerSpec:
    if s.publicip is not None:
        raise InvalidInput("publicip (EIP) is not supported by ecsim yet; create the server without it.")
    nics = []
    for i, n in enumerate(s.nics):
        if not n.subnet_id:
            raise InvalidInput(f"server.nics[{i}].subnet_id is required (ports are not supported by ecsim yet).")
        nics.append(NicSpec(n.subnet_id, n.ip_address))
    pairs = []
    for t in s.tags:  # the older form, "key.value"
        key, dot, value = t.partition(".")
        if not dot:
            raise DomainError(f"The tag {t!r} is not of the form key.value.", reason="tags_invalid")
        pairs.append((key, value))
    pairs += [(t.key, t.value or "") for t in s.server_tags]
    server_tags.check_ecs_pairs(pairs)
    tags = [server_tags.joined(k, v) for k, v in pairs]
    charging = "0"
    if extend is not None and extend.chargingMode not in (None, 0, "0", "postPaid"):
        raise InvalidInput("Only pay-per-use servers (chargingMode postPaid / 0) are supported by ecsim.")
    compute.validate_metadata(s.metadata)
    compute.validate_user_data(s.user_data)
    ep = extend.enterprise_project_id if extend and extend.enterprise_project_id else "0"
    hints = {}
    if s.scheduler_hints is not None:
        hints = {k: [v] for k, v in msgspec.structs.asdict(s.scheduler_hints).items() if v is not None}
    return ServerSpec(
        name=s.name, image_id=s.imageRef, flavor_id=s.flavorRef, vpc_id=s.vpcid, nics=nics,
        root_volume=VolumeSpec(s.root_volume.volumetype, s.root_volume.size),
        data_volumes=[VolumeSpec(d.volumetype, d.size, d.multiattach or d.shareable,
                                         d.delete_on_termination) for d in s.data_volumes],
        availability_zone=s.availability_zone, key_name=s.key_name, admin_pass=s.adminPass, user_data=s.user_data,
        metadata=dict(s.metadata), security_group_ids=[g.id for g in s.security_groups], tags=tags,
        description=s.description,
        enterprise_project_id=ep,
        scheduler_hints=hints, charging_mode=charging, multi_az=s.batch_create_in_multi_az,
    )


def _create(ctx: Ctx) -> tuple[bool, dict | None, list[str]]:
    body = ctx.body_as(CreateBody)
    spec = _spec(body.server, body.server.extendparam)
    p = ctx.principal
    assert p is not None and ctx.project_id is not None
    keypairs.require(ctx.rt.store, p.user_id, spec.key_name)
    job, ids = compute.create_servers(ctx.rt, ctx.project_id, p.user_id, spec, count=body.server.count,
                                      auto_rename=body.server.isAutoRename, dry_run=body.dry_run, now=ctx.now)
    return body.dry_run, job, ids


def create_servers(ctx: Ctx) -> Response:
    """POST /v1/{project_id}/cloudservers -> 200 {"job_id", "serverIds"}; dry_run -> 202 with no body. A repeat
    with the same X-Client-Token answers the same and creates nothing."""
    def produce() -> Response:
        dry_run, job, ids = _create(ctx)
        if dry_run:
            return empty(202)
        assert job is not None
        return json_response(200, {"job_id": job["id"], "serverIds": ids})

    return client_tokens.once(ctx, produce)


def create_servers_v11(ctx: Ctx) -> Response:
    """POST /v1.1/{project_id}/cloudservers: pay-per-use answers like v1 (job_id + serverIds)."""
    return create_servers(ctx)


# -- reads --------------------------------------------------------------------------------------------------------
_DETAIL = ("ecs.server",)


def _detail_bytes(ctx: Ctx, row: Row) -> bytes:
    return ctx.rt.row_view(_DETAIL, row, lambda doc: server_detail(ctx.rt, doc))


def show_server(ctx: Ctx) -> Response:
    row = load_server(ctx.rt, ctx.project, ctx.params["server_id"], ctx.now)
    return Response(200, b'{"server":' + _detail_bytes(ctx, row) + b"}", list(JSON_HEADERS))



def _statuses(raw: str | None) -> tuple[str, ...] | None:
    if raw is None or raw == "":
        return None
    value = raw.upper()
    if value not in STATUSES:
        raise InvalidInput(f"status {raw!r} is not a valid server status.")
    return STATUS_FILTER_EXPANSION.get(value, (value,))


def list_servers_details(ctx: Ctx) -> Response:
    """GET /v1/{project_id}/cloudservers/detail: offset is a 1-based page number, count the total."""
    limit = ctx.q_int("limit", 25, low=1, high=1000)
    page = ctx.q_int("offset", 1, low=0) or 1
    assert limit is not None
    ids_raw = ctx.q("server_id")
    if ids_raw:
        return _list_by_ids(ctx, [i for i in ids_raw.split(",") if i])
    flt = compute.ServerFilter(
        name=ctx.q("name"), statuses=_statuses(ctx.q("status")), flavor_id=ctx.q("flavor"), ip=ctx.q("ip"),
        ip_eq=ctx.q("ip_eq"), tags=ctx.q("tags"), not_tags=ctx.q("not-tags"),
        reservation_id=ctx.q("reservation_id"), enterprise_project_id=ctx.q("enterprise_project_id"),
        enterprise_projects=ctx.granted_eps,
    )
    marker = ctx.q("marker")
    rows, total = compute.list_servers(ctx.rt, ctx.project, flt, ctx.now, limit=limit,
                                       offset=0 if marker else (page - 1) * limit, marker=marker, with_count=True,
                                       view=_DETAIL)
    body = b'{"count":%d,"servers":[' % (total or 0) + b",".join(_detail_bytes(ctx, r) for r in rows) + b"]}"
    return Response(200, body, list(JSON_HEADERS))


def _list_by_ids(ctx: Ctx, ids: list[str]) -> Response:
    """With server_id every other filter is ignored; an unknown id still gets an entry with only id and fault."""
    out = []
    for sid in ids[:100]:
        try:
            out.append(server_detail(ctx.rt, get_server(ctx.rt, ctx.project, sid, ctx.now)))
        except NotFound:
            out.append({"id": sid, "fault": {"code": 404, "message": f"Instance[{sid}] could not be found.",
                                             "created": None, "details": None}})
    return json_response(200, {"count": len(out), "servers": out})


def list_az_info(ctx: Ctx) -> Response:
    """GET /v1/{project_id}/availability-zones: the region's zones, all general-purpose ("Core") single zones."""
    zones = [{"availability_zone_id": az, "type": "Core", "mode": "single", "public_border_group": "center",
              "alias": f"AZ{n}", "az_group_ids": [], "category": 0}
             for n, az in enumerate(ctx.rt.config.availability_zones, 1)]
    return json_response(200, {"availability_zones": zones})


_CHARGING_MODES = ("0", "1", "2", "postpaid", "prepaid", "spot")


def list_cloud_servers(ctx: Ctx) -> Response:
    """GET /v1.1/{project_id}/cloudservers/detail: marker paging, no count; `servers_links` when a page is full."""
    limit = ctx.q_int("limit", 10, low=0, high=100) or 10
    expect: set[str] = set()
    for raw in ctx.query.get("expect-fields", []):
        for name in raw.split(","):
            name = name.strip()
            if name and name not in EXPECT_FIELDS:
                raise InvalidInput(f"expect-fields {name!r} is not one of {', '.join(EXPECT_FIELDS)}.")
            if name:
                expect.add(name)
    metadata = None
    if ctx.q("metadata"):
        key, sep, value = (ctx.q("metadata") or "").partition("=")
        if not sep:
            raise InvalidInput("metadata must be given as key=value.")
        metadata = (key, value)
    launched_since = None
    if ctx.q("launched_since"):
        try:
            launched_since = parse_iso(ctx.q("launched_since") or "")
        except ValueError as exc:
            raise InvalidInput("launched_since must be an ISO 8601 time such as 2023-06-09T06:42:18Z.") from exc
    ident = ctx.q("id")
    flt = compute.ServerFilter(
        name=ctx.q("name"), statuses=_statuses(ctx.q("status")), flavor_id=ctx.q("flavor_name"),
        image_id=ctx.q("image_id"), tags=ctx.q("tags"), not_tags=ctx.q("not-tags"),
        availability_zone=ctx.q("availability_zone"), availability_zone_eq=ctx.q("availability_zone_eq"),
        key_name=ctx.q("key_name"), enterprise_project_id=ctx.q("enterprise_project_id"), metadata=metadata,
        enterprise_projects=ctx.granted_eps,
        metadata_key=ctx.q("metadata-key"), launched_since=launched_since,
    )
    charging = (ctx.q("charging_mode") or "").lower() or None
    if charging is not None and charging not in _CHARGING_MODES:
        raise InvalidInput(f"charging_mode must be one of {', '.join(_CHARGING_MODES)}.")
    # Every ecsim server is pay-per-use: a yearly/monthly or spot filter, or the recycle bin, matches none.
    if ctx.q_bool("in_recycle_bin") or charging not in (None, "0", "postpaid"):
        return json_response(200, {"servers": []})
    if ident:
        try:
            rows = [load_server(ctx.rt, ctx.project, ident, ctx.now)]
        except NotFound:
            rows = []
    # Sizes come from the volumes: with volumes_attached a view is not cacheable with the server's version.
    key = None if "volumes_attached" in expect else ("ecs.cloud_server", tuple(sorted(expect)))
    if not ident:
        rows, _ = compute.list_servers(ctx.rt, ctx.project, flt, ctx.now, limit=limit, marker=ctx.q("marker"),
                                       view=key)
    if key is None:
        sizes = {vid: v["size"] for vid, v in compute.volumes_by_id(ctx.rt, [r.doc for r in rows], ctx.now).items()}
        items = [msgspec.json.encode(cloud_server(ctx.rt, r.doc, expect, sizes)) for r in rows]
    else:
        items = [ctx.rt.row_view(key, r, lambda doc: cloud_server(ctx.rt, doc, expect, {})) for r in rows]
    body = b'{"servers":[' + b",".join(items) + b"]"
    if len(rows) == limit and not ident:
        query = urlencode([(k, v) for k, v in ctx.query_pairs if k != "marker"] + [("marker", rows[-1].id)],
                          quote_via=quote)
        link = {"rel": "next", "href": f"{ctx.rt.config.base_url()}/v1.1/{ctx.project}/cloudservers/detail?{query}"}
        body += b',"servers_links":[' + msgspec.json.encode(link) + b"]"
    return Response(200, body + b"}", list(JSON_HEADERS))


def list_flavors(ctx: Ctx) -> Response:
    """GET /v1/{project_id}/cloudservers/flavors (availability_zone, flavor_id, limit, marker)."""
    azs = ctx.rt.config.availability_zones
    az = ctx.q("availability_zone")
    if az is not None and az not in azs:
        return json_response(200, {"flavors": []})
    flavors = sorted(ctx.rt.flavors.values(), key=lambda f: f.id)
    if ctx.q("flavor_id"):
        flavors = [f for f in flavors if f.id == ctx.q("flavor_id")]
    if az is not None:
        flavors = [f for f in flavors if f.sellable_in(az)]
    base = ctx.rt.config.base_url()
    return json_response(200, {"flavors": [flavor_entry(base, ctx.project, f, azs) for f in _page(ctx, flavors)]})


_RESIZE_SORT = {"flavorid": lambda f: f.id, "name": lambda f: f.id, "memory_mb": lambda f: (f.ram, f.id),
                "vcpus": lambda f: (f.vcpus, f.id), "root_gb": lambda f: (f.disk, f.id)}


def list_resize_flavors(ctx: Ctx) -> Response:
    """GET /v1/{project_id}/cloudservers/resize_flavors?instance_uuid=|source_flavor_id=|source_flavor_name=: the
    flavors a server (or one of that flavor) can change to: the others sold in its zone (any zone without a
    server). sort_key flavorid (default), name, memory_mb, vcpus or root_gb; sort_dir asc (default) or desc."""
    azs = ctx.rt.config.availability_zones
    source, zones = ctx.q("source_flavor_id") or ctx.q("source_flavor_name"), azs
    if ctx.q("instance_uuid"):
        server = get_server(ctx.rt, ctx.project, ctx.q("instance_uuid") or "", ctx.now)
        source, zones = server["flavor_id"], [server["availability_zone"]]
    elif source is None:
        raise InvalidInput("One of instance_uuid, source_flavor_id and source_flavor_name is required.")
    elif source not in ctx.rt.flavors:
        raise InvalidInput(f"The flavor {source} does not exist.")
    key, direction = ctx.q("sort_key") or "flavorid", (ctx.q("sort_dir") or "asc").lower()
    if key not in _RESIZE_SORT or direction not in ("asc", "desc"):
        raise InvalidInput(f"sort_key must be one of {', '.join(_RESIZE_SORT)} and sort_dir asc or desc.")
    flavors = sorted((f for f in ctx.rt.flavors.values() if f.id != source and any(f.sellable_in(z) for z in zones)),
                     key=_RESIZE_SORT[key], reverse=direction == "desc")
    base = ctx.rt.config.base_url()
    out = []
    for f in _page(ctx, flavors):
        entry = flavor_entry(base, ctx.project, f, azs)
        del entry["attachableQuantity"]
        entry["extra_specs"] = entry.pop("os_extra_specs")  # this list's name for them (ListResizeFlavorsResult)
        out.append(entry)
    return json_response(200, {"flavors": out})


def _page(ctx: Ctx, flavors: list) -> list:
    """A page of a flavor list: after `marker` (a flavor id), at most `limit` (1 to 1000, default 1000)."""
    marker = ctx.q("marker")
    if marker:
        ids = [f.id for f in flavors]
        if marker not in ids:
            raise InvalidInput(f"marker [{marker}] not found", reason="marker_not_found")
        flavors = flavors[ids.index(marker) + 1:]
    limit = ctx.q_int("limit", 1000, low=1, high=1000)
    return flavors[:limit]


def show_limits(ctx: Ctx) -> Response:
    """GET /v1/{project_id}/cloudservers/limits -> {"absolute": {...}}: the project's quotas and what it uses (the
    numbers Nova's limits give; ecsim sells no spot servers)."""
    absolute = {**compute.absolute_limits(ctx.rt, ctx.project), "maxTotalSpotInstances": 0, "maxTotalSpotCores": 0,
                "maxTotalSpotRAMSize": 0, "totalSpotInstancesUsed": 0, "totalSpotCoresUsed": 0, "totalSpotRAMUsed": 0,
                "limit_by_flavor": []}
    return json_response(200, {"absolute": absolute})


# -- writes -------------------------------------------------------------------------------------------------------
def _ids(refs: list[ServerRef]) -> list[str]:
    return [r.id for r in refs]


def _unlocked(ctx: Ctx) -> Callable[[dict], None]:
    """A Nova lock binds the ECS API too: non-admins get 400 Ecs.0605 for a locked server."""
    is_admin = ctx.is_admin
    return lambda doc: servers.check_lock(doc, is_admin)


def batch_start(ctx: Ctx) -> Response:
    action = convert(ctx.json["os-start"], StartAction, "$.os-start")
    job = compute.batch_action(ctx.rt, ctx.project, _ids(action.servers), "start", now=ctx.now,
                               check=_unlocked(ctx))
    return json_response(200, {"job_id": job["id"]})


def batch_stop(ctx: Ctx) -> Response:
    action = convert(ctx.json["os-stop"], StopAction, "$.os-stop")
    job = compute.batch_action(ctx.rt, ctx.project, _ids(action.servers), "stop", now=ctx.now,
                               hard=action.type == "HARD", check=_unlocked(ctx))
    return json_response(200, {"job_id": job["id"]})


def batch_reboot(ctx: Ctx) -> Response:
    action = convert(ctx.json["reboot"], RebootAction, "$.reboot")
    job = compute.batch_action(ctx.rt, ctx.project, _ids(action.servers), "reboot", now=ctx.now,
                               hard=action.type == "HARD", check=_unlocked(ctx))
    return json_response(200, {"job_id": job["id"]})


def batch_rename(ctx: Ctx) -> Response:
    """PUT /v1/{project_id}/cloudservers/server-name -> 200 {"response": [{"id"}]} (synchronous, no job)."""
    body = ctx.body_as(RenameBody)
    try:
        ids = compute.rename_servers(ctx.rt, ctx.project, _ids(body.servers), body.name, now=ctx.now,
                                     dry_run=body.dry_run)
    except NotFound as exc:  # the batch-request error format: each failing server in "internalError"
        err = faults_for("ecs").translate(exc)
        err.extra = {"internalError": [
            {"id": sid, "error_code": err.code, "error_message": f"Instance[{sid}] could not be found."}
            for sid in exc.details.get("missing") or (exc.ident,)]}  # type: ignore[union-attr]
        raise err from None
    return json_response(200, {"response": [{"id": i} for i in ids]})


def delete_servers(ctx: Ctx) -> Response:
    body = ctx.body_as(DeleteBody)
    job = compute.delete_servers(ctx.rt, ctx.project, _ids(body.servers), now=ctx.now,
                                 delete_volume=body.delete_volume, check=_unlocked(ctx))
    return json_response(200, {"job_id": job["id"]})


def update_server(ctx: Ctx) -> Response:
    body = ctx.body_as(UpdateBody)
    changes = {k: v for k, v in msgspec.structs.asdict(body.server).items() if v is not None}
    doc = compute.update_server(ctx.rt, ctx.project, ctx.params["server_id"], changes, now=ctx.now)
    return json_response(200, {"server": updated_server(ctx.rt, doc)})
