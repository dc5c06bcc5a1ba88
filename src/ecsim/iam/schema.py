"""The IAM 5.0 authorization schema (`GET /v5/authorization-schemas/services/{code}`), generated from ecsim's own
operation catalog: every action ecsim enforces with its access level, resource type and aliases, every operation
with its action and dependent actions. Actions that only appear as a dependency are listed as permission-only
(no operation of their own in ecsim)."""

from __future__ import annotations

import re
from functools import cache

from ecsim.catalog import Operation, all_operations
from ecsim.iam.evaluate import action_names
from ecsim.iam.resources import GLOBAL_SERVICES

SCHEMA_VERSION = "1.0"
_ID_NAMES = {"policy": "policy-name", "user": "user-name", "group": "group-name"}


def _service(action: str) -> str:
    return action.split(":", 1)[0]


def urn_template(service: str, resource_type: str) -> str:
    region = "" if service in GLOBAL_SERVICES else "<region>"
    ident = _ID_NAMES.get(resource_type, f"{resource_type}-id")
    return f"{service}:{region}:<account-id>:{resource_type}:<{ident}>"


def guess_level(action: str) -> str:
    """An action's access level from its verb (for actions no operation of ecsim names as its own)."""
    verb = action.rsplit(":", 1)[-1].lower()
    if verb.startswith("list"):
        return "list"
    if verb.startswith(("get", "show", "check")):
        return "read"
    return "write"


def operation_id(op: Operation) -> str:
    """The OpenAPI operationId: the SDK method's name in CamelCase (BatchStopServers, CreatePolicyV5), else one
    made from the catalog name (NovaCreateServer)."""
    base = op.sdk[0] if op.sdk else op.name.split(".")[0] + "_" + op.name.split(".")[1]
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_.]", base) if part)


@cache
def _schemas() -> dict[str, dict]:
    actions: dict[str, dict] = {}
    operations: dict[str, dict[str, dict]] = {}
    resources: dict[str, dict[str, str]] = {}
    for op in all_operations():
        if not op.actions or not op.handler:
            continue
        for name in op.actions:
            service = _service(name)
            entry = actions.setdefault(name.lower(), {
                "name": name, "access_level": op.access_level or guess_level(name), "permission_only": False,
                "description": {"en_us": op.title, "zh_cn": op.title},
                "aliases": [a for a in action_names(name) if a.lower() != name.lower()],
                "resources": [], "condition_keys": []})
            if op.resource_type:
                template = urn_template(service, op.resource_type)
                resources.setdefault(service, {})[op.resource_type] = template
                if all(r["urn_template"] != template for r in entry["resources"]):
                    entry["resources"].append({"urn_template": template, "required": True, "condition_keys": []})
        primary = op.actions[0]
        oid = operation_id(op)
        operations.setdefault(_service(primary), {}).setdefault(oid, {
            "operation_id": oid, "operation_action": primary,
            "dependent_actions": [*op.actions[1:], *op.dependencies]})
    for op in all_operations():  # after every operation's own actions: a dependency may be one of them
        for dep in op.dependencies if op.handler else ():
            actions.setdefault(dep.lower(), {
                "name": dep, "access_level": guess_level(dep), "permission_only": True,
                "description": {"en_us": "A permission other operations depend on.",
                                "zh_cn": "A permission other operations depend on."},
                "aliases": [a for a in action_names(dep) if a.lower() != dep.lower()],
                "resources": [], "condition_keys": []})
    out: dict[str, dict] = {}
    for service in sorted(operations):
        out[service] = {
            "version": SCHEMA_VERSION,
            "actions": sorted((a for a in actions.values() if _service(a["name"]) == service),
                              key=lambda a: a["name"]),
            "resources": [{"type_name": t, "urn_template": u} for t, u in sorted(resources.get(service, {}).items())],
            "conditions": [],
            "operations": sorted(operations[service].values(), key=lambda o: o["operation_id"]),
        }
    return out


def registered_services() -> list[str]:
    """Service codes with at least one operation ecsim serves."""
    return list(_schemas())


def service_schema(service_code: str) -> dict | None:
    return _schemas().get(service_code)
