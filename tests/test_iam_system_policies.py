"""Each ECS/EVS/IMS/VPC system policy and base system role (src/ecsim/iam/system.py) allows one operation it must
allow and refuses one it must refuse by its real contents, through huaweicloudsdkecs/evs/ims (and iam)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from huaweicloudsdkecs.v2 import ListServersDetailsRequest, ShowServerRequest
from huaweicloudsdkevs.v2 import (
    CreateVolumeOption,
    CreateVolumeRequest,
    CreateVolumeRequestBody,
    ListVolumesRequest,
    OsExtend,
    ResizeVolumeRequest,
    ResizeVolumeRequestBody,
)
from huaweicloudsdkiam.v3 import KeystoneAssociateGroupWithDomainPermissionRequest, KeystoneListUsersRequest
from huaweicloudsdkims.v2 import ListImagesRequest

from ecsim.iam.evaluate import decode_authorization_message
from helpers import create, err, make_user, stop


@dataclass
class Caller:
    server: Any
    user: dict

    @property
    def ecs(self) -> Any:
        return self.server.ecs(self.user["ak"], self.user["sk"])

    @property
    def evs(self) -> Any:
        return self.server.evs(self.user["ak"], self.user["sk"])


def _fresh_server(c: Caller) -> str:
    _, ids = create(c.server.ecs(), c.server.info, f"sp-{uuid.uuid4().hex[:6]}")
    return ids[0]


def _create_volume(c: Caller) -> Any:
    option = CreateVolumeOption(availability_zone=c.server.info["region"] + "a", volume_type="SSD", size=10,
                                name=f"sp-{uuid.uuid4().hex[:6]}")
    return c.evs.create_volume(CreateVolumeRequest(body=CreateVolumeRequestBody(volume=option)))


def _list_users(c: Caller) -> Any:
    # IAM is account level: grant the role on the account too, so that only its statements decide
    c.server.iam().keystone_associate_group_with_domain_permission(KeystoneAssociateGroupWithDomainPermissionRequest(
        domain_id=c.server.info["domain_id"], group_id=c.user["group_id"], role_id=c.user["role_ids"][0]))
    return c.server.iam(c.user["ak"], c.user["sk"]).keystone_list_users(KeystoneListUsersRequest())


# operation -> (the action it needs, how the user calls it)
OPS: dict[str, tuple[str, Callable[[Caller], Any]]] = {
    "ecs list": ("ecs:cloudServers:list", lambda c: c.ecs.list_servers_details(ListServersDetailsRequest())),
    "ecs get": ("ecs:cloudServers:get",
                lambda c: c.ecs.show_server(ShowServerRequest(server_id=_fresh_server(c)))),
    "ecs stop": ("ecs:cloudServers:stop", lambda c: stop(c.ecs, [_fresh_server(c)])),
    "ecs create (dry run)": ("ecs:cloudServers:create",
                             lambda c: create(c.ecs, c.server.info, "sp-dry", dry_run=True)),
    "evs list": ("evs:volumes:list", lambda c: c.evs.list_volumes(ListVolumesRequest())),
    "evs create": ("evs:volumes:create", _create_volume),
    "evs extend": ("evs:volumes:extend", lambda c: c.evs.resize_volume(ResizeVolumeRequest(
        volume_id=str(uuid.uuid4()), body=ResizeVolumeRequestBody(os_extend=OsExtend(new_size=20))))),
    "ims list": ("ims:images:list", lambda c: c.server.ims(c.user["ak"], c.user["sk"]).list_images(
        ListImagesRequest())),
    "iam list users": ("iam:users:listUsers", _list_users),
}

# (system policy or role, an operation it allows, an operation it refuses). No VPC API is served: the VPC policies
# show only that they give nothing outside VPC.
TABLE = [
    ("ECS FullAccess", "ecs create (dry run)", "evs extend"),  # EVS: only create/delete/attach/... not extend
    ("ECS CommonOperations", "ecs stop", "ecs create (dry run)"),
    ("ECS ReadOnlyAccess", "ecs get", "ecs stop"),
    ("EVS FullAccess", "evs create", "ecs stop"),
    ("EVS ReadOnlyAccess", "evs list", "evs create"),
    ("IMS FullAccess", "ims list", "ecs stop"),
    ("IMS ReadOnlyAccess", "ims list", "ecs list"),
    ("VPC FullAccess", None, "ecs list"),
    ("VPC ReadOnlyAccess", None, "evs list"),
    ("Tenant Guest", "evs list", "ecs stop"),
    ("Tenant Administrator", "ecs create (dry run)", "iam list users"),  # everything but IAM (explicit Deny)
    ("Server Administrator", "ecs stop", "evs extend"),
]


@pytest.mark.parametrize(("policy", "allowed", "refused"), TABLE, ids=[row[0] for row in TABLE])
def test_system_policy_allows_and_refuses(ecsim_server, unique, policy, allowed, refused):
    caller = Caller(ecsim_server, make_user(ecsim_server, f"sp-{unique}", system=[policy]))
    if allowed is not None:
        OPS[allowed][1](caller)
    action, call = OPS[refused]
    e = err(lambda: call(caller))
    assert e.status_code == 403, e
    assert decode_authorization_message(e.encoded_auth_msg)["denied_action"] == action


def test_server_administrator_brings_tenant_guest_along(ecsim_server, unique):
    """Server Administrator depends on Tenant Guest in the same project: the grant carries both (token roles)."""
    u = make_user(ecsim_server, f"sa-{unique}", system=["Server Administrator"])
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": u["name"], "password": u["password"], "domain": {"name": ecsim_server.info["domain_name"]}}}},
        "scope": {"project": {"id": ecsim_server.info["project_id"]}}}}
    status, _, out = ecsim_server.http("POST", "/v3/auth/tokens?nocatalog=true", body)
    assert status == 201, out
    assert {r["name"] for r in out["token"]["roles"]} == {"server_adm", "readonly"}
