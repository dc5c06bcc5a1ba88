"""System roles (Version 1.0) and system policies (Version 1.1) that exist in every account.

Contents follow Huawei's published JSON (shared/spec/iam.md §4). Where Huawei does not publish the JSON (EVS, IMS,
VPC) the statements are reconstructed from the documented operations; docs/iam.md says which.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SystemRole:
    name: str  # internal name carried in tokens (te_admin, system_all_...)
    display_name: str
    type: str  # AX account level, XA project level, AA both
    catalog: str
    description: str
    policy: dict
    fine_grained: bool  # True: a system *policy* (1.1); False: a system *role* (1.0)

    fixed_id: str | None = None  # ids seen in Huawei's docs; others are stable hashes

    @property
    def id(self) -> str:
        # Stable across restarts and installations, 32 hex like Huawei's ids.
        return self.fixed_id or hashlib.md5(f"ecsim-system-role:{self.name}".encode()).hexdigest()

    def as_role(self) -> dict:
        doc = {
            "id": self.id,
            "name": self.name,
            "display_name": self.display_name,
            "type": self.type,
            "catalog": self.catalog,
            "description": self.description,
            "description_cn": self.description,
            "domain_id": None,
            "policy": self.policy,
            "created_time": "1540000000000",
            "updated_time": "1540000000000",
        }
        if self.fine_grained:
            doc["flag"] = "fine_grained"
        return doc


def _p11(*actions: str) -> dict:
    return {"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": list(actions)}]}


ECS_FULL = _p11(
    "ecs:*:*", "evs:*:get", "evs:*:list", "evs:volumes:create", "evs:volumes:delete", "evs:volumes:attach",
    "evs:volumes:detach", "evs:volumes:manage", "evs:volumes:update", "evs:volumes:use", "evs:volumes:uploadImage",
    "evs:snapshots:create", "vpc:*:get", "vpc:*:list", "vpc:networks:create", "vpc:networks:update",
    "vpc:subnets:update", "vpc:subnets:create", "vpc:ports:*", "vpc:routers:get", "vpc:routers:update",
    "vpc:securityGroups:*", "vpc:securityGroupRules:*", "vpc:floatingIps:*", "vpc:publicIps:*",
    "ims:images:create", "ims:images:delete", "ims:images:get", "ims:images:list", "ims:images:update",
    "ims:images:upload",
)
ECS_COMMON = _p11(
    "ecs:*:get*", "ecs:*:list*", "ecs:*:start", "ecs:*:stop", "ecs:*:reboot", "ecs:diskConfigs:use",
    "ecs:securityGroups:use", "ecs:serverGroups:manage", "ecs:serverKeypairs:*", "ecs:serverPasswords:manage",
    "ecs:servers:createConsole", "ecs:servers:createImage", "ecs:servers:setMetadata", "ecs:servers:setTags",
    "ecs:serverVolumes:use", "evs:*:get*", "evs:*:list*", "evs:snapshots:create", "evs:volumes:uploadImage",
    "evs:volumes:delete", "evs:volumes:update", "evs:volumes:attach", "evs:volumes:detach", "evs:volumes:manage",
    "evs:volumes:use", "vpc:*:get*", "vpc:*:list*", "vpc:floatingIps:create", "vpc:floatingIps:update",
    "vpc:floatingIps:delete", "vpc:publicIps:update", "vpc:publicIps:delete", "ims:images:create",
    "ims:images:delete", "ims:images:get", "ims:images:list", "ims:images:update", "ims:images:upload",
)
ECS_READONLY = _p11(
    "ecs:*:get*", "ecs:*:list*", "ecs:serverGroups:manage", "ecs:serverVolumes:use", "evs:*:get*", "evs:*:list*",
    "vpc:*:get*", "vpc:*:list*", "ims:*:get*", "ims:*:list*",
)
SERVER_ADMIN = {
    "Version": "1.0",
    "Statement": [{"Effect": "Allow", "Action": [
        "ecs:*:*", "evs:*:get", "evs:*:list", "evs:volumes:create", "evs:volumes:delete", "evs:volumes:attach",
        "evs:volumes:detach", "evs:volumes:manage", "evs:volumes:update", "evs:volumes:uploadImage",
        "evs:snapshots:create", "vpc:*:get", "vpc:*:list", "vpc:networks:create", "vpc:networks:update",
        "vpc:subnets:update", "vpc:subnets:create", "vpc:routers:get", "vpc:routers:update", "vpc:ports:*",
        "vpc:privateIps:*", "vpc:securityGroups:*", "vpc:securityGroupRules:*", "vpc:floatingIps:*",
        "vpc:publicIps:*", "vpc:bandwidths:*", "vpc:firewalls:*", "ims:images:create", "ims:images:delete",
        "ims:images:get", "ims:images:list", "ims:images:update", "ims:images:upload",
    ]}],
    "Depends": [{"catalog": "BASE", "display_name": "Tenant Guest"}],
}
EVS_FULL = _p11(
    "evs:*:*", "ecs:cloudServers:list", "ecs:cloudServers:get", "ecs:servers:list", "ecs:servers:get",
    "ecs:cloudServerFlavors:get", "kms:cmk:list", "kms:cmk:get", "vpc:*:get", "vpc:*:list",
)
EVS_READONLY = _p11("evs:*:get*", "evs:*:list*", "ecs:*:get*", "ecs:*:list*")
IMS_FULL = _p11("ims:*:*", "ecs:*:get*", "ecs:*:list*", "evs:*:get*", "evs:*:list*", "obs:bucket:*", "obs:object:*")
IMS_READONLY = _p11("ims:*:get*", "ims:*:list*")
VPC_FULL = _p11("vpc:*:*")
VPC_READONLY = _p11("vpc:*:get*", "vpc:*:list*")

IAM_READONLY = _p11("iam:*:get*", "iam:*:list*", "iam:*:check*")

# Internal names as on Open Telekom Cloud eu-de (the only complete public table; Huawei's numbering differs per
# cloud); descriptions as the console shows them.
SYSTEM_ROLES: tuple[SystemRole, ...] = (
    SystemRole(
        "te_admin", "Tenant Administrator", "AA", "BASE", "Full permissions for all services except IAM.",
        {"Version": "1.0", "Statement": [
            {"Action": ["*"], "Effect": "Allow"},
            {"Action": ["identity:*", "iam:*:*"], "Effect": "Deny"},
        ]},
        fine_grained=False, fixed_id="1def304b73f14e8eb8d1eb9bf8337ae6",
    ),
    SystemRole(
        "readonly", "Tenant Guest", "AA", "BASE", "Read-only permissions for all services except IAM.",
        {"Version": "1.0", "Statement": [
            {"Action": ["*:*:Get*", "*:*:List*"], "Effect": "Allow"},
            {"Action": ["identity:*", "iam:*:*"], "Effect": "Deny"},
        ]},
        fine_grained=False, fixed_id="b32d99a7778d4fd9aa5bc616c3dc4e5f",
    ),
    # 1.0 `identity:*` is what IAM's own checks read; it also covers every fine-grained `iam:*` action.
    SystemRole(
        "secu_admin", "Security Administrator", "AX", "BASE", "Security Administrator",
        {"Version": "1.0", "Statement": [{"Action": ["identity:*", "iam:*:*"], "Effect": "Allow"}]},
        fine_grained=False, fixed_id="005cf92cfd364105afaa5df2eec25012",
    ),
    SystemRole(
        "server_adm", "Server Administrator", "XA", "BASE",
        "Server Administrator (must be used together with Tenant Guest)", SERVER_ADMIN, fine_grained=False,
    ),
    SystemRole("system_all_1001", "FullAccess", "AA", "BASE",
               "Full permissions for all services that support policy-based authorization.",
               _p11("*:*:*"), fine_grained=True),
    SystemRole("system_all_51", "ECS FullAccess", "XA", "ECS", "Full permissions for ECS.", ECS_FULL,
               fine_grained=True),
    SystemRole("system_all_49", "ECS CommonOperations", "XA", "ECS",
               "Permissions for starting, stopping, restarting, and querying ECSs.", ECS_COMMON, fine_grained=True),
    SystemRole("system_all_50", "ECS ReadOnlyAccess", "XA", "ECS", "Read-only permissions for ECS.", ECS_READONLY,
               fine_grained=True),
    SystemRole("system_all_32", "EVS FullAccess", "XA", "EVS",
               "Full permissions for EVS. Users granted these permissions can create, attach, detach, query, and "
               "delete EVS resources, and expand capacity of EVS disks.", EVS_FULL, fine_grained=True),
    SystemRole("system_all_33", "EVS ReadOnlyAccess", "XA", "EVS",
               "Read-only permissions for EVS. Users granted these permissions can view EVS resource data only.",
               EVS_READONLY, fine_grained=True),
    SystemRole("system_all_52", "IMS FullAccess", "XA", "IMS", "Full permissions for IMS.", IMS_FULL,
               fine_grained=True),
    SystemRole("system_all_53", "IMS ReadOnlyAccess", "XA", "IMS",
               "Read-only permissions for IMS. Users with these permissions can only view IMS data.", IMS_READONLY,
               fine_grained=True),
    SystemRole("system_all_46", "VPC FullAccess", "XA", "VPC", "Full permissions for VPC.", VPC_FULL,
               fine_grained=True),
    SystemRole("system_all_47", "VPC ReadOnlyAccess", "XA", "VPC", "Read-only permissions for VPC.", VPC_READONLY,
               fine_grained=True),
    SystemRole("system_all_24", "IAM ReadOnlyAccess", "AX", "IAM", "Read-only permissions for IAM.", IAM_READONLY,
               fine_grained=True),
)
BY_ID = {r.id: r for r in SYSTEM_ROLES}
BY_DISPLAY_NAME = {r.display_name: r for r in SYSTEM_ROLES}
BY_NAME = {r.name: r for r in SYSTEM_ROLES}
