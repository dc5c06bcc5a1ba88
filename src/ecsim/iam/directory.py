"""The identity directory: accounts (domains), users, groups, projects, roles, grants and credentials.

Reads are cached in-process and invalidated by the `iam_version` counter kept in the store: every identity write
bumps it inside its transaction, and another worker notices the change through `Store.changed_elsewhere()`.
Policies are compiled once per (user, scope) and cached the same way.

Store kinds: domain, user, group, membership (id "<group>:<user>", ref=group, name=user), project, role (custom
policies), grant (id "<target>|<subject>|<role>", ref=subject: a group id or "user:<id>", name=target), credential
(id = access key, ref=user), temporary_credential (the same for temporary keys, see auth/temporary.py),
revoked_token (id = audit id); IAM 5.0 identity_policy and policy_attachment (iam/identity_policies.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from ecsim.domain.errors import InvalidInput
from ecsim.iam import identity_policies as ip5
from ecsim.iam import system
from ecsim.iam.evaluate import PolicySet
from ecsim.iam.policy import Policy, PolicyError, parse_policy
from ecsim.store import Cond, Put, SqlStore

ADMIN_GROUP = "admin"
log = logging.getLogger("ecsim.iam")
TEMPORARY_CREDENTIAL = "temporary_credential"


@dataclass(slots=True, frozen=True)
class Principal:
    """Who is calling, in which scope. Immutable: one instance serves every request of the same caller."""


    user_id: str
    user_name: str
    domain_id: str
    domain_name: str
    project_id: str | None
    project_name: str | None
    method: str  # "token" | "aksk"
    is_admin: bool
    access_key: str | None = None
    mfa: bool = False
    # Temporary keys with session policies: each set must allow a request too (an intersection with the user's).
    session: tuple[PolicySet, ...] = field(default=(), compare=False, repr=False)
    encoded: list[bytes] = field(default_factory=list, compare=False, repr=False)  # log form, encoded once

    def as_dict(self) -> dict:
        return {
            "user_id": self.user_id,
            "user_name": self.user_name,
            "domain_id": self.domain_id,
            "domain_name": self.domain_name,
            "project_id": self.project_id,
            "project_name": self.project_name,
            "method": self.method,
            "access_key": self.access_key,
        }


def target_key(target: str, target_id: str) -> str:
    return f"{target}:{target_id}"


def user_subject(user_id: str) -> str:
    """The grant subject of a user granted directly (enterprise projects allow that; other scopes grant groups)."""
    return f"user:{user_id}"


def deny_all(policy_id: str, name: str) -> Policy:
    """A stored policy that no longer parses (written by another ecsim version) fails closed: were it a Deny,
    dropping it would widen access."""
    log.warning("policy %s (%s) no longer parses; it denies everything until it is fixed", name, policy_id)
    return parse_policy({"Version": "1.1", "Statement": [{"Effect": "Deny", "Action": ["*"]}]},
                        policy_id=policy_id, name=name, kind="unparsable")


class Directory:
    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.version = -1
        self._cache: dict[tuple, Any] = {}
        self.sync()

    # -- cache plumbing -----------------------------------------------------------------------------------------
    def sync(self) -> None:
        """Drop caches if the identity data changed (in this process or another one)."""
        v = int(self.store.meta_get("iam_version") or 0)
        if v != self.version:
            self.version = v
            self._cache.clear()

    def forget(self) -> None:
        """Drop every cache; the next sync() reloads."""
        self.version = -1
        self._cache.clear()

    def changed(self, tx: SqlStore) -> None:
        """Call inside the transaction of every identity write."""
        self.version = tx.bump("iam_version")
        self._cache.clear()

    def cached(self, key: tuple, load: Any) -> Any:
        """A value computed from identity data, kept until the identity version changes."""
        return self._cached(key, load)

    def _cached(self, key: tuple, load: Any) -> Any:
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = load()
            return value

    def _doc(self, kind: str, ident: str) -> dict | None:
        row = self.store.get(kind, ident)
        return None if row is None else row.doc

    # -- lookups ------------------------------------------------------------------------------------------------
    def domain(self, domain_id: str) -> dict | None:
        return self._cached(("domain", domain_id), lambda: self._doc("domain", domain_id))

    def domain_by_name(self, name: str) -> dict | None:
        def load() -> dict | None:
            rows = self.store.select("domain", None, [Cond("eq", "name", name)], limit=1)
            return rows[0].doc if rows else None

        return self._cached(("domain_name", name), load)

    def user(self, user_id: str) -> dict | None:
        return self._cached(("user", user_id), lambda: self._doc("user", user_id))

    def user_by_name(self, domain_id: str, name: str) -> dict | None:
        def load() -> dict | None:
            rows = self.store.select("user", domain_id, [Cond("eq", "name", name)], limit=1)
            return rows[0].doc if rows else None

        return self._cached(("user_name", domain_id, name), load)

    def project(self, project_id: str) -> dict | None:
        return self._cached(("project", project_id), lambda: self._doc("project", project_id))

    def project_by_name(self, domain_id: str, name: str) -> dict | None:
        def load() -> dict | None:
            rows = self.store.select("project", domain_id, [Cond("eq", "name", name)], limit=1)
            return rows[0].doc if rows else None

        return self._cached(("project_name", domain_id, name), load)

    def credential(self, access_key: str) -> dict | None:
        """A permanent or temporary access key (one cache entry either way, misses included)."""
        return self._cached(("credential", access_key), lambda: self._doc("credential", access_key)
                            or self._doc(TEMPORARY_CREDENTIAL, access_key))

    def token_revoked(self, audit_id: str) -> bool:
        return self._cached(("revoked", audit_id), lambda: self.store.get("revoked_token", audit_id) is not None)

    def groups_of(self, user: dict) -> tuple[str, ...]:
        def load() -> tuple[str, ...]:
            rows = self.store.select("membership", user["domain_id"], [Cond("eq", "name", user["id"])])
            return tuple(r.doc["group_id"] for r in rows)

        return self._cached(("groups_of", user["id"]), load)

    def admin_group_id(self, domain_id: str) -> str | None:
        def load() -> str | None:
            rows = self.store.select("group", domain_id, [Cond("eq", "name", ADMIN_GROUP)], limit=1)
            return rows[0].id if rows else None

        return self._cached(("admin_group", domain_id), load)

    def is_admin(self, user: dict) -> bool:
        """Account owners and members of the account's built-in `admin` group may do everything."""
        if user.get("is_domain_owner"):
            return True
        admin = self.admin_group_id(user["domain_id"])
        return admin is not None and admin in self.groups_of(user)

    def role(self, role_id: str) -> dict | None:
        sys_role = system.BY_ID.get(role_id)
        if sys_role is not None:
            return sys_role.as_role()
        return self._cached(("role", role_id), lambda: self._doc("role", role_id))

    def compiled_role(self, role_id: str) -> Policy | None:
        def load() -> Policy | None:
            role = self.role(role_id)
            if role is None:
                return None
            kind = "custom" if role.get("domain_id") else ("system_policy" if role.get("flag") else "system_role")
            try:
                return parse_policy(role["policy"], policy_id=role_id, name=role["display_name"], kind=kind)
            except PolicyError:
                return deny_all(role_id, role["display_name"])

        return self._cached(("compiled_role", role_id), load)

    # -- IAM 5.0 identity policies -----------------------------------------------------------------------------------
    def identity_policy(self, policy_id: str) -> dict | None:
        found = ip5.SYSTEM_BY_ID.get(policy_id)
        if found is not None:
            return found
        return self._cached(("identity_policy", policy_id), lambda: self._doc("identity_policy", policy_id))

    def compiled_identity_policy(self, policy_id: str) -> Policy | None:
        """The policy's default version, compiled once per identity version."""

        def load() -> Policy | None:
            doc = self.identity_policy(policy_id)
            if doc is None:
                return None
            try:
                return ip5.parse_document(ip5.default_document(doc), policy_id=policy_id, name=doc["name"])
            except InvalidInput:
                return deny_all(policy_id, doc["name"])

        return self._cached(("compiled_identity_policy", policy_id), load)

    def attached_identity_policies(self, user: dict) -> tuple[str, ...]:
        """Ids of the 5.0 policies attached to the user or to any of its groups (each once)."""

        def load() -> tuple[str, ...]:
            entities = (ip5.entity("user", user["id"]), *(ip5.entity("group", g) for g in self.groups_of(user)))
            rows = self.store.select("policy_attachment", user["domain_id"], [Cond("in", "ref", entities)],
                                     newest_first=False)
            return tuple(dict.fromkeys(r.doc["policy_id"] for r in rows))

        return self._cached(("attached_identity_policies", user["id"]), load)

    # -- grants and policies ------------------------------------------------------------------------------------
    def grants_for_groups(self, domain_id: str, groups: tuple[str, ...]) -> list[dict]:
        if not groups:
            return []

        def load() -> list[dict]:
            rows = self.store.select("grant", domain_id, [Cond("in", "ref", groups)], newest_first=False)
            return [r.doc for r in rows]

        return self._cached(("grants", domain_id, groups), load)

    def subjects(self, user: dict) -> tuple[str, ...]:
        """Who grants name for this user: its groups, and the user itself (enterprise-project grants)."""
        return (*self.groups_of(user), user_subject(user["id"]))

    def has_enterprise_grants(self, user: dict) -> bool:
        return bool(self.enterprise_projects(user))

    def enterprise_projects(self, user: dict) -> tuple[str, ...]:
        """The enterprise projects the user (or one of its groups) holds a grant on."""
        def load() -> tuple[str, ...]:
            grants = self.grants_for_groups(user["domain_id"], self.subjects(user))
            return tuple(dict.fromkeys(g["target_id"] for g in grants if g["target"] == "enterprise_project"))

        return self._cached(("enterprise_projects", user["id"]), load)

    def policyset(self, user: dict, project_id: str | None, enterprise_project: str | None = None) -> PolicySet:
        """The compiled policies that apply to `user` in a project (project-level services) or, with None, at
        account level (global services such as IAM; grants on all projects count there too). With
        `enterprise_project` (a resource's enterprise project, for operations the permission tables allow there)
        grants on that enterprise project count too. The 5.0 identity policies attached to the user or its groups
        count everywhere."""

        def load() -> PolicySet:
            grants = self.grants_for_groups(user["domain_id"], self.subjects(user))
            role_ids: list[str] = []
            for g in grants:
                t = g["target"]
                if project_id is None:  # global services: grants on the account and on all projects
                    applies = t in ("domain", "all_projects")
                else:
                    applies = (t == "project" and g["target_id"] == project_id) or t == "all_projects" or (
                        t == "enterprise_project" and g["target_id"] == enterprise_project)
                if applies and g["role_id"] not in role_ids:
                    role_ids.append(g["role_id"])
            policies: list[Policy] = []
            seen: set[str] = set()
            queue = list(role_ids)
            while queue:
                rid = queue.pop(0)
                if rid in seen:
                    continue
                seen.add(rid)
                compiled = self.compiled_role(rid)
                if compiled is None:
                    continue
                policies.append(compiled)
                # 1.0 roles bring their Depends along in the same scope (what the console does when granting).
                for dep in compiled.depends:
                    dep_role = system.BY_DISPLAY_NAME.get(dep)
                    if dep_role is not None:
                        queue.append(dep_role.id)
            # 5.0 identity policies have no project scope: they apply in every project and at account level.
            for pid in self.attached_identity_policies(user):
                identity = self.compiled_identity_policy(pid)
                if identity is not None:
                    policies.append(identity)
            return PolicySet(policies)

        return self._cached(("policyset", user["id"], project_id, enterprise_project), load)

    # -- writes (inside a transaction) ----------------------------------------------------------------------------
    @staticmethod
    def put_user(tx: SqlStore, doc: dict, *, new: bool) -> None:
        p = Put("user", doc["id"], doc["domain_id"], doc, name=doc["name"], created=doc["created"])
        tx.insert(p) if new else tx.update(p, rename=True)

    @staticmethod
    def put_group(tx: SqlStore, doc: dict, *, new: bool) -> None:
        p = Put("group", doc["id"], doc["domain_id"], doc, name=doc["name"], created=doc["created"])
        tx.insert(p) if new else tx.update(p, rename=True)

    @staticmethod
    def put_project(tx: SqlStore, doc: dict, *, new: bool) -> None:
        p = Put("project", doc["id"], doc["domain_id"], doc, name=doc["name"], created=doc["created"])
        tx.insert(p) if new else tx.update(p, rename=True)

    @staticmethod
    def put_role(tx: SqlStore, doc: dict, *, new: bool) -> None:
        p = Put("role", doc["id"], doc["domain_id"], doc, name=doc["name"], created=doc["created"])
        tx.insert(p) if new else tx.update(p, rename=True)

    @staticmethod
    def put_identity_policy(tx: SqlStore, doc: dict, *, new: bool, expect_version: int | None = None) -> None:
        p = Put("identity_policy", doc["id"], doc["domain_id"], doc, name=doc["name"], created=doc["created"])
        tx.insert(p) if new else tx.update(p, expect_version)

    @staticmethod
    def put_attachment(tx: SqlStore, domain_id: str, policy_id: str, entity_type: str, entity_id: str,
                       now: float) -> None:
        doc = {"policy_id": policy_id, "entity_type": entity_type, "entity_id": entity_id, "attached": now}
        tx.insert(Put("policy_attachment", ip5.attachment_id(policy_id, entity_type, entity_id), domain_id, doc,
                      name=policy_id, ref=ip5.entity(entity_type, entity_id), created=now))

    @staticmethod
    def put_credential(tx: SqlStore, doc: dict, *, new: bool) -> None:
        p = Put("credential", doc["access"], doc["domain_id"], doc, ref=doc["user_id"], status=doc["status"],
                created=doc["created"])
        tx.insert(p) if new else tx.update(p, rename=True)

    @staticmethod
    def put_temporary_credential(tx: SqlStore, doc: dict) -> None:
        tx.insert(Put(TEMPORARY_CREDENTIAL, doc["access"], doc["domain_id"], doc, ref=doc["user_id"],
                      status=doc["status"], created=doc["created"]))

    @staticmethod
    def add_member(tx: SqlStore, domain_id: str, group_id: str, user_id: str, now: float) -> None:
        tx.upsert(Put("membership", f"{group_id}:{user_id}", domain_id,
                      {"group_id": group_id, "user_id": user_id}, name=user_id, ref=group_id, created=now))

    @staticmethod
    def put_grant(tx: SqlStore, domain_id: str, subject: str, role_id: str, target: str, target_id: str,
                  now: float) -> None:
        """Grant a role to a subject (a group id, or user_subject(user id)) on a target."""
        doc = {"group_id": subject, "role_id": role_id, "target": target, "target_id": target_id}
        tx.upsert(Put("grant", Directory.grant_id(subject, role_id, target, target_id), domain_id, doc,
                      name=target_key(target, target_id), ref=subject, created=now))

    @staticmethod
    def grant_id(subject: str, role_id: str, target: str, target_id: str) -> str:
        return f"{target_key(target, target_id)}|{subject}|{role_id}"
