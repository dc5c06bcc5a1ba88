"""Huawei IAM 5.0 (`/v5`): identity policies, their versions, attachments to users and groups, and the
authorization schema generated from ecsim's catalog. The rules live in iam/identity_policies.py; every write bumps
the identity version inside its transaction, so enforcement sees it on the next request."""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from collections.abc import Callable
from typing import TypeVar

from msgspec import Struct

from ecsim.api import iam_common as acct
from ecsim.domain.errors import Conflict, InvalidInput, NotFound
from ecsim.http.context import Ctx, Response, empty, json_response
from ecsim.iam import identity_policies as ip5
from ecsim.iam import schema
from ecsim.iam.directory import Directory
from ecsim.store import Cond, SqlStore
from ecsim.timefmt import iso_millis_z

T = TypeVar("T")
MARKER_RE = re.compile(r"^[A-Za-z0-9+/=_-]{4,400}$")


class CreatePolicyBody(Struct):
    policy_name: str
    policy_document: str
    path: str = ""
    description: str = ""


class CreateVersionBody(Struct):
    policy_document: str
    set_as_default: bool = False


class UpdatePolicyBody(Struct):
    description: str


class UserRef(Struct):
    user_id: str


class GroupRef(Struct):
    group_id: str


# -- views and paging ------------------------------------------------------------------------------------------------
def policy_view(p: dict, attachments: int) -> dict:
    return {
        "policy_type": "system" if p["domain_id"] is None else "custom", "policy_name": p["name"],
        "policy_id": p["id"], "urn": p["urn"], "path": p["path"], "default_version_id": p["default_version_id"],
        "attachment_count": attachments, "description": p["description"],
        "created_at": iso_millis_z(p["created"]), "updated_at": iso_millis_z(p["updated"]),
    }


def version_view(p: dict, v: dict) -> dict:
    return {"document": v["document"], "version_id": v["version_id"],
            "is_default": v["version_id"] == p["default_version_id"], "created_at": iso_millis_z(v["created"])}


def page(ctx: Ctx, items: list[T], key: Callable[[T], str]) -> tuple[list[T], dict]:
    """One page of `items` after the `marker` (an opaque encoding of the last key seen) and the page_info."""
    limit = ctx.q_int("limit", 100, low=1, high=200) or 100
    start = 0
    marker = ctx.q("marker")
    if marker is not None:
        after = None
        if MARKER_RE.match(marker):
            try:
                after = base64.urlsafe_b64decode(marker.encode()).decode()
            except (binascii.Error, UnicodeDecodeError):
                after = None
        keys = [key(i) for i in items]
        if after is None or after not in keys:
            raise InvalidInput(f"marker {marker!r} is not a pagination marker of this list.")
        start = keys.index(after) + 1
    chunk = items[start:start + limit]
    info: dict = {"current_count": len(chunk)}
    if start + limit < len(items):
        info["next_marker"] = base64.urlsafe_b64encode(key(chunk[-1]).encode()).decode()
    return chunk, info


# -- lookups --------------------------------------------------------------------------------------------------------
def _attachments(store: SqlStore, domain_id: str, policy_id: str) -> int:
    return store.count("policy_attachment", domain_id, [Cond("eq", "name", policy_id)])


def _policy(ctx: Ctx, policy_id: str) -> dict:
    """A system policy, or a custom policy of the caller's account."""
    found = ip5.SYSTEM_BY_ID.get(policy_id)
    if found is not None:
        return found
    row = ctx.rt.store.get("identity_policy", policy_id)
    if row is None or row.scope != acct.caller(ctx).domain_id:
        raise NotFound("policy", policy_id, f"The identity policy {policy_id} does not exist.")
    return row.doc


def _custom_for_update(ctx: Ctx, tx: SqlStore) -> tuple[dict, int]:
    """The custom policy of the path, read inside the write transaction (system policies are read-only)."""
    policy_id = ctx.params["policy_id"]
    if policy_id in ip5.SYSTEM_BY_ID:
        raise InvalidInput(f"The identity policy {policy_id} is a system policy and cannot be modified.")
    row = tx.get("identity_policy", policy_id, for_update=True)
    if row is None or row.scope != acct.caller(ctx).domain_id:
        raise NotFound("policy", policy_id, f"The identity policy {policy_id} does not exist.")
    return row.doc, row.version


def _rewrite(ctx: Ctx, change: Callable[[dict], dict]) -> dict:
    """Replace the path's custom policy by `change(policy)` in one transaction (optimistic on its row version);
    returns the new document."""
    with ctx.rt.store.write() as tx:
        p, version = _custom_for_update(ctx, tx)
        updated = change(p)
        Directory.put_identity_policy(tx, updated, new=False, expect_version=version)
        acct.changed(ctx, tx)
    return updated


# -- policies -------------------------------------------------------------------------------------------------------
def create_policy(ctx: Ctx) -> Response:
    body = ctx.body_as(CreatePolicyBody)
    caller = acct.caller(ctx)
    doc = ip5.new_policy(caller.domain_id, body.policy_name, body.path, body.description, body.policy_document,
                         ctx.now)
    with ctx.rt.store.write() as tx:
        taken = any(p["name"] == body.policy_name for p in ip5.SYSTEM_POLICIES) or tx.select(
            "identity_policy", caller.domain_id, [Cond("eq", "name", body.policy_name)], limit=1)
        if taken:
            raise Conflict(f"An identity policy named {body.policy_name!r} already exists.")
        if tx.count("identity_policy", caller.domain_id) >= ip5.MAX_CUSTOM_POLICIES:
            raise ip5.LimitExceeded(f"custom policies limit exceeded: the account already has "
                                    f"{ip5.MAX_CUSTOM_POLICIES}.")
        Directory.put_identity_policy(tx, doc, new=True)
        acct.changed(ctx, tx)
    return json_response(200, {"policy": policy_view(doc, 0)})


def list_policies(ctx: Ctx) -> Response:
    domain_id = acct.caller(ctx).domain_id
    kind = ctx.q("policy_type")
    if kind not in (None, "custom", "system"):
        raise InvalidInput(f"policy_type must be custom or system, got {kind!r}.")
    prefix = ctx.q("path_prefix")
    if prefix is not None:
        ip5.check_path(prefix)
    policies: list[dict] = []
    if kind in (None, "system"):
        policies.extend(ip5.SYSTEM_POLICIES)
    if kind in (None, "custom"):
        policies.extend(r.doc for r in ctx.rt.store.select("identity_policy", domain_id, newest_first=False))
    counts = Counter(r.doc["policy_id"] for r in ctx.rt.store.select("policy_attachment", domain_id))
    if prefix:
        policies = [p for p in policies if p["path"].startswith(prefix)]
    if ctx.q_bool("only_attached"):
        policies = [p for p in policies if counts[p["id"]]]
    chunk, info = page(ctx, policies, lambda p: p["id"])
    return json_response(200, {"policies": [policy_view(p, counts[p["id"]]) for p in chunk], "page_info": info})


def get_policy(ctx: Ctx) -> Response:
    p = _policy(ctx, ctx.params["policy_id"])
    return json_response(200, {"policy": policy_view(p, _attachments(ctx.rt.store, acct.caller(ctx).domain_id,
                                                                      p["id"]))})


def update_policy(ctx: Ctx) -> Response:
    body = ctx.body_as(UpdatePolicyBody)
    ip5.check_description(body.description)
    _rewrite(ctx, lambda p: {**p, "description": body.description, "updated": ctx.now})
    return empty(200)


def delete_policy(ctx: Ctx) -> Response:
    with ctx.rt.store.write() as tx:
        p, _ = _custom_for_update(ctx, tx)
        attached = _attachments(tx, p["domain_id"], p["id"])
        if attached:
            raise Conflict(f"The identity policy {p['id']} is attached to {attached} user(s) or group(s); detach it "
                           "before deleting it.")
        tx.delete("identity_policy", p["id"])
        acct.changed(ctx, tx)
    return empty(204)


# -- versions -------------------------------------------------------------------------------------------------------
def create_policy_version(ctx: Ctx) -> Response:
    body = ctx.body_as(CreateVersionBody)
    updated = _rewrite(ctx, lambda p: ip5.add_version(p, body.policy_document, body.set_as_default, ctx.now)[0])
    return json_response(200, {"policy_version": version_view(updated, updated["versions"][-1])})  # the new one


def list_policy_versions(ctx: Ctx) -> Response:
    p = _policy(ctx, ctx.params["policy_id"])
    versions = sorted(p["versions"], key=lambda v: int(v["version_id"][1:]), reverse=True)
    chunk, info = page(ctx, versions, lambda v: v["version_id"])
    return json_response(200, {"versions": [version_view(p, v) for v in chunk], "page_info": info})


def get_policy_version(ctx: Ctx) -> Response:
    p = _policy(ctx, ctx.params["policy_id"])
    return json_response(200, {"policy_version": version_view(p, ip5.find_version(p, ctx.params["version_id"]))})


def delete_policy_version(ctx: Ctx) -> Response:
    _rewrite(ctx, lambda p: ip5.delete_version(p, ctx.params["version_id"]))
    return empty(204)


def set_default_policy_version(ctx: Ctx) -> Response:
    _rewrite(ctx, lambda p: ip5.set_default_version(p, ctx.params["version_id"], ctx.now))
    return empty(200)


# -- attachments ----------------------------------------------------------------------------------------------------
def _entity(ctx: Ctx, entity_type: str) -> dict:
    if entity_type == "user":
        return acct.user(ctx, ctx.body_as(UserRef).user_id)
    return acct.group(ctx, ctx.body_as(GroupRef).group_id)


def _attach(ctx: Ctx, entity_type: str) -> Response:
    p = _policy(ctx, ctx.params["policy_id"])
    who = _entity(ctx, entity_type)
    domain_id = who["domain_id"]
    entity = ip5.entity(entity_type, who["id"])
    with ctx.rt.store.write() as tx:
        # a custom policy is locked and read again here: a concurrent delete must not leave an orphan attachment
        if p["id"] not in ip5.SYSTEM_BY_ID and tx.get("identity_policy", p["id"], for_update=True) is None:
            raise NotFound("policy", p["id"], f"The identity policy {p['id']} does not exist.")
        if tx.get("policy_attachment", ip5.attachment_id(p["id"], entity_type, who["id"])) is not None:
            return empty(200)  # attaching twice changes nothing
        attached = tx.count("policy_attachment", domain_id, [Cond("eq", "ref", entity)])
        ip5.check_attach_limit(entity_type, who["id"], attached)
        Directory.put_attachment(tx, domain_id, p["id"], entity_type, who["id"], ctx.now)
        acct.changed(ctx, tx)
    return empty(200)


def _detach(ctx: Ctx, entity_type: str) -> Response:
    p = _policy(ctx, ctx.params["policy_id"])
    who = _entity(ctx, entity_type)
    with ctx.rt.store.write() as tx:
        if not tx.delete("policy_attachment", ip5.attachment_id(p["id"], entity_type, who["id"])):
            raise NotFound("attachment", p["id"], f"The identity policy {p['id']} is not attached to {entity_type} "
                           f"{who['id']}.")
        acct.changed(ctx, tx)
    return empty(200)


def attach_user_policy(ctx: Ctx) -> Response:
    return _attach(ctx, "user")


def detach_user_policy(ctx: Ctx) -> Response:
    return _detach(ctx, "user")


def attach_group_policy(ctx: Ctx) -> Response:
    return _attach(ctx, "group")


def detach_group_policy(ctx: Ctx) -> Response:
    return _detach(ctx, "group")


def _list_attached(ctx: Ctx, entity_type: str, who: dict) -> Response:
    rows = ctx.rt.store.select("policy_attachment", who["domain_id"],
                               [Cond("eq", "ref", ip5.entity(entity_type, who["id"]))], newest_first=False)
    out = []
    for r in rows:
        p = ctx.rt.directory.identity_policy(r.doc["policy_id"])
        if p is not None:
            out.append({"policy_name": p["name"], "policy_id": p["id"], "urn": p["urn"],
                        "attached_at": iso_millis_z(r.doc["attached"])})
    chunk, info = page(ctx, out, lambda a: a["policy_id"])
    return json_response(200, {"attached_policies": chunk, "page_info": info})


def list_attached_user_policies(ctx: Ctx) -> Response:
    return _list_attached(ctx, "user", acct.user(ctx, ctx.params["user_id"]))


def list_attached_group_policies(ctx: Ctx) -> Response:
    return _list_attached(ctx, "group", acct.group(ctx, ctx.params["group_id"]))


def list_entities_for_policy(ctx: Ctx) -> Response:
    p = _policy(ctx, ctx.params["policy_id"])
    wanted = ctx.q("entity_type")
    if wanted not in (None, "user", "group", "agency"):
        raise InvalidInput(f"entity_type must be user, group or agency, got {wanted!r}.")
    rows = ctx.rt.store.select("policy_attachment", acct.caller(ctx).domain_id, [Cond("eq", "name", p["id"])],
                               newest_first=False)
    docs = [r.doc for r in rows if wanted in (None, r.doc["entity_type"])]
    chunk, info = page(ctx, docs, lambda d: ip5.entity(d["entity_type"], d["entity_id"]))
    users = [{"user_id": d["entity_id"], "attached_at": iso_millis_z(d["attached"])}
             for d in chunk if d["entity_type"] == "user"]
    groups = [{"group_id": d["entity_id"], "attached_at": iso_millis_z(d["attached"])}
              for d in chunk if d["entity_type"] == "group"]
    return json_response(200, {"policy_agencies": [], "policy_groups": groups, "policy_users": users,
                               "page_info": info})


# -- authorization schema --------------------------------------------------------------------------------------------
def get_authorization_schema(ctx: Ctx) -> Response:
    code = ctx.params["service_code"]
    found = schema.service_schema(code)
    if found is None:
        raise NotFound("service", code, f"The service {code!r} has no authorization schema in ecsim; see "
                       "/v5/authorization-schemas/registered-services.")
    return json_response(200, found)


def list_registered_services(ctx: Ctx) -> Response:
    chunk, info = page(ctx, schema.registered_services(), lambda s: s)
    return json_response(200, {"service_codes": chunk, "page_info": info})
