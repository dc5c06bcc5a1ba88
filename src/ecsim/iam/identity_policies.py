"""IAM 5.0 identity policies: the rules for custom policies, their versions and their attachments (no HTTP).

A policy keeps up to five versions; the default one is what attached users and groups are allowed. Policies attach
directly to users and groups, with no project scope. Limits are Huawei's documented quotas (productdesc-iam5
"Notes and Constraints"): 6,144 characters per document (whitespace not counted), 5 versions per policy, 10 policies
per user and 10 per group, 1,500 custom policies per account.

Store kinds: identity_policy (id = policy id, scope = account, name = policy name; the doc holds its versions) and
policy_attachment (id "<policy id>|<entity>", scope = account, name = policy id, ref = entity, where an entity is
"user:<id>" or "group:<id>").
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any

from ecsim.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from ecsim.iam import system
from ecsim.iam.policy import Policy, PolicyError, parse_policy

MAX_DOCUMENT_CHARS = 6144
MAX_VERSIONS = 5
MAX_ATTACHED = {"user": 10, "group": 10}
MAX_CUSTOM_POLICIES = 1500
MAX_DESCRIPTION = 1000
MAX_PATH = 512
NAME_RE = re.compile(r"^[A-Za-z0-9_+=.@-]{1,128}$")
PATH_RE = re.compile(r"^([A-Za-z0-9.,+@=_-]+/)*$")
VERSION_ID_RE = re.compile(r"^v[1-9][0-9]*$")
_WHITESPACE = re.compile(r"\s+")


class LimitExceeded(DomainError):
    """A documented quota would be exceeded (versions per policy, policies per user or group)."""

    reason = "limit"


# -- documents and attributes -------------------------------------------------------------------------------------
def parse_document(text: str, *, policy_id: str = "", name: str = "") -> Policy:
    """Validate a policy document sent as a JSON string; the message names the faulty element."""
    size = len(_WHITESPACE.sub("", text))
    if size > MAX_DOCUMENT_CHARS:
        raise InvalidInput(f"policy_document has {size} characters (whitespace not counted); at most "
                           f"{MAX_DOCUMENT_CHARS} are allowed.")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"policy_document is not valid JSON: {exc}.") from exc
    if isinstance(document, dict) and "Depends" in document:
        raise InvalidInput("policy_document is invalid: Depends is not allowed in identity policies.")
    try:
        return parse_policy(document, policy_id=policy_id, name=name, kind="identity", allowed_versions=("5.0",))
    except PolicyError as exc:
        raise InvalidInput(f"policy_document is invalid: {exc}.") from exc


def check_name(name: str) -> None:
    if not NAME_RE.match(name):
        raise InvalidInput(f"policy_name {name!r} is invalid: it must be 1 to 128 letters, digits or _+=.@- .")


def check_path(path: str) -> None:
    if len(path) > MAX_PATH or not PATH_RE.match(path):
        raise InvalidInput(f"path {path!r} is invalid: segments of letters, digits or .,+@=_- each ending with "
                           f"\"/\" (for example \"foo/bar/\"), at most {MAX_PATH} characters.")


def check_description(description: str) -> None:
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description has {len(description)} characters; at most {MAX_DESCRIPTION} are allowed.")


def policy_urn(domain_id: str, name: str) -> str:
    return f"iam::{domain_id}:policy:{name}"


# -- custom policies and versions ------------------------------------------------------------------------------------
def new_policy(domain_id: str, name: str, path: str, description: str, document: str, now: float) -> dict:
    """A custom policy whose only version v1 is the default (the document is validated first)."""
    check_name(name)
    check_path(path)
    check_description(description)
    parse_document(document)
    return {
        "id": str(uuid.uuid4()), "name": name, "path": path, "description": description, "domain_id": domain_id,
        "urn": policy_urn(domain_id, name), "default_version_id": "v1", "next_version": 2,
        "versions": [{"version_id": "v1", "document": document, "created": now}],
        "created": now, "updated": now,
    }


def find_version(policy: dict, version_id: str) -> dict:
    if not VERSION_ID_RE.match(version_id):
        raise InvalidInput(f"version_id {version_id!r} is invalid: \"v\" followed by digits, for example \"v2\".")
    for v in policy["versions"]:
        if v["version_id"] == version_id:
            return v
    raise NotFound("policy_version", version_id, f"Version {version_id} of policy {policy['id']} does not exist.")


def add_version(policy: dict, document: str, set_as_default: bool, now: float) -> tuple[dict, dict]:
    """The policy with a new version (and the version); the sixth version is refused, nothing is dropped."""
    parse_document(document)
    if len(policy["versions"]) >= MAX_VERSIONS:
        raise LimitExceeded(f"Policy {policy['id']} already has {MAX_VERSIONS} versions, the most a policy may keep; "
                            "delete a version that is not the default first.")
    version = {"version_id": f"v{policy['next_version']}", "document": document, "created": now}
    out = {**policy, "versions": [*policy["versions"], version], "next_version": policy["next_version"] + 1}
    if set_as_default:
        out["default_version_id"] = version["version_id"]
        out["updated"] = now
    return out, version


def set_default_version(policy: dict, version_id: str, now: float) -> dict:
    find_version(policy, version_id)
    return {**policy, "default_version_id": version_id, "updated": now}


def delete_version(policy: dict, version_id: str) -> dict:
    find_version(policy, version_id)
    if version_id == policy["default_version_id"]:
        raise Conflict(f"Version {version_id} is the default version of policy {policy['id']} and cannot be deleted; "
                       "set another version as the default first.")
    return {**policy, "versions": [v for v in policy["versions"] if v["version_id"] != version_id]}


def default_document(policy: dict) -> str:
    return find_version(policy, policy["default_version_id"])["document"]


# -- attachments ----------------------------------------------------------------------------------------------------
def entity(entity_type: str, entity_id: str) -> str:
    return f"{entity_type}:{entity_id}"


def attachment_id(policy_id: str, entity_type: str, entity_id: str) -> str:
    return f"{policy_id}|{entity(entity_type, entity_id)}"


def check_attach_limit(entity_type: str, entity_id: str, attached: int) -> None:
    limit = MAX_ATTACHED[entity_type]
    if attached >= limit:
        raise LimitExceeded(f"attached policies per {entity_type} limit exceeded: {entity_type} {entity_id} already "
                            f"has {limit} identity policies attached.")


# -- system identity policies -----------------------------------------------------------------------------------------
def _system_policy(role: system.SystemRole) -> dict:
    """A 5.0 copy of a 1.1 system policy: same statements, Version "5.0", a name without spaces (Huawei's 5.0
    system policies are named like "ECSFullAccessPolicy")."""
    name = role.display_name.replace(" ", "") + "Policy"
    statements: list[dict[str, Any]] = [
        {k: v for k, v in s.items() if k in ("Effect", "Action", "Condition")} for s in role.policy["Statement"]]
    document = json.dumps({"Version": "5.0", "Statement": statements}, separators=(",", ":"))
    pid = str(uuid.UUID(hashlib.md5(f"ecsim-system-policy-v5:{name}".encode()).hexdigest()))
    return {
        "id": pid, "name": name, "path": "", "description": role.description, "domain_id": None,
        "urn": f"iam::system:policy:{name}", "default_version_id": "v1", "next_version": 2,
        "versions": [{"version_id": "v1", "document": document, "created": 1540000000.0}],
        "created": 1540000000.0, "updated": 1540000000.0,
    }


SYSTEM_POLICIES: tuple[dict, ...] = tuple(_system_policy(r) for r in system.SYSTEM_ROLES if r.fine_grained)
SYSTEM_BY_ID = {p["id"]: p for p in SYSTEM_POLICIES}
