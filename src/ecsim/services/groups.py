"""Server group use cases, shared by the ECS v1 groups and Nova's os-server-groups: create, list, show, delete, add
and remove members, and the placement a group imposes on its servers (create, add_member, migrate)."""

from __future__ import annotations

from ecsim.config import quota_limit
from ecsim.domain import groups, servers
from ecsim.domain.errors import DomainError, InvalidInput, NotFound, QuotaExceeded
from ecsim.domain.provision import hypervisor_of
from ecsim.runtime import Runtime
from ecsim.services.server_rows import lock_servers, save_server
from ecsim.store import Cond, Put, Row, SqlStore

KIND = "server_group"


def _put(doc: dict) -> Put:
    return Put(KIND, doc["id"], doc["project_id"], doc, name=doc["name"], status="active", created=doc["created"])


def not_found(group_id: str) -> NotFound:
    return NotFound("server_group", group_id, f"Server group {group_id} could not be found.")


def load_group(store: SqlStore, project_id: str, group_id: str, *, for_update: bool = False) -> dict:
    row = store.get(KIND, group_id, for_update=for_update)
    if row is None or row.scope != project_id:
        raise not_found(group_id)
    return row.doc


def member_rows(store: SqlStore, project_id: str, group_id: str) -> list[Row]:
    """The group's servers, in the order they joined (a member is a server whose hints name the group)."""
    rows = store.select("server", project_id, [Cond("facet", "group", group_id)], newest_first=False)
    return [r for r in rows if not servers.is_deleted(r.doc)]


def members(store: SqlStore, project_id: str, group_id: str) -> list[str]:
    return [r.id for r in member_rows(store, project_id, group_id)]


def create_group(rt: Runtime, project_id: str, user_id: str, name: str, policy: str, *, now: float,
                 rules: dict | None = None) -> dict:
    if not name or len(name) > 255:
        raise InvalidInput("server_group.name must be 1 to 255 characters long.")
    if policy not in groups.POLICIES:
        raise InvalidInput(f"policy {policy!r} is not one of {', '.join(groups.POLICIES)}.")
    with rt.store.write() as tx:
        limit = quota_limit(rt.config, "server_groups")
        used = tx.count(KIND, project_id)
        if used >= limit:
            raise QuotaExceeded(f"Quota exceeded for server_groups: requested 1, but already used {used} of "
                                f"{limit} server_groups.", resource="server_groups", used=used, limit=limit)
        doc = groups.new_group(project_id=project_id, user_id=user_id, name=name, policy=policy, now=now,
                               rules=rules)
        tx.insert(_put(doc))
    return doc


def list_groups(rt: Runtime, project_id: str | None, *, limit: int | None = None,
                marker: str | None = None) -> list[dict]:
    """Oldest first; `marker` is the last group of the previous page. project_id None lists every project's."""
    conds = []
    if marker:
        row = rt.store.get(KIND, marker)
        if row is None or (project_id is not None and row.scope != project_id):
            raise InvalidInput(f"marker [{marker}] not found", reason="marker_not_found")
        conds.append(Cond("after", "created", (row.created, row.id)))
    return [r.doc for r in rt.store.select(KIND, project_id, conds, newest_first=False, limit=limit)]


def delete_group(rt: Runtime, project_id: str, group_id: str) -> None:
    """Members keep running (and keep the hint), as in Nova."""
    with rt.store.write() as tx:
        load_group(tx, project_id, group_id, for_update=True)
        tx.delete(KIND, group_id)


def _policy(doc: dict) -> str:
    return doc["policies"][0]


def _per_host(doc: dict) -> int:
    """Anti-affinity members one host may run (Nova 2.64's rule max_server_per_host; 1 without it)."""
    return int((doc.get("rules") or {}).get("max_server_per_host") or 1)


def az_hosts(rt: Runtime, az: str) -> list[str]:
    """The compute hosts of a zone (`--hosts-per-az`)."""
    return [f"pod{n:02d}.{az}" for n in range(1, rt.config.hosts_per_az + 1)]


def hosts_for(tx: SqlStore, rt: Runtime, project_id: str, group_id: str | None, az: str, count: int, *,
              exclude: tuple[str, ...] = (), new_members: bool = True) -> list[str | None]:
    """Hosts in `az` for `count` servers (of the group, if any), None where its policy leaves no room; for
    `new_members`, checks the group's member quota too."""
    hosts = az_hosts(rt, az)
    if group_id is None:
        return groups.place(None, hosts, [], count)
    doc = load_group(tx, project_id, group_id)
    rows = [r for r in member_rows(tx, project_id, group_id) if r.id not in exclude]
    limit = quota_limit(rt.config, "server_group_members")
    if new_members and len(rows) + count > limit:
        raise DomainError(f"Quota exceeded for server_group_members: the group {group_id} has {len(rows)} of "
                          f"{limit} members.", reason="group_member_quota")
    policy = _policy(doc)
    if policy == "affinity" and any(r.doc.get("host") and r.doc.get("availability_zone") != az for r in rows):
        return [None] * count  # the members' host is in another zone: no host here is it
    taken = [r.doc["host"] for r in rows if r.doc.get("availability_zone") == az and r.doc.get("host")]
    return groups.place(policy, hosts, taken, count, _per_host(doc))


def add_member(rt: Runtime, project_id: str, group_id: str, server_id: str, *, now: float) -> None:
    """ECS adds a stopped server. One whose host breaks the group's anti-affinity moves to a free host (a stopped
    server is placed again anyway when it starts); with no host free the call is refused."""
    with rt.store.write() as tx:
        group = load_group(tx, project_id, group_id)
        doc = lock_servers(tx, project_id, [server_id], now)[0]
        servers.check_stopped(doc, "add_member")
        # a deleted group's hint stays on its former members but no longer binds them (as migrate treats it)
        current = [g for g in servers.group_ids(doc) if tx.get(KIND, g) is not None]
        if current:
            raise DomainError(f"The ECS {server_id} already belongs to server group {current[0]}; a server can be "
                              "in one group only.", reason="invalid")
        az = doc["availability_zone"]
        host = hosts_for(tx, rt, project_id, group_id, az, 1)[0]  # also the member quota
        if _policy(group) == "anti-affinity":
            taken = [r.doc.get("host") for r in member_rows(tx, project_id, group_id)]
            if taken.count(doc.get("host")) >= _per_host(group):
                if host is None:
                    raise DomainError(groups.NO_VALID_HOST, reason="no_valid_host")
                doc["host"], doc["hypervisor_hostname"] = host, hypervisor_of(host, az)
        doc.setdefault("scheduler_hints", {})["group"] = [group_id]
        doc["updated"] = now
        save_server(tx, doc, now, facets=True)


def remove_member(rt: Runtime, project_id: str, group_id: str, server_id: str, *, now: float) -> None:
    with rt.store.write() as tx:
        load_group(tx, project_id, group_id)
        doc = lock_servers(tx, project_id, [server_id], now)[0]
        if group_id not in servers.group_ids(doc):
            raise DomainError(f"The ECS {server_id} is not a member of server group {group_id}.", reason="invalid")
        doc["scheduler_hints"] = {k: v for k, v in (doc.get("scheduler_hints") or {}).items() if k != "group"}
        doc["updated"] = now
        save_server(tx, doc, now, facets=True)
