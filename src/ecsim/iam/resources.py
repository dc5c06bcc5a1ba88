"""The resources an operation acts on, as IAM sees them: ids taken from the request (the catalog entry's
`resource_from`), their URNs (`service:region:account-id:type:id`) and their tags (`g:ResourceTag/<key>`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# IAM resource type -> (the service its URN names, the store kind holding it)
RESOURCE_TYPES: dict[str, tuple[str, str]] = {
    "instance": ("ecs", "server"), "volume": ("evs", "volume"),
    "user": ("iam", "user"), "group": ("iam", "group"), "policy": ("iam", "identity_policy"),
}
# Global services have no region segment in their URNs, and name IAM resources by name, not id
# (iam::<account-id>:user:<user-name>).
GLOBAL_SERVICES = frozenset({"iam"})
NAMED_TYPES = frozenset({"user", "group", "policy"})


def resource_ids(resource_from: str | None, params: dict[str, str], body: Any) -> tuple[str, ...]:
    """`path:server_id` reads a path parameter; `body:os-stop.servers[].id` walks the JSON body (`[]` = each item;
    a trailing `[]` means the items are the ids themselves)."""
    source, _, where = (resource_from or "").partition(":")
    if source == "path":
        value = params.get(where)
        return (value,) if value else ()
    if source == "body":
        return tuple(dict.fromkeys(_walk(body, where.split("."))))
    return ()


def _walk(value: Any, parts: list[str]) -> Iterator[str]:
    if not parts:
        if isinstance(value, str) and value:
            yield value
        return
    head, rest = parts[0], parts[1:]
    many = head.endswith("[]")
    key = head[:-2] if many else head
    value = value.get(key) if isinstance(value, dict) else None
    if not many:
        yield from _walk(value, rest)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, rest)


def urn(resource_type: str, region: str, account_id: str, resource_id: str) -> str:
    service = RESOURCE_TYPES[resource_type][0]
    return f"{service}:{'' if service in GLOBAL_SERVICES else region}:{account_id}:{resource_type}:{resource_id}"


def service_of(urn_or_action: str) -> str:
    return urn_or_action.split(":", 1)[0].lower()


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
