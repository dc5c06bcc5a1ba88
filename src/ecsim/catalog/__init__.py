"""The operation catalog: one entry per (method, path template, body selector).

Each entry carries the API family, the IAM actions and dependencies, the resource type and the handler. The router,
the authorizer, `ecsim coverage` and the docs are all driven by it; a handler never re-states its IAM action.
Entries whose handler is None are listed (they are part of the acceptance list) but not routed.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    family: str
    method: str
    path: str
    actions: tuple[str, ...]
    dependencies: tuple[str, ...] = ()
    selector: str | None = None
    title: str = ""
    # Where the IAM facts come from: "seed:NNN" (shared/seeds/permissions.csv) or "table:<service>" (Huawei's
    # permission tables, see docs/catalog.md), or "ecsim" for the emulator's own control plane.
    source: str = ""
    handler: str | None = None
    # project: needs a project-scoped caller (URL project or token/X-Project-Id); domain: account-level (IAM);
    # token: any authenticated caller; public: no authentication (discovery, token issue); control: /_ecsim.
    scope: str = "project"
    resource_type: str | None = None
    resource_from: str | None = None
    access_level: str | None = None
    enterprise_project: bool = True
    # Where the body carries the tags the request puts on what it creates ("server.server_tags"): the condition
    # keys g:TagKeys and g:RequestTag/<key> ("Authorization by Tag" in the permission tables).
    request_tags: str | None = None
    # Where a create's body names the enterprise project of what it creates ("server.extendparam.
    # enterprise_project_id"; absent: the default project "0"): what a grant on an enterprise project and the
    # condition key g:EnterpriseProjectId see.
    request_ep: str | None = None
    # Service condition keys a create's body sets: (key, lower-cased, and where the body has it), e.g.
    # ("evs:volumetype", "volume.volume_type").
    request_keys: tuple[tuple[str, str], ...] = ()
    sdk: tuple[str, ...] = field(default_factory=tuple)
    # Callers acting on themselves need no permission (IAM: own user, own access keys): where the target user
    # comes from — "path:user_id", "query:user_id", "body:credential.user_id" or "access_key" (the key's owner).
    self_service: str | None = None
    # Where to mount the path: None = as is and under the family's prefix (router.FAMILY_PREFIXES); otherwise only
    # under these prefixes (discovery documents whose bare path belongs to another family).
    mounts: tuple[str, ...] | None = None
    # Current action names accepted for this operation only, per action: the v1 server-group APIs' tables name
    # ecs:cloudServers:createServerGroup where older ones (and the seeds) say ecs:cloudServers:create; a global
    # alias would let that name create servers too.
    aliases: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def primary_action(self) -> str | None:
        return self.actions[0] if self.actions else None

    @property
    def instance_level(self) -> bool:
        """Does a 1.1 statement's Resource select this operation's resources ("Authorization by Instance" in the
        permission tables)? Actions on a named resource yes; reads no — the tables mark a server show ✗
        (shared/spec/iam.md 5.2), and a statement scoped to instances never grants it."""
        return self.resource_type is not None and self.access_level not in ("read", "list")

    @property
    def from_seed(self) -> bool:
        return self.source.startswith("seed:")

    def key(self) -> tuple[str, str, str | None]:
        return (self.method, self.path, self.selector)


def all_operations() -> list[Operation]:
    from ecsim.catalog.entries import OPERATIONS

    return OPERATIONS


def reserved_names() -> dict[str, frozenset[str]]:
    """Per path, the names its next parameter never takes (see http/router.Router)."""
    from ecsim.catalog.entries import RESERVED

    return RESERVED


def by_name() -> dict[str, Operation]:
    return {op.name: op for op in all_operations()}
