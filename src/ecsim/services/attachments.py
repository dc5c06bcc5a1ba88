"""Volumes on servers: attach and detach one disk, a shared disk on several servers at once, and the block devices a
server shows. An attachment is written on both sides in one transaction: the server's `volumes` (what ECS and Nova
show) and the volume's `attachments` and status (what EVS and Cinder show)."""

from __future__ import annotations

from dataclasses import dataclass

from ecsim.domain import jobs, servers, volumes
from ecsim.domain.errors import DomainError, InvalidInput, NotFound
from ecsim.domain.timeline import final_at, settle
from ecsim.runtime import Runtime
from ecsim.services import block
from ecsim.services.server_rows import get_server, lock_servers, save_job, save_server
from ecsim.store import SqlStore

MAX_BATCH_SERVERS = volumes.MAX_SHARED_ATTACHMENTS


def _lock_volume(tx: SqlStore, rt: Runtime, project_id: str, volume_id: str, now: float) -> dict:
    """The volume, locked; ECS reports an unknown disk as one that cannot be attached (400 Ecs.0103)."""
    try:
        return block.load_volume(rt, project_id, volume_id, now, tx).doc
    except NotFound as exc:
        raise volumes.VolumeStateError(f"The disk {volume_id} does not exist.", status=None,
                                       action="attach") from exc


def _check_target(server: dict, vol: dict, device: str | None,
                  vm_states: tuple[str, ...] = servers.ECS_ATTACH_STATES) -> str:
    """The server may take this disk: a state that allows attaching, the disk's zone, a free device."""
    servers.check_attach(server, vm_states=vm_states)
    if vol["availability_zone"] != server["availability_zone"]:
        raise DomainError(f"The disk {vol['id']} is in {vol['availability_zone']} and server {server['id']} in "
                          f"{server['availability_zone']}; a disk can be attached only in its own zone.",
                          reason="az_mismatch")
    return servers.check_device(server, device)


def _attach(tx: SqlStore, rt: Runtime, vol: dict, targets: list[tuple[dict, str]], now: float, *,
            tag: str | None = None, delete_on_termination: bool = False) -> list[dict]:
    """Both sides of the attachments, written; the sub-jobs (one per server) end when the disk is in-use."""
    volumes.attach_servers(vol, now, rt.timing, [(s["id"], device) for s, device in targets])
    block.save_volume(tx, vol, now, facets=True)
    end = final_at(vol, now)
    subs = []
    for server, device in targets:
        servers.add_volume(server, vol["id"], device, now, tag=tag, delete_on_termination=delete_on_termination)
        save_server(tx, server, now)
        subs.append(jobs.sub_job("attachVolume", now, end, {"server_id": server["id"], "volume_id": vol["id"]}))
    return subs


def attach_volume(rt: Runtime, project_id: str, server_id: str, volume_id: str, device: str | None, *, now: float,
                  dry_run: bool = False, tag: str | None = None, delete_on_termination: bool = False,
                  vm_states: tuple[str, ...] = servers.ECS_ATTACH_STATES) -> dict | None:
    """One disk on one server (ECS attachvolume, Nova os-volume_attachments with its tag and
    delete_on_termination); the job's entities name both."""
    with rt.store.write() as tx:
        server = lock_servers(tx, project_id, [server_id], now)[0]
        vol = _lock_volume(tx, rt, project_id, volume_id, now)
        device = _check_target(server, vol, device, vm_states)
        volumes.check_attach_servers(vol, [server_id])
        if dry_run:
            return None
        sub = _attach(tx, rt, vol, [(server, device)], now, tag=tag,
                      delete_on_termination=delete_on_termination)[0]
        job = jobs.new_job(project_id, "attachVolume", now, entities=sub["entities"], end=sub["end"],
                           init_window=rt.timing("job.init"))
        save_job(tx, job)
    return job


def attach_shared_volume(rt: Runtime, project_id: str, volume_id: str, targets: list[tuple[str, str | None]], *,
                         now: float) -> dict:
    """POST .../batchaction/attachvolumes/{volume_id}: a shared disk on several servers, all or none."""
    if not targets:
        raise InvalidInput("serverinfo must list at least one server.")
    ids = [sid for sid, _ in targets]
    if len(set(ids)) != len(ids):
        raise InvalidInput("serverinfo lists a server more than once.")
    if len(ids) > MAX_BATCH_SERVERS:
        raise InvalidInput(f"serverinfo may list at most {MAX_BATCH_SERVERS} servers.")
    with rt.store.write() as tx:
        vol = _lock_volume(tx, rt, project_id, volume_id, now)
        if not vol.get("multiattach"):
            raise DomainError(f"The disk {volume_id} is not a shared disk; attach it to one server with "
                              ".../cloudservers/{server_id}/attachvolume.", reason="volume_not_shared")
        docs = lock_servers(tx, project_id, ids, now)
        devices = [_check_target(doc, vol, device) for doc, (_, device) in zip(docs, targets, strict=True)]
        volumes.check_attach_servers(vol, ids)
        subs = _attach(tx, rt, vol, list(zip(docs, devices, strict=True)), now)
        job = jobs.new_job(project_id, "batchAttachVolumes", now, subs=subs, init_window=rt.timing("job.init"))
        save_job(tx, job)
    return job


@dataclass(frozen=True)
class _Refusal:
    reason: str  # not_attached | state | not_found
    message: str


def detach_volume(rt: Runtime, project_id: str, server_id: str, volume_id: str, *, now: float,
                  force: bool = False, vm_states: tuple[str, ...] = servers.ECS_ATTACH_STATES) -> dict:
    """DELETE .../cloudservers/{server_id}/detachvolume/{volume_id}: the system disk only from a stopped server;
    `force` (delete_flag=1) detaches whatever the server is doing."""
    with rt.store.write() as tx:
        server = lock_servers(tx, project_id, [server_id], now)[0]
        refusal = _detach_refusal(server, volume_id, force=force, vm_states=vm_states)
        if refusal is not None:
            raise DomainError(refusal.message, reason=refusal.reason)
        sub = _detach(tx, rt, project_id, volume_id, [server], now)[0]
        job = jobs.new_job(project_id, "detachVolume", now, entities=sub["entities"], end=sub["end"],
                           init_window=rt.timing("job.init"))
        save_job(tx, job)
    return job


def _detach_refusal(server: dict, volume_id: str, *, force: bool,
                    vm_states: tuple[str, ...] = servers.ECS_ATTACH_STATES) -> _Refusal | None:
    entry = next((v for v in server.get("volumes", []) if v["id"] == volume_id), None)
    if entry is None:
        return _Refusal("not_attached", f"The EVS disk {volume_id} is not attached to server {server['id']}.")
    if force:
        return None
    try:
        servers.check_attach(server, "detach_volume", vm_states)
    except DomainError as exc:
        return _Refusal("state", exc.message)
    if entry["boot_index"] == 0 and server.get("vm_state") != "stopped":
        return _Refusal("state", f"The system disk {volume_id} can be detached only from a stopped server; server "
                                 f"{server['id']} is {servers.status(server)}.")
    return None


def _detach(tx: SqlStore, rt: Runtime, project_id: str, volume_id: str, docs: list[dict], now: float) -> list[dict]:
    """Both sides of detaching the disk from these servers, written; one sub-job per server."""
    row = tx.get("volume", volume_id, for_update=True)
    end = now
    if row is not None:
        vol = row.doc
        settle(vol, now)
        volumes.check_settled(vol, "detach")
        volumes.detach_servers(vol, now, rt.timing, [d["id"] for d in docs])
        block.save_volume(tx, vol, now, facets=True)
        end = final_at(vol, now)
    subs = []
    for doc in docs:
        servers.remove_volume(doc, volume_id, now)
        save_server(tx, doc, now)
        subs.append(jobs.sub_job("detachVolume", now, end, {"server_id": doc["id"], "volume_id": volume_id}))
    return subs


_FAIL_CODES = {"not_attached": "Ecs.0111", "state": "Ecs.0100", "not_found": "Ecs.0114"}


def detach_from_servers(rt: Runtime, project_id: str, volume_id: str, server_ids: list[str], *, now: float) -> dict:
    """POST .../batchaction/detachvolumes/{volume_id}: one sub-job per server; a server the disk is not on (or that
    does not exist, or cannot detach now) fails its own sub-job with the ECS code while the others detach."""
    if not server_ids:
        raise InvalidInput("serverinfo must list at least one server.")
    if len(server_ids) > MAX_BATCH_SERVERS:
        raise InvalidInput(f"serverinfo may list at most {MAX_BATCH_SERVERS} servers.")
    if len(set(server_ids)) != len(server_ids):
        raise InvalidInput("serverinfo lists a server more than once.")
    with rt.store.write() as tx:
        block.load_volume(rt, project_id, volume_id, now, tx)  # an unknown disk refuses the whole request
        rows = tx.get_many("server", server_ids, for_update=True)
        detach, failed = [], {}
        for sid in server_ids:
            row = rows.get(sid)
            if row is not None and row.scope == project_id:
                settle(row.doc, now)
            if row is None or row.scope != project_id or servers.is_deleted(row.doc):
                failed[sid] = _Refusal("not_found", f"The ECS {sid} does not exist.")
                continue
            refusal = _detach_refusal(row.doc, volume_id, force=False)
            if refusal is None:
                detach.append(row.doc)
            else:
                failed[sid] = refusal
        done = {s["entities"]["server_id"]: s for s in _detach(tx, rt, project_id, volume_id, detach, now)} \
            if detach else {}
        subs = []
        for sid in server_ids:
            if sid in done:
                subs.append(done[sid])
            else:
                refusal = failed[sid]
                subs.append(jobs.sub_job("detachVolume", now, now, {"server_id": sid, "volume_id": volume_id},
                                         error_code=_FAIL_CODES[refusal.reason], fail_reason=refusal.message))
        job = jobs.new_job(project_id, "batchDetachVolumes", now, subs=subs, init_window=rt.timing("job.init"))
        save_job(tx, job)
    return job


# -- reads ----------------------------------------------------------------------------------------------------------
def block_devices(rt: Runtime, project_id: str, server_id: str, now: float) -> tuple[dict, list[dict]]:
    """(server doc, its disks with sizes) for GET .../cloudservers/{server_id}/block_device."""
    doc = get_server(rt, project_id, server_id, now)
    rows = rt.store.get_many("volume", [v["id"] for v in doc.get("volumes", [])])
    out = []
    for v in doc.get("volumes", []):
        row = rows.get(v["id"])
        out.append({**v, "size": row.doc["size"] if row else 0})
    return doc, out
