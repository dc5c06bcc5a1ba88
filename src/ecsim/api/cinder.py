"""Cinder v2 and v3 as EVS serves them (`/v2|v3/{project_id}/...`, and under `/volume` for OpenStack clients):
version discovery, volumes (create, list, show, update, delete, summary), the volume actions of seed 003, metadata,
volume types, availability zones, quotas and extensions. Bodies are checked with Cinder's schemas
(api/cinder_schemas.py); state rules live in domain/volumes.py and the use cases in services/block.py."""

from __future__ import annotations

import ast
import hashlib
import json
from typing import Any
from urllib.parse import urlencode

import msgspec

from ecsim.api import cinder_schemas as schemas
from ecsim.api import cinder_views as views
from ecsim.domain import volumes
from ecsim.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from ecsim.http import microversion
from ecsim.http.context import JSON_HEADERS, Ctx, Response, empty, json_response
from ecsim.services import block
from ecsim.timefmt import iso_micros, parse_iso

MAX_LIMIT = 1000  # osapi_max_limit: a list answers at most this many, with a next link



def _root(ctx: Ctx) -> str:
    """`http://host[:port][/volume]/v3`: what links are built on."""
    assert ctx.op is not None
    return ctx.rt.config.base_url() + ctx.prefix + "/" + ctx.op.path.split("/")[1]


def _require(ctx: Ctx, low: tuple[int, int]) -> None:
    """A v3 call that exists only from microversion `low`: 404 below it, as Cinder's router answers."""
    if ctx.version < low:
        raise NotFound("resource", ctx.path, "The resource could not be found.")


# -- version discovery --------------------------------------------------------------------------------------------
def _version_docs(ctx: Ctx, *majors: int) -> dict:
    base = ctx.rt.config.base_url() + ctx.prefix
    c = microversion.CINDER
    return {"versions": [views.version_doc(base, m, c.min_text, c.max_text) for m in majors]}


def versions(ctx: Ctx) -> Response:
    """GET /volume/: 300 Multiple Choices listing v3 (current) and v2 (deprecated)."""
    return json_response(300, _version_docs(ctx, 3, 2))


def version_v3(ctx: Ctx) -> Response:
    return json_response(200, _version_docs(ctx, 3))


def version_v2(ctx: Ctx) -> Response:
    return json_response(200, _version_docs(ctx, 2))


# -- volumes ------------------------------------------------------------------------------------------------------
def _load(ctx: Ctx) -> dict:
    return block.load_volume(ctx.rt, ctx.project, ctx.params["volume_id"], ctx.now).doc


def create_volume(ctx: Ctx) -> Response:
    """POST .../volumes -> 202 {"volume": <detail, status creating>}."""
    schema = schemas.CREATE_353 if ctx.version >= (3, 53) else schemas.CREATE
    body = schemas.validate(ctx.json if ctx.json is not None else {}, schema)["volume"]
    project_id = ctx.project
    for key, kind, text in (("snapshot_id", "snapshot", "Snapshot"), ("backup_id", "backup", "Backup"),
                            ("group_id", "group", "Group"), ("consistencygroup_id", "group", "ConsistencyGroup")):
        if body.get(key):
            raise NotFound(kind, body[key], f"{text} {body[key]} could not be found.")
    if body.get("source_volid"):
        block.load_volume(ctx.rt, project_id, body["source_volid"], ctx.now)
        raise InvalidInput("Invalid input received: cloning volumes (source_volid) is not supported by ecsim.")
    size = body.get("size")
    spec = block.VolumeSpec(
        size=int(size) if size is not None else None,
        name=_first(body, "name", "display_name"), description=_first(body, "description", "display_description"),
        volume_type=body.get("volume_type") or None, availability_zone=body.get("availability_zone"),
        multiattach=schemas.boolean(body.get("multiattach")), metadata=dict(body.get("metadata") or {}),
        image_id=_image_id(ctx, body.get("imageRef") or body.get("image_id") or None))
    p = ctx.principal
    assert p is not None
    made, _ = block.create_volumes(ctx.rt, project_id, p.user_id, spec, now=ctx.now)
    return json_response(202, {"volume": views.volume_detail(made[0], _root(ctx), ctx.version, owner_view=False,
                                                              status="creating")})


def _image_id(ctx: Ctx, ref: str | None) -> str | None:
    """Cinder's _image_uuid_from_ref: an image id, or else a name that must match exactly one image
    (cinderclient's `create --image` sends whichever it was given)."""
    if ref is None or ctx.rt.image(ctx.project, ref) is not None:
        return ref
    named = [i.id for i in (*ctx.rt.images.values(), *ctx.rt.private_images(ctx.project)) if i.name == ref]
    if len(named) > 1:
        raise Conflict(f"Multiple matches found for '{ref}', use an ID to be more specific.")
    if not named:
        raise InvalidInput("Invalid image identifier or unable to access requested image.")
    return named[0]


def _first(body: dict, *keys: str) -> str | None:
    """The first of these members given, stripped of surrounding whitespace (Cinder's
    clean_name_and_description)."""
    for key in keys:
        if body.get(key) is not None:
            return body[key].strip() if isinstance(body[key], str) else body[key]
    return None


def show_volume(ctx: Ctx) -> Response:
    row = block.load_volume(ctx.rt, ctx.project, ctx.params["volume_id"], ctx.now)
    root = _root(ctx)
    view = ctx.rt.row_view(_detail_view(ctx), row, lambda doc: views.volume_detail(doc, root, ctx.version))
    return Response(200, b'{"volume":' + view + b"}")


def update_volume(ctx: Ctx) -> Response:
    """PUT .../volumes/{id} -> 200 {"volume": <detail>} (name, description, metadata)."""
    body = schemas.validate(ctx.json if ctx.json is not None else {}, schemas.UPDATE)["volume"]
    if not body and ctx.version >= (3, 53):  # update_v353's anyOf; before it an empty update changes nothing
        raise InvalidInput("Invalid input for field/attribute volume. Value: {}. {} does not have enough "
                           "properties")
    vol = block.update_volume(ctx.rt, ctx.project, ctx.params["volume_id"], ctx.now,
                              name=_first(body, "name", "display_name"),
                              description=_first(body, "description", "display_description"),
                              metadata=body.get("metadata"))
    return json_response(200, {"volume": views.volume_detail(vol, _root(ctx), ctx.version, owner_view=False)})


def delete_volume(ctx: Ctx) -> Response:
    """DELETE .../volumes/{id} -> 202; `force=true` (3.23+, admins only) deletes from any status, attached too."""
    force = ctx.version >= (3, 23) and (ctx.q("force") or "false") in schemas.TRUE_STRINGS
    if force and not (ctx.principal and ctx.principal.is_admin):
        raise DomainError("Policy doesn't allow volume:force_delete to be performed.", reason="forbidden")
    block.delete_volume(ctx.rt, ctx.project, ctx.params["volume_id"], ctx.now, force=force)
    return empty(202)


# -- lists --------------------------------------------------------------------------------------------------------
def filter_literal(raw: str) -> Any:
    """A dict or list filter value as Cinder and its clients write it (`{'k': 'v'}` or JSON)."""
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(raw)
        except (ValueError, SyntaxError, RecursionError, MemoryError):
            continue
    raise InvalidInput(f"Invalid input received: cannot parse filter value {raw[:100]!r}.")


def _filter(ctx: Ctx) -> block.VolumeFilter:
    flt = block.VolumeFilter()
    flt.name = ctx.q("name") or ctx.q("display_name")
    if ctx.version >= (3, 34):
        flt.name_like = ctx.q("name~") or ctx.q("display_name~")
    status = ctx.q("status")
    if status is not None:
        flt.status = status
    flt.availability_zone = ctx.q("availability_zone")
    flt.volume_type = ctx.q("volume_type")
    raw = ctx.q("bootable")
    if raw is not None:
        flt.bootable = raw in schemas.TRUE_STRINGS
    raw = ctx.q("multiattach")
    if raw is not None:
        flt.multiattach = raw in schemas.TRUE_STRINGS
    raw = ctx.q("metadata")
    if raw:
        meta = filter_literal(raw)
        if not isinstance(meta, dict):
            raise InvalidInput("Invalid input received: metadata filter must be a dict.")
        flt.metadata = {str(k): str(v) for k, v in meta.items()}
    size = ctx.q("size")
    if size is not None:
        if not size.isdigit():
            raise InvalidInput(f"Invalid input received: size filter must be an integer, got {size!r}.")
        flt.size = int(size)
    if ctx.version >= (3, 60):  # created_at / updated_at with an operator: "gt:2024-01-01T00:00:00"
        for name, field in (("created_at", "created"), ("updated_at", "updated")):
            for value in ctx.query.get(name, []):
                op, sep, when = value.partition(":")
                if not sep or op not in block.TIME_OPS:
                    op, when = "eq", value
                try:
                    flt.times.append((field, op, parse_iso(when)))
                except ValueError as exc:
                    raise InvalidInput(f"Invalid input received: {name} must be [operator:]time, got "
                                       f"{value!r}.") from exc
    if ctx.version >= (3, 34) and not ctx.is_admin:  # Cinder's reject_invalid_filters
        unknown = sorted(set(ctx.query) - _LIST_QUERY)
        if unknown:
            raise InvalidInput(f"Invalid input received: Invalid filters {', '.join(unknown)} are found in query "
                               "options.")
    return flt


# What a volume list takes: paging and sorting, and the filters of Cinder's resource_filters.json (and the legacy
# and admin ones cinderclient and openstacksdk send).
_LIST_QUERY = {"marker", "limit", "offset", "sort", "sort_key", "sort_dir", "with_count", "all_tenants",
               "project_id", "name", "display_name", "name~", "display_name~", "status", "metadata", "bootable",
               "migration_status", "availability_zone", "group_id", "size", "created_at", "updated_at",
               "volume_type", "glance_metadata", "multiattach", "consumes_quota", "is_public"}


def _sort(ctx: Ctx) -> list[tuple[str, bool]]:
    """(key, descending) pairs from `sort=key[:dir],...` or `sort_key` + `sort_dir` (comma lists too); a key
    without a direction sorts descending, as in Cinder."""
    raw = ctx.q("sort")
    if raw:
        pairs = [item.partition(":")[::2] for item in raw.split(",")]
    else:
        keys = (ctx.q("sort_key") or "created_at").split(",")
        dirs = (ctx.q("sort_dir") or "").split(",")
        pairs = [(k, dirs[i] if i < len(dirs) else "") for i, k in enumerate(keys)]
    out = []
    for key, direction in pairs:
        direction = (direction.strip() or "desc").lower()
        if direction not in ("asc", "desc"):
            raise InvalidInput(f"Invalid input received: Unknown sort direction, must be 'desc' or 'asc'. "
                               f"({direction})", reason="sort_dir")
        out.append((key.strip() or "created_at", direction == "desc"))
    return out


def _page(ctx: Ctx, view: tuple | None = None) -> tuple[list, bool, int | None]:
    """The rows of a volume list, whether it gets a next link, and the total when asked for (3.45 with_count).
    As in Cinder, a full page (as many as the limit, or the maximum) links to the next one, even if it is empty.
    `view` as for block.list_volumes."""
    limit = ctx.q_int("limit", None, low=0)
    offset = ctx.q_int("offset", 0, low=0) or 0
    page = MAX_LIMIT if limit is None else min(limit, MAX_LIMIT)
    sort = _sort(ctx)
    with_count = ctx.version >= (3, 45) and ctx.q("with_count", "false").lower() in schemas.TRUE_STRINGS
    rows, total = block.list_volumes(ctx.rt, ctx.project, _filter(ctx), ctx.now, limit=page, offset=offset,
                                     marker=ctx.q("marker"), sort=sort,
                                     with_count=with_count, view=view)
    return rows, bool(rows) and len(rows) == page, total


def _list(ctx: Ctx, path: str, view: tuple | None, render: Any) -> Response:
    """`render(row)`: one volume's encoded view."""
    rows, more, total = _page(ctx, view)
    body = b'{"volumes":[' + b",".join(render(r) for r in rows) + b"]"
    if more and rows:
        query = [(k, v) for k, v in ctx.query_pairs if k != "marker"]
        if not any(k == "limit" for k, _ in query):
            query.append(("limit", str(MAX_LIMIT)))
        query.append(("marker", rows[-1].id))
        link = {"rel": "next", "href": f"{_root(ctx)}/{ctx.project}/{path}?{urlencode(query)}"}
        body += b',"volumes_links":' + msgspec.json.encode([link])
    if total is not None:
        body += b',"count":%d' % total
    return Response(200, body + b"}", list(JSON_HEADERS))


def list_volumes(ctx: Ctx) -> Response:
    root = _root(ctx)
    return _list(ctx, "volumes", None, lambda r: msgspec.json.encode(views.volume_summary(r.doc, root)))


def _detail_view(ctx: Ctx) -> tuple:
    return ("cinder.volume", _root(ctx), ctx.version)


def list_volumes_detail(ctx: Ctx) -> Response:
    root, key = _root(ctx), _detail_view(ctx)
    return _list(ctx, "volumes/detail", key,
                 lambda r: ctx.rt.row_view(key, r, lambda doc: views.volume_detail(doc, root, ctx.version)))


def volumes_summary(ctx: Ctx) -> Response:
    """GET /v3/.../volumes/summary (3.12): total count and size, and (3.36) the metadata in use."""
    _require(ctx, (3, 12))
    count, size = block.totals(ctx.rt, ctx.project, ctx.now)
    summary: dict = {"total_size": size, "total_count": count}
    if ctx.version >= (3, 36):  # the metadata in use needs every volume: a scan, but a rare call
        meta: dict[str, list[str]] = {}
        for r in ctx.rt.store.select("volume", ctx.project):
            for k, v in (r.doc.get("metadata") or {}).items():
                if v not in meta.setdefault(k, []):
                    meta[k].append(v)
        summary["metadata"] = meta
    return json_response(200, {"volume-summary": summary})


# -- actions (seed 003) -------------------------------------------------------------------------------------------
def _action(ctx: Ctx, key: str) -> dict:
    """The validated action member of the body (os-reserve / os-unreserve take any value: Cinder has no schema)."""
    schema = schemas.ACTIONS.get(key)
    if schema is not None:
        schemas.validate(ctx.json, schema)
    return ctx.json[key] or {}


def _change(ctx: Ctx, apply: Any, *, facets: bool = False) -> dict:
    return block.change(ctx.rt, ctx.project, ctx.params["volume_id"], ctx.now, apply, facets=facets)[0]


def extend_volume(ctx: Ctx) -> Response:
    new_size = int(_action(ctx, "os-extend")["new_size"])
    block.extend_volume(ctx.rt, ctx.project, ctx.params["volume_id"], ctx.now, new_size,
                        in_use_allowed=ctx.version >= (3, 42))
    return empty(202)


def attach_volume(ctx: Ctx) -> Response:
    args = _action(ctx, "os-attach")
    timing = ctx.rt.timing
    _change(ctx, lambda v: volumes.attach(v, ctx.now, timing, server_id=args.get("instance_uuid"),
                                          host_name=args.get("host_name"), mountpoint=args["mountpoint"],
                                          mode=args.get("mode", "rw")), facets=True)
    return empty(202)


def detach_volume(ctx: Ctx) -> Response:
    args = _action(ctx, "os-detach")
    timing = ctx.rt.timing
    _change(ctx, lambda v: volumes.detach(v, ctx.now, timing, args.get("attachment_id")), facets=True)
    return empty(202)


def reserve_volume(ctx: Ctx) -> Response:
    _action(ctx, "os-reserve")
    _change(ctx, lambda v: volumes.reserve(v, ctx.now))
    return empty(202)


def unreserve_volume(ctx: Ctx) -> Response:
    _action(ctx, "os-unreserve")
    _change(ctx, lambda v: volumes.unreserve(v, ctx.now))
    return empty(202)


def set_volume_bootable(ctx: Ctx) -> Response:
    """os-set_bootable answers 200 (not 202), with no body."""
    bootable = schemas.boolean(_action(ctx, "os-set_bootable")["bootable"])
    _change(ctx, lambda v: volumes.set_bootable(v, ctx.now, bootable), facets=True)
    return empty(200)


def update_volume_readonly(ctx: Ctx) -> Response:
    readonly = schemas.boolean(_action(ctx, "os-update_readonly_flag")["readonly"])
    _change(ctx, lambda v: volumes.update_readonly(v, ctx.now, readonly))
    return empty(202)


def upload_volume_image(ctx: Ctx) -> Response:
    """os-volume_upload_image -> 202 with the upload's description; the image is private to the project, queued
    until the upload ends, then usable by IMS lists and server creates."""
    args = _action(ctx, "os-volume_upload_image")
    if ctx.version < (3, 1) and ("visibility" in args or "protected" in args):
        extra = ", ".join(repr(k) for k in ("visibility", "protected") if k in args)
        raise InvalidInput(f"Invalid input for field/attribute os-volume_upload_image. Additional properties are "
                           f"not allowed ({extra} was unexpected)")
    vol, image = block.upload_image(
        ctx.rt, ctx.project, ctx.params["volume_id"], ctx.now, image_name=args["image_name"],
        force=schemas.boolean(args.get("force", False)), disk_format=args.get("disk_format", "raw"),
        container_format=args.get("container_format") or "bare", visibility=args.get("visibility", "private"),
        protected=schemas.boolean(args.get("protected", False)))
    body = {
        "id": vol["id"], "updated_at": iso_micros(vol["updated"] or vol["created"]), "status": "uploading",
        "display_description": vol.get("description"), "size": vol["size"],
        "volume_type": views.volume_type(vol["volume_type"], ctx.rt.config), "image_id": image["id"],
        "container_format": image["container_format"], "disk_format": image["disk_format"],
        "image_name": image["name"], "protected": image["protected"], "visibility": image["visibility"],
    }
    return json_response(202, {"os-volume_upload_image": body})


# -- metadata -----------------------------------------------------------------------------------------------------
def _etag(metadata: dict) -> str:
    """Cinder's metadata ETag (3.15+): the MD5 of the JSON of {"metadata": ...} as Python's json writes it."""
    return hashlib.md5(json.dumps({"metadata": metadata}).encode()).hexdigest()


def _precondition_failed(ctx: Ctx) -> bool:
    """3.15+ writes of metadata honour If-Match (an ETag from a read): a stale one gets 412 and changes nothing."""
    if ctx.version < (3, 15) or not ctx.headers.get("if-match"):
        return False
    tags = [t.strip().strip('"') for t in ctx.headers["if-match"].split(",")]
    return "*" not in tags and _etag(dict(_load(ctx).get("metadata") or {})) not in tags


def show_metadata(ctx: Ctx) -> Response:
    metadata = dict(_load(ctx).get("metadata") or {})
    headers = [(b"etag", _etag(metadata).encode())] if ctx.version >= (3, 15) else None
    return json_response(200, {"metadata": metadata}, headers)


def _set_metadata(ctx: Ctx, *, replace: bool) -> Response:
    if replace and _precondition_failed(ctx):
        return empty(412)
    items = schemas.validate(ctx.json, schemas.METADATA_BODY)["metadata"]
    meta = block.set_metadata(ctx.rt, ctx.project, ctx.params["volume_id"], ctx.now, items, replace=replace)
    return json_response(200, {"metadata": meta})


def create_metadata(ctx: Ctx) -> Response:
    """POST .../metadata merges; PUT replaces."""
    return _set_metadata(ctx, replace=False)


def replace_metadata(ctx: Ctx) -> Response:
    return _set_metadata(ctx, replace=True)


def show_metadata_item(ctx: Ctx) -> Response:
    key = ctx.params["key"]
    meta = _load(ctx).get("metadata") or {}
    if key not in meta:
        raise NotFound("metadata", key, f"Volume {ctx.params['volume_id']} has no metadata with key {key}.")
    return json_response(200, {"meta": {key: meta[key]}})


def update_metadata_item(ctx: Ctx) -> Response:
    if _precondition_failed(ctx):
        return empty(412)
    items = schemas.validate(ctx.json, schemas.META_ITEM)["meta"]
    key = ctx.params["key"]
    if key not in items:
        raise InvalidInput("Request body and URI mismatch")
    if len(items) > 1:
        raise InvalidInput("Request body contains too many items")
    block.set_metadata(ctx.rt, ctx.project, ctx.params["volume_id"], ctx.now, items)
    return json_response(200, {"meta": items})


def delete_metadata_item(ctx: Ctx) -> Response:
    block.set_metadata(ctx.rt, ctx.project, ctx.params["volume_id"], ctx.now, {}, delete_key=ctx.params["key"])
    return empty(200)


# -- types, zones, quotas, extensions -----------------------------------------------------------------------------
def list_types(ctx: Ctx) -> Response:
    return json_response(200, {"volume_types": [views.volume_type(t, ctx.rt.config) for t in volumes.VOLUME_TYPES]})


def show_type(ctx: Ctx) -> Response:
    """GET .../types/{id}; the id `default` names the default type, as in Cinder."""
    if ctx.params["type_id"] == "default":
        return json_response(200, {"volume_type": views.volume_type(volumes.DEFAULT_TYPE, ctx.rt.config)})
    name = volumes.TYPE_BY_ID.get(ctx.params["type_id"])
    if name is None:
        raise NotFound("volume_type", ctx.params["type_id"], f"Volume type {ctx.params['type_id']} could not be found.")
    return json_response(200, {"volume_type": views.volume_type(name, ctx.rt.config)})


def list_availability_zones(ctx: Ctx) -> Response:
    return json_response(200, views.availability_zones(ctx.rt.config))


def _quota_target(ctx: Ctx) -> str:
    target = ctx.params["target_project_id"]
    p = ctx.principal
    assert p is not None
    if target != ctx.project:
        project = ctx.rt.directory.project(target)
        if not p.is_admin or project is None or project["domain_id"] != p.domain_id:
            raise NotFound("project", target, f"Project {target} could not be found.")
    return target


def show_quotas(ctx: Ctx) -> Response:
    """GET .../os-quota-sets/{project}[?usage=True]: limits, or limits with what is in use."""
    target = _quota_target(ctx)
    with_usage = (ctx.q("usage") or "false") in schemas.TRUE_STRINGS
    return json_response(200, views.quota_set(target, block.quota_usage(ctx.rt, target), with_usage=with_usage))


_LIMITS = (("maxTotalVolumes", "totalVolumesUsed", "volumes"),
           ("maxTotalVolumeGigabytes", "totalGigabytesUsed", "gigabytes"),
           ("maxTotalSnapshots", "totalSnapshotsUsed", "snapshots"),
           ("maxTotalBackups", "totalBackupsUsed", "backups"),
           ("maxTotalBackupGigabytes", "totalBackupGigabytesUsed", "backup_gigabytes"))


def show_limits(ctx: Ctx) -> Response:
    """GET .../limits: the caller's project quotas and what it uses, as Cinder's absolute limits."""
    usage = block.quota_usage(ctx.rt, ctx.project)
    absolute = {}
    for limit_key, used_key, name in _LIMITS:
        absolute[used_key], absolute[limit_key] = usage[name]
    return json_response(200, {"limits": {"rate": [], "absolute": absolute}})


def show_default_quotas(ctx: Ctx) -> Response:
    target = _quota_target(ctx)
    limits = {k: (0, v) for k, (_, v) in block.quota_usage(ctx.rt, target).items()}
    return json_response(200, views.quota_set(target, limits, with_usage=False))


_EXTENSIONS = (
    ("os-availability-zone", "AvailabilityZones", "Describe Availability Zones.", "2013-06-27T00:00:00+00:00"),
    ("os-volume-actions", "VolumeActions", "Enable volume actions.", "2012-05-31T00:00:00+00:00"),
    ("os-vol-tenant-attr", "VolumeTenantAttribute", "Expose the internal project_id as an attribute of a volume.",
     "2011-11-03T00:00:00+00:00"),
    ("os-vol-image-meta", "VolumeImageMetadata", "Show image metadata associated with the volume.",
     "2012-12-07T00:00:00+00:00"),
    ("os-quota-sets", "Quotas", "Quota management support.", "2011-08-08T00:00:00+00:00"),
    ("os-types-extra-specs", "TypesExtraSpecs", "Type extra specs support.", "2011-08-24T00:00:00+00:00"),
)


def list_extensions(ctx: Ctx) -> Response:
    return json_response(200, {"extensions": [
        {"alias": alias, "name": name, "description": text, "updated": updated, "links": []}
        for alias, name, text, updated in _EXTENSIONS]})
