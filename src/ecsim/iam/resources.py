"""The resources an operation acts on, as IAM sees them: ids taken from the request (the catalog entry's
`resource_from`), their URNs (`service:region:account-id:type:id`) and their tags (`g:ResourceTag/<key>`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ecsim.store import SqlStore

# IAM resource type -> (the service its URN names, the store kind holding it)
RESOURCE_TYPES: dict[str, tuple[str, str]] = {
    "instance": ("ecs", "server"), "volume": ("evs", "volume"),
    "user": ("iam", "user"), "group": ("iam", "group"), "policy": ("iam", "identity_policy"),
}
# Global services have no region segment in their URNs, and name IAM resources by name, not id
# (iam::<account-id>:user:<user-name>).
GLOBAL_SERVICES = frozenset({"iam"})
NAMED_TYPES = frozenset({"user", "group", "policy"})


@functools.cache
def _source(resource_from: str | None) -> tuple[str, tuple[tuple[str, bool], ...]]:
    """`body:a.b[].id` -> ("body", (("a", False), ("b", True), ("id", False))), parsed once per catalog entry."""
    source, _, where = (resource_from or "").partition(":")
    if source == "path":
        return source, ((where, False),)
    return source, tuple((p[:-2], True) if p.endswith("[]") else (p, False) for p in where.split("."))


def resource_ids(resource_from: str | None, params: dict[str, str], body: Any) -> tuple[str, ...]:
    """`path:server_id` reads a path parameter; `body:os-stop.servers[].id` walks the JSON body (`[]` = each item;
    a trailing `[]` means the items are the ids themselves)."""
    source, parts = _source(resource_from)
    if source == "path":
        value = params.get(parts[0][0])
        return (value,) if value else ()
    if source != "body":
        return ()
    values = [body]
    for key, many in parts:
        found = [v.get(key) if isinstance(v, dict) else None for v in values]
        values = [item for v in found if isinstance(v, list) for item in v] if many else found
    return tuple(dict.fromkeys(v for v in values if isinstance(v, str) and v))


@functools.cache
def urn_prefix(resource_type: str, region: str, account_id: str) -> str:
    service = RESOURCE_TYPES[resource_type][0]
    return f"{service}:{'' if service in GLOBAL_SERVICES else region}:{account_id}:{resource_type}:"


def urn(resource_type: str, region: str, account_id: str, resource_id: str) -> str:
    return urn_prefix(resource_type, region, account_id) + resource_id


def tag_pairs(tags: Any) -> dict[str, str]:
    """Tags as stored on servers (["k=v"] or [{"key", "value"}]) and volumes ({"k": "v"})."""
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    out: dict[str, str] = {}
    for t in tags or ():
        if isinstance(t, dict) and "key" in t:
            out[str(t["key"])] = str(t.get("value", ""))
        elif isinstance(t, str):
            k, _, v = t.partition("=")
            out[k] = v
    return out


def resource_condition_keys(doc: dict) -> dict[str, Any]:
    """Condition keys a single resource contributes: its tags and enterprise project."""
    tags = tag_pairs(doc.get("tags"))
    keys: dict[str, Any] = {f"g:resourcetag/{k.lower()}": v for k, v in tags.items()}
    keys["g:enterpriseprojectid"] = doc.get("enterprise_project_id") or "0"
    return keys


def body_at(body: Any, path: str) -> Any:
    """The member of a request body at a dotted path ("server.server_tags"), None where there is none."""
    node = body
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def request_ep(body: Any, path: str) -> str:
    """The enterprise project a create puts what it creates in: named at `path`, else the default one."""
    value = body_at(body, path)
    return value if isinstance(value, str) and value else "0"


def shared_ep(docs: Iterable[dict | None]) -> str | None:
    """The enterprise project all these resources are in (what a grant on an enterprise project needs); None when
    one is unknown (None) or they are in several."""
    eps = set()
    for doc in docs:
        if doc is None:
            return None
        eps.add(doc.get("enterprise_project_id") or "0")
    return eps.pop() if len(eps) == 1 else None


def request_tag_keys(body: Any, path: str) -> dict[str, Any]:
    """g:TagKeys and g:RequestTag/<key> of the tags a request puts on what it creates, found at `path` in its body
    ("server.server_tags"); none when it puts none."""
    node = body_at(body, path)
    tags = tag_pairs(node) if isinstance(node, list | dict) else {}
    keys: dict[str, Any] = {f"g:requesttag/{k.lower()}": v for k, v in tags.items()}
    if tags:
        keys["g:tagkeys"] = list(tags)
    return keys


class RequestResources:
    """The resources one request names (per its catalog entry), as URNs, with their documents read on demand (for
    IAM names and for condition keys). `scope` is the project (or, for IAM resources, the account) they must be in:
    another scope's resource counts as unknown, as the handler will answer."""

    def __init__(self, store: SqlStore, resource_type: str, resource_from: str | None, params: dict[str, str],
                 body: Any, *, region: str, account_id: str, scope: str | None) -> None:
        self._store, self._kind, self._scope = store, RESOURCE_TYPES[resource_type][1], scope
        self._docs: dict[str, dict | None] = {}
        ids = resource_ids(resource_from, params, body)
        if resource_type in NAMED_TYPES:  # IAM URNs name users, groups and policies by name
            names = [(self.doc_of(i) or {}).get("name", i) for i in ids]
        else:
            names = list(ids)
        prefix = urn_prefix(resource_type, region, account_id)
        self.urns = tuple(prefix + n for n in names)
        self._ids = dict(zip(self.urns, ids, strict=True))

    def doc_of(self, resource_id: str) -> dict | None:
        if resource_id not in self._docs:
            row = self._store.get(self._kind, resource_id)
            self._docs[resource_id] = row.doc if row is not None and row.scope == self._scope else None
        return self._docs[resource_id]

    def doc(self, resource_urn: str) -> dict | None:
        rid = self._ids.get(resource_urn)
        return None if rid is None else self.doc_of(rid)
