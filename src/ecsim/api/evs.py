"""Huawei EVS native (`/v2|v2.1/{project_id}/cloudvolumes`): create (count, multiattach, tags, EP), list with the
EVS filters and `count`, show, update (answers the volume unwrapped), delete, and resize (`os-extend`); writes
answer with jobs followed through `GET /v1/{project_id}/jobs/{job_id}`. The volumes are the ones Cinder shows."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from msgspec import Struct, field

from ecsim.api.cinder import filter_literal
from ecsim.api.cinder_views import evs_volume, volume_summary
from ecsim.domain import volumes
from ecsim.domain.errors import DomainError, InvalidInput
from ecsim.http import client_tokens
from ecsim.http.context import Ctx, Response, convert, json_response
from ecsim.services import block


class VolumeOption(Struct):
    volume_type: str
    availability_zone: str
    size: int | None = None
    name: str | None = None
    description: str | None = None
    count: int = 1
    multiattach: bool = False
    metadata: dict[str, str] = {}
    tags: dict[str, str] = {}
    enterprise_project_id: str | None = None
    imageRef: str | None = None
    snapshot_id: str | None = None
    backup_id: str | None = None
    iops: int | None = None
    throughput: int | None = None


class BssParam(Struct):
    chargingMode: str | None = None
    isAutoPay: str | None = None
    isAutoRenew: str | None = None
    periodNum: int | None = None
    periodType: str | None = None


class CreateBody(Struct):
    volume: VolumeOption
    bssParam: BssParam | None = None
    server_id: str | None = None
    scheduler_hints: dict | None = field(default=None, name="OS-SCH-HNT:scheduler_hints")


class UpdateOption(Struct):
    name: str | None = None
    description: str | None = None


class UpdateBody(Struct):
    volume: UpdateOption


class Extend(Struct):
    new_size: int


class ResizeBody(Struct):
    os_extend: Extend = field(name="os-extend")
    bssParam: dict | None = None



def _root(ctx: Ctx) -> str:
    return ctx.rt.config.base_url() + "/v2"


def _text(value: str | None, what: str, reason: str) -> None:
    if value is not None and len(value.encode()) > 255:
        raise InvalidInput(f"The {what} must be at most 255 bytes.", reason=reason)


def create_volume(ctx: Ctx) -> Response:
    """POST /v2.1/{project_id}/cloudvolumes -> {"job_id", "volume_ids"} (pay-per-use); a repeat with the same
    X-Client-Token answers the same and creates nothing."""
    return client_tokens.once(ctx, lambda: _create_volume(ctx))


def _create_volume(ctx: Ctx) -> Response:
    body = ctx.body_as(CreateBody)
    v = body.volume
    if body.bssParam is not None and body.bssParam.chargingMode not in (None, "postPaid"):
        raise InvalidInput("Only pay-per-use disks (chargingMode postPaid) are supported by ecsim.")
    if body.server_id is not None:
        raise InvalidInput("Creating a disk attached to an ECS (server_id) is not supported by ecsim yet; create "
                           "it, then attach it.")
    if v.snapshot_id or v.backup_id:
        raise InvalidInput("Creating disks from snapshots or backups is not supported by ecsim yet.")
    _text(v.name, "name", "name_invalid")
    _text(v.description, "description", "description_invalid")
    if v.size is not None and not v.imageRef and not 10 <= v.size <= 32768:
        raise InvalidInput(f"A data disk must be 10 to 32768 GB, not {v.size}.", reason="volume_size")
    volumes.check_performance(v.volume_type, v.iops, v.throughput)
    p = ctx.principal
    assert p is not None
    spec = block.VolumeSpec(size=v.size, name=v.name, description=v.description, volume_type=v.volume_type,
                            availability_zone=v.availability_zone, multiattach=v.multiattach,
                            metadata=dict(v.metadata), image_id=v.imageRef,
                            enterprise_project_id=v.enterprise_project_id or "0", tags=dict(v.tags),
                            iops=v.iops, throughput=v.throughput)
    made, job = block.create_volumes(ctx.rt, ctx.project, p.user_id, spec, count=v.count, now=ctx.now)
    return json_response(200, {"job_id": job["id"], "volume_ids": [vol["id"] for vol in made]})


def show_volume(ctx: Ctx) -> Response:
    vol = block.load_volume(ctx.rt, ctx.project, ctx.params["volume_id"], ctx.now).doc
    return json_response(200, {"volume": evs_volume(vol, _root(ctx))})


def update_volume(ctx: Ctx) -> Response:
    """PUT /v2/{project_id}/cloudvolumes/{id}: name and description; answers the volume itself, not wrapped."""
    body = ctx.body_as(UpdateBody).volume
    if body.name is None and body.description is None:
        raise DomainError("volume name and description can not both be empty!", reason="name_and_description")
    _text(body.name, "name", "name_invalid")
    _text(body.description, "description", "description_invalid")
    vol = block.update_volume(ctx.rt, ctx.project, ctx.params["volume_id"], ctx.now, name=body.name,
                              description=body.description)
    return json_response(200, evs_volume(vol, _root(ctx)))


def delete_volume(ctx: Ctx) -> Response:
    job = block.delete_volume(ctx.rt, ctx.project, ctx.params["volume_id"], ctx.now)
    return json_response(200, {"job_id": job["id"]})


def resize_volume(ctx: Ctx) -> Response:
    """POST /v2.1/{project_id}/cloudvolumes/{id}/action {"os-extend": {"new_size"}} -> {"job_id"}. EVS extends
    in-use disks online, shared ones only when available."""
    body = convert(ctx.json, ResizeBody)
    _, job = block.extend_volume(ctx.rt, ctx.project, ctx.params["volume_id"], ctx.now, body.os_extend.new_size,
                                 in_use_allowed=True, job=True)
    assert job is not None
    return json_response(202, {"job_id": job["id"]})  # shared/spec/cinder_evs.md: 202, unlike create and delete


# -- lists --------------------------------------------------------------------------------------------------------
def _filter(ctx: Ctx) -> block.VolumeFilter:
    flt = block.VolumeFilter(name=ctx.q("name"), status=ctx.q("status"),
                             availability_zone=ctx.q("availability_zone"), server_id=ctx.q("server_id"))
    if ctx.q("multiattach") is not None:
        flt.multiattach = ctx.q_bool("multiattach")
    type_id = ctx.q("volume_type_id")
    if type_id is not None:
        flt.volume_type = block.resolve_type(type_id)
    ep = ctx.q("enterprise_project_id")
    if ep and ep != "all_granted_eps":
        flt.enterprise_project_id = ep
    flt.enterprise_projects = ctx.granted_eps
    raw = ctx.q("metadata")
    if raw:
        meta = filter_literal(raw)
        if not isinstance(meta, dict):
            raise DomainError("invalid metadata filter!", reason="metadata")
        flt.metadata = {str(k): str(v) for k, v in meta.items()}
    ids = ctx.q("ids")
    if ids:
        parsed: Any = filter_literal(ids)
        if not isinstance(parsed, list) or len(parsed) > 60:
            raise InvalidInput("ids must be a list of at most 60 volume ids.")
        flt.ids = [str(i) for i in parsed]
    elif ctx.q("id"):
        flt.ids = [ctx.q("id") or ""]
    return flt


def _list(ctx: Ctx, render: Any, path: str) -> Response:
    limit = ctx.q_int("limit", 1000, low=1)
    assert limit is not None
    if limit > 1000:
        raise DomainError(f"limit is {limit}.", reason="limit_too_large")
    offset = ctx.q_int("offset", 0, low=0) or 0
    key = ctx.q("sort_key", "created_at") or "created_at"
    direction = (ctx.q("sort_dir", "desc") or "desc").lower()
    if direction not in ("asc", "desc"):
        raise DomainError(f"sort_dir must be asc or desc, not {direction!r}.", reason="sort_dir")
    page, total = block.list_volumes(ctx.rt, ctx.project, _filter(ctx), ctx.now, limit=limit, offset=offset,
                                     marker=ctx.q("marker"), sort=((key, direction == "desc"),),
                                     with_count=True)
    body: dict = {"count": total, "volumes": [render(r.doc) for r in page]}
    if page and len(page) == limit:  # a full page links to the next, as Cinder does
        query = [(k, v) for k, v in ctx.query_pairs if k != "marker"] + [("marker", page[-1].id)]
        body["volumes_links"] = [{"rel": "next", "href": f"{_root(ctx)}/{ctx.project}/{path}?{urlencode(query)}"}]
    return json_response(200, body)


def list_volumes(ctx: Ctx) -> Response:
    """GET /v2/{project_id}/cloudvolumes/detail: {"count", "volumes", "volumes_links"?}."""
    root = _root(ctx)
    return _list(ctx, lambda v: evs_volume(v, root), "cloudvolumes/detail")


def list_volumes_brief(ctx: Ctx) -> Response:
    root = _root(ctx)
    return _list(ctx, lambda v: volume_summary(v, root), "cloudvolumes")
