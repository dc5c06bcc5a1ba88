"""Server rows: loading (settled at the time of the request), locking for a change, and saving servers and their
jobs. Every server use case (compute, attachments, groups, lifecycle) shares these."""

from __future__ import annotations

from ecsim.domain import jobs, servers
from ecsim.domain.errors import DomainError, InvalidInput, NotFound
from ecsim.domain.timeline import next_at, settle
from ecsim.runtime import Runtime
from ecsim.services.block import save_volume
from ecsim.store import Cond, Put, Row, SqlStore

MAX_BATCH = 1000
# What stays of a deleted server, for a day: Nova lists deleted servers to `changes-since` / `changes-before`
# queries (and to admins asking for `deleted=true`) until its database is archived. Their rows are ordered by when
# the server was deleted.
DELETED_KIND = "server_deleted"
DELETED_RETENTION_SECONDS = 24 * 3600


def server_put(doc: dict, now: float, *, with_facets: bool = False) -> Put | None:
    """The row for a server doc after settling what is due; None once it is gone (deleted and settled).
    `with_facets` when the filterable attributes may have changed (creation, rename, updates)."""
    settle(doc, now)
    if servers.is_deleted(doc) and "_steps" not in doc:
        return None
    return Put("server", doc["id"], doc["project_id"], doc, name=doc["name"], status=servers.status(doc),
               created=doc["created"], settle_at=next_at(doc),
               facets=servers.facets(doc) if with_facets else None)


def save_server(tx: SqlStore, doc: dict, now: float, *, new: bool = False, facets: bool = False) -> None:
    """`facets` when a filterable attribute changed (name, image, flavor, group, ...)."""
    put = server_put(doc, now, with_facets=new or facets)
    if put is None:
        if not new and tx.delete("server", doc["id"]):
            tx.insert(Put(DELETED_KIND, doc["id"], doc["project_id"], doc, name=doc["name"], status=servers.status(doc),
                          created=doc.get("terminated_at") or now, facets=servers.facets(doc)))
    elif new:
        tx.insert(put)
    else:
        tx.update(put, rename=facets)


def save_job(tx: SqlStore, job: dict) -> None:
    tx.insert_job(job["id"], job["project_id"], job["end"], jobs.pack(job))


def settle_due(rt: Runtime, project_id: str | None, now: float) -> None:
    """Apply the timed transitions that are due, so indexed status filters see the current state."""
    due = rt.store.due(now, ("server", "volume"), project_id)
    if not due:
        return
    with rt.store.write() as tx:
        for row in tx.get_many("server", [r.id for r in due if r.kind == "server"], for_update=True).values():
            save_server(tx, row.doc, now)
        for row in tx.get_many("volume", [r.id for r in due if r.kind == "volume"], for_update=True).values():
            save_volume(tx, row.doc, now)


def purge_deleted(tx: SqlStore, now: float) -> int:
    return tx.delete_where(DELETED_KIND, None, [Cond("before", "created", (now - DELETED_RETENTION_SECONDS, ""))])


# -- reads --------------------------------------------------------------------------------------------------------
def load_server(rt: Runtime, project_id: str, server_id: str, now: float) -> Row:
    """The server's row with its doc settled at `now`; NotFound for unknown, other-project or deleted servers."""
    row = rt.store.get("server", server_id)
    if row is None or row.scope != project_id:
        raise NotFound("instance", server_id, f"Instance[{server_id}] could not be found.")
    if row.settle_at is None:  # settled rows are never deleted ones (those are removed)
        return row
    settle(row.doc, now)
    if servers.is_deleted(row.doc):
        raise NotFound("instance", server_id, f"Instance[{server_id}] could not be found.")
    return row


def get_server(rt: Runtime, project_id: str, server_id: str, now: float) -> dict:
    return load_server(rt, project_id, server_id, now).doc


def lock_servers(tx: SqlStore, project_id: str, ids: list[str], now: float) -> list[dict]:
    if not ids:
        raise InvalidInput("servers must list at least one server.")
    if len(ids) > MAX_BATCH:
        raise DomainError(f"The number of ECSs exceeds the maximum allowed limit ({MAX_BATCH}).",
                          reason="too_many_servers")
    unique = list(dict.fromkeys(ids))
    rows = tx.get_many("server", unique, for_update=True)
    missing = [sid for sid in unique if sid not in rows or rows[sid].scope != project_id]
    if missing:  # every one named (ECS batch errors list each failing server)
        raise NotFound("instance", missing[0], f"Instance[{missing[0]}] could not be found.", missing=missing)
    docs = []
    for sid in unique:
        row = rows[sid]
        doc = row.doc
        if row.settle_at is not None:  # settled rows are never deleted ones (those are removed)
            settle(doc, now)
            if servers.is_deleted(doc):
                raise NotFound("instance", sid, f"Instance[{sid}] could not be found.")
        docs.append(doc)
    return docs


