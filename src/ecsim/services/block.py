"""Volume use cases over the store, shared by the EVS native API and Cinder v2/v3 (and the disks of servers).
They load docs, apply the domain rules, write the result (and, for EVS, its job) in one transaction, keep the
project's gigabytes counter, and raise DomainErrors for the faces to render."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ecsim.config import quota_limit
from ecsim.domain import jobs, volumes
from ecsim.domain.errors import InvalidInput, NotFound, QuotaExceeded
from ecsim.domain.timeline import final_at, next_at, schedule, settle
from ecsim.ids import new_uuid
from ecsim.runtime import Runtime
from ecsim.store import Cond, Put, Row, SqlStore, like_escape

GIGABYTES = "volume.gigabytes"  # counter: GiB used by a project's volumes


# -- persistence ------------------------------------------------------------------------------------------------
def volume_put(doc: dict, *, facets: bool) -> Put:
    return Put("volume", doc["id"], doc["project_id"], doc, name=doc["name"], status=doc["status"],
               created=doc["created"], settle_at=next_at(doc), facets=volumes.facets(doc) if facets else None)


def count_gigabytes(tx: SqlStore, docs: list[dict], *, gone: bool = False) -> None:
    """Bring the projects' gigabytes counters (all types, and per type) in step with these volumes: each doc's
    `counted_size` is what the counters hold for it; a gone volume holds nothing. One update per counter."""
    sums: dict[tuple[str, str], int] = {}
    for doc in docs:
        target = 0 if gone else doc["size"]
        grow = target - doc.get("counted_size", 0)
        if grow:
            for name in (GIGABYTES, f"{GIGABYTES}.{doc['volume_type']}"):
                sums[(name, doc["project_id"])] = sums.get((name, doc["project_id"]), 0) + grow
            doc["counted_size"] = target
    for (name, scope), delta in sums.items():
        tx.add_to_counter(name, scope, delta)


def save_volume(tx: SqlStore, doc: dict, now: float, *, new: bool = False, facets: bool = False) -> None:
    """Write a volume (removing it once deleted) and keep the project's gigabytes counter in step: the doc's
    `counted_size` is what the counter holds for it."""
    settle(doc, now)
    gone = volumes.is_gone(doc) and "_steps" not in doc
    count_gigabytes(tx, [doc], gone=gone)
    if gone:
        if not new:
            tx.delete("volume", doc["id"])
        return
    put = volume_put(doc, facets=new or facets)
    tx.insert(put) if new else tx.update(put, rename=facets)


def not_found(volume_id: str) -> NotFound:
    return NotFound("volume", volume_id, f"Volume {volume_id} could not be found.")


def load_volume(rt: Runtime, project_id: str, volume_id: str, now: float, tx: SqlStore | None = None) -> Row:
    """The volume's row (locked when read in a transaction), its doc settled at `now`."""
    store = tx or rt.store
    row = store.get("volume", volume_id, for_update=tx is not None)
    if row is None or row.scope != project_id:
        raise not_found(volume_id)
    if row.settle_at is not None:
        settle(row.doc, now)
        if volumes.is_gone(row.doc):
            raise not_found(volume_id)
    return row


# -- reads --------------------------------------------------------------------------------------------------------
@dataclass
class VolumeFilter:
    name: str | None = None
    name_like: str | None = None
    status: str | None = None
    availability_zone: str | None = None
    bootable: bool | None = None
    multiattach: bool | None = None
    volume_type: str | None = None
    server_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    enterprise_project_id: str | None = None
    ids: list[str] | None = None
    enterprise_projects: tuple[str, ...] | None = None
    # No index serves these: a list with them looks at the newest SCAN volumes.
    size: int | None = None
    times: list[tuple[str, str, float]] = field(default_factory=list)  # (created|updated, gt|gte|lt|lte|eq|neq, t)

    def scanned(self) -> bool:
        return self.size is not None or bool(self.times)

    def matches(self, doc: dict) -> bool:
        if self.size is not None and doc["size"] != self.size:
            return False
        for name, op, t in self.times:
            value = doc.get(name)  # compared as shown: to the microsecond
            if value is None or not TIME_OPS[op](round(value, 6), round(t, 6)):
                return False
        return True

    def conds(self) -> list[Cond]:
        c: list[Cond] = []
        if self.status is not None:
            c.append(Cond("eq", "status", self.status))
        if self.name is not None:
            c.append(Cond("eq", "name", self.name))
        if self.name_like:
            c.append(Cond("like", "name", f"%{like_escape(self.name_like)}%"))
        for key, value in (("az", self.availability_zone), ("type", self.volume_type), ("server", self.server_id),
                           ("ep", self.enterprise_project_id)):
            if value is not None:
                c.append(Cond("facet", key, value))
        if self.enterprise_projects is not None:  # a list allowed only through enterprise-project grants
            c.append(Cond("facet_in", "ep", self.enterprise_projects))
        for key, value in (("bootable", self.bootable), ("multiattach", self.multiattach)):
            if value is not None:
                c.append(Cond("facet", key, "true" if value else "false"))
        c += [Cond("facet", "meta", f"{k}={v}") for k, v in self.metadata.items()]
        return c


TIME_OPS = {"gt": float.__gt__, "gte": float.__ge__, "lt": float.__lt__, "lte": float.__le__, "eq": float.__eq__,
            "neq": float.__ne__}
# Sort keys with an index (the store column), and those read from the document.
SORT_KEYS = {"created_at": "created", "id": "id", "name": "name", "display_name": "name", "status": "status"}
DOC_SORT_KEYS = {
    "size": lambda d: d["size"], "availability_zone": lambda d: d["availability_zone"],
    "bootable": lambda d: bool(d.get("bootable")), "multiattach": lambda d: bool(d.get("multiattach")),
    "volume_type": lambda d: d["volume_type"], "updated_at": lambda d: d.get("updated") or d["created"],
    "description": lambda d: d.get("description") or "", "user_id": lambda d: d.get("user_id") or "",
    "project_id": lambda d: d["project_id"],
}
SCAN = 10000  # volumes a list looks at (the newest) for a sort or a filter no index serves


def settle_due(rt: Runtime, project_id: str, now: float) -> None:
    """Servers and volumes change together (a server's disks): one pass settles both."""
    from ecsim.services.server_rows import settle_due as settle_both

    settle_both(rt, project_id, now)


def list_volumes(rt: Runtime, project_id: str, flt: VolumeFilter, now: float, *, limit: int, offset: int = 0,
                 marker: str | None = None, sort: Sequence[tuple[str, bool]] = (("created_at", True),),
                 with_count: bool = False, view: tuple | None = None) -> tuple[list[Row], int | None]:
    """A page of volumes, settled at `now`, in `sort` order ((key, descending) pairs, ties by id). `view`: the key
    the caller renders them with (Runtime.row_view); where the store prefers it (Dialect.lazy_docs) only the rows
    whose view is not cached carry their doc."""
    settle_due(rt, project_id, now)
    for key, _ in sort:
        if key not in SORT_KEYS and key not in DOC_SORT_KEYS:
            raise InvalidInput(f"Invalid input received: Invalid sort key {key}; use one of "
                               f"{', '.join([*SORT_KEYS, *DOC_SORT_KEYS])}.", reason="sort_key")
    newest_first = sort[0][1]
    conds = flt.conds()
    if flt.ids is not None:
        rows = [r for r in rt.store.get_many("volume", flt.ids).values() if r.scope == project_id]
        rows.sort(key=lambda r: (r.created, r.id), reverse=newest_first)
        return rows[offset:offset + limit], len(rows) if with_count else None
    indexed = len(sort) == 1 and sort[0][0] in SORT_KEYS and not flt.scanned()
    total = rt.store.count("volume", project_id, conds) if with_count and not flt.scanned() else None
    if not indexed:  # sorted and filtered here, among the newest SCAN
        rows = [r for r in rt.store.select("volume", project_id, conds, limit=SCAN) if flt.matches(r.doc)]
        if with_count:
            total = len(rows)
        rows.sort(key=lambda r: r.id, reverse=newest_first)
        for key, descending in reversed(sort):  # stable sorts, the last key first
            value = DOC_SORT_KEYS.get(key) or (lambda d, k=SORT_KEYS[key]: d.get(k) or "")
            rows.sort(key=lambda r, v=value: v(r.doc), reverse=descending)
        if marker is not None:
            at = next((i for i, r in enumerate(rows) if r.id == marker), None)
            if at is None:
                raise InvalidInput(f"Invalid input received: marker [{marker}] not found", reason="marker_not_found",
                                   marker=marker)
            rows = rows[at + 1:]
        rows = rows[offset:offset + limit]
    else:
        order = SORT_KEYS[sort[0][0]]
        if marker is not None:
            row = rt.store.get("volume", marker)
            if row is None or row.scope != project_id:
                raise InvalidInput(f"Invalid input received: marker [{marker}] not found",
                                   reason="marker_not_found", marker=marker)
            value = {"created": row.created, "id": row.id, "name": row.doc["name"],
                     "status": row.doc["status"]}[order]
            conds.append(Cond("before" if newest_first else "after", order, (value, row.id)))
        rows = rt.select_for_view("volume", project_id, conds, view, newest_first=newest_first, limit=limit,
                                  offset=offset, order=order)
    for r in rows:
        if r.settle_at is not None:
            settle(r.doc, now)
    return rows, total


# -- create -------------------------------------------------------------------------------------------------------
@dataclass
class VolumeSpec:
    size: int | None
    name: str | None = None
    description: str | None = None
    volume_type: str | None = None
    availability_zone: str | None = None
    multiattach: bool = False
    metadata: dict[str, str] = field(default_factory=dict)
    image_id: str | None = None
    enterprise_project_id: str = "0"
    tags: dict[str, str] = field(default_factory=dict)
    iops: int | None = None  # provisioned performance (GPSSD2, ESSD2)
    throughput: int | None = None


def resolve_type(name_or_id: str | None) -> str:
    if name_or_id is None:
        return volumes.DEFAULT_TYPE
    if name_or_id in volumes.VOLUME_TYPES:
        return name_or_id
    if name_or_id in volumes.TYPE_BY_ID:
        return volumes.TYPE_BY_ID[name_or_id]
    raise NotFound("volume_type", name_or_id, f"Volume type with name {name_or_id} could not be found.",
                   reason="volume_type_not_found")


def check_quota(tx: SqlStore, rt: Runtime, project_id: str, count: int, gigabytes: int) -> None:
    used_volumes = tx.count("volume", project_id)
    limit = quota_limit(rt.config, "volumes")
    if used_volumes + count > limit:
        raise QuotaExceeded(f"Maximum number of volumes allowed ({limit}) exceeded for quota 'volumes'.",
                            resource="volumes", used=used_volumes, limit=limit)
    _check_gigabytes(tx, rt, project_id, gigabytes)


def _check_gigabytes(tx: SqlStore, rt: Runtime, project_id: str, gigabytes: int) -> None:
    used_gb = tx.counter(GIGABYTES, project_id)
    limit_gb = quota_limit(rt.config, "gigabytes")
    if used_gb + gigabytes > limit_gb:
        raise QuotaExceeded(f"Requested volume or snapshot exceeds allowed gigabytes quota. Requested {gigabytes}G, "
                            f"quota is {limit_gb}G and {used_gb}G has been consumed.", resource="gigabytes",
                            used=used_gb, limit=limit_gb)


def create_volumes(rt: Runtime, project_id: str, user_id: str, spec: VolumeSpec, *, count: int = 1,
                   now: float) -> tuple[list[dict], dict]:
    """New volumes (and the EVS job describing their creation)."""
    if not 1 <= count <= 100:
        raise InvalidInput("count must be between 1 and 100.", reason="count_invalid")
    volume_type = resolve_type(spec.volume_type)
    azs = rt.config.availability_zones
    az = spec.availability_zone or azs[0]  # Cinder's default zone (storage_availability_zone)
    if az not in azs:
        raise InvalidInput(f"Availability zone '{az}' is invalid.", reason="az_invalid")
    image = None
    if spec.image_id is not None:
        image = rt.image(project_id, spec.image_id)
        if image is None:
            raise NotFound("image", spec.image_id, f"Image {spec.image_id} could not be found.",
                           reason="image_not_found")
    size = spec.size if spec.size is not None else (image.min_disk if image else None)
    if size is None:
        raise InvalidInput("Invalid input received: size is required.", reason="volume_size")
    volumes.check_size(size)
    if image is not None and size < image.min_disk:
        raise InvalidInput(f"Invalid input received: Image minDisk size {image.min_disk} is larger than the volume "
                           f"size {size}.", reason="volume_size")
    if spec.multiattach and image is not None:
        raise InvalidInput("system image is not support to create Multiattach/shareable volume !",
                           reason="multiattach_image")
    if any(len(k) > 255 or len(v) > 255 for k, v in spec.metadata.items()):
        raise InvalidInput("Invalid input received: metadata keys and values must be at most 255 characters.",
                           reason="metadata")
    made, subs = [], []
    settle_due(rt, project_id, now)  # volumes whose deletion finished no longer count against the quota
    with rt.store.write() as tx:
        check_quota(tx, rt, project_id, count, size * count)
        for i in range(count):  # a microsecond apart: a batch lists in creation order
            name = spec.name if count == 1 or not spec.name else f"{spec.name}-{i + 1:04d}"
            vol = volumes.new_volume(
                project_id=project_id, user_id=user_id, name=name or "", size=size, volume_type=volume_type, az=az,
                now=now + i * 1e-6, bootable=image is not None, multiattach=spec.multiattach,
                image_id=image.id if image else None, image_name=image.name if image else None,
                description=spec.description, metadata=spec.metadata,
                enterprise_project_id=spec.enterprise_project_id, tags=spec.tags)
            if spec.iops is not None:
                vol["performance"] = {"iops": spec.iops, "throughput": spec.throughput}
            volumes.created(vol, now, rt.timing)
            entities = {"volume_id": vol["id"], "volume_type": volume_type, "size": size, "name": name}
            subs.append(jobs.sub_job("createVolume", now, final_at(vol, now), entities))
            save_volume(tx, vol, now, new=True)
            made.append(vol)
        if count == 1:
            job = jobs.new_job(project_id, "createVolume", now, entities=subs[0]["entities"],
                               end=subs[0]["end"], init_window=rt.timing("job.init"))
        else:
            job = jobs.new_job(project_id, "batchCreateVolume", now, subs=subs, init_window=rt.timing("job.init"))
        tx.insert_job(job["id"], project_id, job["end"], jobs.pack(job))
    return made, job


# -- changes ------------------------------------------------------------------------------------------------------
def change(rt: Runtime, project_id: str, volume_id: str, now: float, apply: object, *, facets: bool = False,
           job_type: str | None = None, job_entities: dict | None = None) -> tuple[dict, dict | None]:
    """Load the volume in a transaction, apply `apply(doc)` (a domain rule, which may raise), save it; with a
    job_type also record an EVS job ending when the change settles."""
    with rt.store.write() as tx:
        vol = load_volume(rt, project_id, volume_id, now, tx).doc
        apply(vol)  # type: ignore[operator]
        save_volume(tx, vol, now, facets=facets)
        job = _record_job(tx, rt, vol, now, job_type, job_entities)
    return vol, job


def _record_job(tx: SqlStore, rt: Runtime, vol: dict, now: float, job_type: str | None,
                entities: dict | None) -> dict | None:
    """The EVS job of a change to one volume, ending when the change settles."""
    if job_type is None:
        return None
    job = jobs.new_job(vol["project_id"], job_type, now, entities={"volume_id": vol["id"], **(entities or {})},
                       end=final_at(vol, now), init_window=rt.timing("job.init"))
    tx.insert_job(job["id"], vol["project_id"], job["end"], jobs.pack(job))
    return job


def extend_volume(rt: Runtime, project_id: str, volume_id: str, now: float, new_size: int, *, in_use_allowed: bool,
                  job: bool = False) -> tuple[dict, dict | None]:
    """Grow a volume within the gigabytes quota; with `job`, the EVS extendVolume job too."""
    with rt.store.write() as tx:
        vol = load_volume(rt, project_id, volume_id, now, tx).doc
        grow = new_size - vol["size"]
        volumes.extend(vol, now, rt.timing, new_size, in_use_allowed=in_use_allowed)
        _check_gigabytes(tx, rt, project_id, grow)
        save_volume(tx, vol, now)
        recorded = _record_job(tx, rt, vol, now, "extendVolume" if job else None, {"size": new_size})
    return vol, recorded


def totals(rt: Runtime, project_id: str, now: float) -> tuple[int, int]:
    """(how many volumes, how many GiB) a project holds."""
    settle_due(rt, project_id, now)
    return rt.store.count("volume", project_id), rt.store.counter(GIGABYTES, project_id)


def update_volume(rt: Runtime, project_id: str, volume_id: str, now: float, *, name: str | None = None,
                  description: str | None = None, metadata: dict[str, str] | None = None) -> dict:
    def apply(vol: dict) -> None:
        volumes.check_updatable(vol)
        if name is not None:
            vol["name"] = name
        if description is not None:
            vol["description"] = description
        if metadata is not None:
            vol["metadata"] = dict(metadata)
        vol["updated"] = now

    return change(rt, project_id, volume_id, now, apply, facets=True)[0]


def delete_volume(rt: Runtime, project_id: str, volume_id: str, now: float, *, force: bool = False) -> dict:
    return change(rt, project_id, volume_id, now, lambda vol: volumes.delete(vol, now, rt.timing, force=force),
                  job_type="deleteVolume")[1]  # type: ignore[return-value]


def set_metadata(rt: Runtime, project_id: str, volume_id: str, now: float, items: dict[str, str], *,
                 replace: bool = False, delete_key: str | None = None) -> dict:
    """Merge (POST), replace (PUT) or delete one key of the user metadata (checked by the caller's schema);
    returns the resulting metadata."""

    def apply(vol: dict) -> None:
        volumes.check_updatable(vol)
        if vol["status"] == "uploading":
            raise volumes.VolumeStateError("Invalid volume: Updating volume metadata is not allowed for volumes in "
                                           "uploading status.", status=vol["status"], action="metadata")
        meta = {} if replace else dict(vol.get("metadata") or {})
        if delete_key is not None:
            if delete_key not in meta:
                raise NotFound("metadata", delete_key, f"Volume {volume_id} has no metadata with key {delete_key}.",
                               reason="metadata_not_found")
            del meta[delete_key]
        meta.update(items)
        vol["metadata"] = meta
        vol["updated"] = now

    return change(rt, project_id, volume_id, now, apply, facets=True)[0]["metadata"]


def upload_image(rt: Runtime, project_id: str, volume_id: str, now: float, *, image_name: str, force: bool,
                 disk_format: str, container_format: str, visibility: str = "private",
                 protected: bool = False) -> tuple[dict, dict]:
    """Export the volume as a private image of the project: the volume is uploading and the image queued until
    the upload ends, then the image is active (IMS lists it, server creates may use it)."""
    with rt.store.write() as tx:
        vol = load_volume(rt, project_id, volume_id, now, tx).doc
        volumes.upload_image(vol, now, rt.timing, force=force)
        source = rt.image(project_id, vol["image_id"]) if vol.get("image_id") else None
        image = {
            "id": new_uuid(), "name": image_name, "project_id": project_id, "owner": project_id, "created": now,
            "os_version": source.os_version if source else "Other", "platform": source.platform if source else
            "Other", "os_type": source.os_type if source else "Linux", "os_bit": source.os_bit if source else "64",
            "architecture": source.architecture if source else "x86", "min_disk": vol["size"], "min_ram": 0,
            "size": vol["size"] * 1024**3, "imagetype": "private", "status": "queued", "visibility": visibility,
            "protected": protected, "disk_format": disk_format, "container_format": container_format,
            "source_volume_id": volume_id,
        }
        schedule(image, now, [(final_at(vol, now) - now, {"status": "active"})])
        save_volume(tx, vol, now)
        tx.insert(Put("image", image["id"], project_id, image, name=image_name, status=image["status"],
                      created=now, settle_at=next_at(image)))
    return vol, image


def quota_usage(rt: Runtime, project_id: str) -> dict[str, tuple[int, int]]:
    """(in use, limit) per quota resource, with EVS's per-type entries (`volumes_SSD`, ...; no per-type limit)."""
    store, config = rt.store, rt.config
    out = {
        "volumes": (store.count("volume", project_id), quota_limit(config, "volumes")),
        "gigabytes": (store.counter(GIGABYTES, project_id), quota_limit(config, "gigabytes")),
        "snapshots": (0, quota_limit(config, "snapshots")),
        "backups": (0, quota_limit(config, "backups")),
        "backup_gigabytes": (0, quota_limit(config, "backup_gigabytes")),
        "per_volume_gigabytes": (0, volumes.MAX_DATA_SIZE),
        "groups": (0, quota_limit(config, "groups")),
    }
    for t in volumes.VOLUME_TYPES:
        out[f"volumes_{t}"] = (store.count("volume", project_id, [Cond("facet", "type", t)]), -1)
        out[f"gigabytes_{t}"] = (store.counter(f"{GIGABYTES}.{t}", project_id), -1)
        out[f"snapshots_{t}"] = (0, -1)
    return out
