"""Small builders shared by the HTTP tests (all requests go through the real SDKs unless a test needs raw HTTP)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkecs.v2 import (
    BatchStartServersOption,
    BatchStartServersRequest,
    BatchStartServersRequestBody,
    BatchStopServersOption,
    BatchStopServersRequest,
    BatchStopServersRequestBody,
    CreatePostPaidServersRequest,
    CreatePostPaidServersRequestBody,
    PostPaidServer,
    PostPaidServerDataVolume,
    PostPaidServerNic,
    PostPaidServerRootVolume,
    ServerId,
    ShowJobRequest,
)

SEED_TABLE = Path(__file__).parent / "data" / "permissions.csv"


def seed_rows() -> list[dict]:
    """The acceptance list (a copy of shared/seeds/permissions.csv kept with the tests)."""
    with open(SEED_TABLE, newline="") as fh:
        return list(csv.DictReader(fh))


def server_body(info: dict, name: str, **kw: Any) -> CreatePostPaidServersRequestBody:
    dry_run = kw.pop("dry_run", None)
    data = kw.pop("data_volumes", None)
    server = PostPaidServer(
        image_ref=kw.pop("image_ref", info["image_id"]), flavor_ref=kw.pop("flavor_ref", info["flavor_id"]),
        name=name, vpcid=kw.pop("vpcid", info["vpc_id"]),
        nics=kw.pop("nics", [PostPaidServerNic(subnet_id=info["subnet_id"])]),
        root_volume=kw.pop("root_volume", PostPaidServerRootVolume(volumetype="SSD")),
        data_volumes=[PostPaidServerDataVolume(volumetype="SAS", size=s) for s in data] if data else None, **kw)
    return CreatePostPaidServersRequestBody(server=server, dry_run=dry_run)


def create(ecs: Any, info: dict, name: str, **kw: Any) -> tuple[str, list[str]]:
    r = ecs.create_post_paid_servers(CreatePostPaidServersRequest(body=server_body(info, name, **kw)))
    return r.job_id, r.server_ids


def err(call: Any) -> ClientRequestException:
    """The SDK's exception from a call that must fail."""
    with pytest.raises(ClientRequestException) as exc:
        call()
    return exc.value


def refs(ids: list[str]) -> list[ServerId]:
    return [ServerId(id=i) for i in ids]


def stop(ecs: Any, ids: list[str], kind: str | None = None) -> str:
    body = BatchStopServersRequestBody(os_stop=BatchStopServersOption(servers=refs(ids), type=kind))
    return ecs.batch_stop_servers(BatchStopServersRequest(body=body)).job_id


def start(ecs: Any, ids: list[str]) -> str:
    body = BatchStartServersRequestBody(os_start=BatchStartServersOption(servers=refs(ids)))
    return ecs.batch_start_servers(BatchStartServersRequest(body=body)).job_id


def job(ecs: Any, job_id: str) -> Any:
    return ecs.show_job(ShowJobRequest(job_id=job_id))


# -- IAM -------------------------------------------------------------------------------------------------------------
def make_user(server: Any, name: str, *, allow: list[str] | None = None, deny: list[str] | None = None,
              system: list[str] | None = None, scope: str = "project", password: str = "Passw0rd!x",
              condition: dict | None = None, resource: list[str] | None = None,
              deny_condition: dict | None = None, deny_resource: list[str] | None = None,
              project_id: str | None = None) -> dict:
    """Through huaweicloudsdkiam as the admin: a user in a new group, the group granted a custom policy (allow /
    deny actions; each statement may carry a Condition and a Resource) and/or system policies by display name
    (on `project_id`, by default the region project), and an access key for the user."""
    from huaweicloudsdkiam.v3 import (
        CreateCloudServiceCustomPolicyRequest,
        CreateCloudServiceCustomPolicyRequestBody,
        CreateCredentialOption,
        CreatePermanentAccessKeyRequest,
        CreatePermanentAccessKeyRequestBody,
        CreateUserOption,
        CreateUserRequest,
        CreateUserRequestBody,
        KeystoneAddUserToGroupRequest,
        KeystoneAssociateGroupWithDomainPermissionRequest,
        KeystoneAssociateGroupWithProjectPermissionRequest,
        KeystoneCreateGroupOption,
        KeystoneCreateGroupRequest,
        KeystoneCreateGroupRequestBody,
        KeystoneListPermissionsRequest,
        ServicePolicy,
        ServicePolicyRoleOption,
        ServiceStatement,
        UpdateDomainGroupInheritRoleRequest,
    )

    iam = server.iam()
    info = server.info
    user = iam.create_user(CreateUserRequest(body=CreateUserRequestBody(user=CreateUserOption(
        name=name, domain_id=info["domain_id"], password=password)))).user
    group = iam.keystone_create_group(KeystoneCreateGroupRequest(body=KeystoneCreateGroupRequestBody(
        group=KeystoneCreateGroupOption(name=f"g-{name}")))).group
    iam.keystone_add_user_to_group(KeystoneAddUserToGroupRequest(group_id=group.id, user_id=user.id))
    role_ids = []
    statements = []
    if allow:
        statements.append(ServiceStatement(action=allow, effect="Allow", condition=condition, resource=resource))
    if deny:
        statements.append(ServiceStatement(action=deny, effect="Deny", condition=deny_condition,
                                           resource=deny_resource))
    if statements:
        policy_type = "AX" if scope == "domain" else "XA"
        role = iam.create_cloud_service_custom_policy(CreateCloudServiceCustomPolicyRequest(
            body=CreateCloudServiceCustomPolicyRequestBody(role=ServicePolicyRoleOption(
                display_name=f"p-{name}", type=policy_type, description="test policy",
                policy=ServicePolicy(version="1.1", statement=statements))))).role
        role_ids.append(role.id)
    for display in system or []:
        roles = iam.keystone_list_permissions(KeystoneListPermissionsRequest(display_name=display)).roles
        role_ids.append(next(r.id for r in roles if r.display_name == display))
    for rid in role_ids:
        if scope == "project":
            iam.keystone_associate_group_with_project_permission(KeystoneAssociateGroupWithProjectPermissionRequest(
                project_id=project_id or info["project_id"], group_id=group.id, role_id=rid))
        elif scope == "domain":
            iam.keystone_associate_group_with_domain_permission(KeystoneAssociateGroupWithDomainPermissionRequest(
                domain_id=info["domain_id"], group_id=group.id, role_id=rid))
        else:
            iam.update_domain_group_inherit_role(UpdateDomainGroupInheritRoleRequest(
                domain_id=info["domain_id"], group_id=group.id, role_id=rid))
    cred = iam.create_permanent_access_key(CreatePermanentAccessKeyRequest(body=CreatePermanentAccessKeyRequestBody(
        credential=CreateCredentialOption(user_id=user.id, description="test")))).credential
    return {"user_id": user.id, "name": name, "password": password, "group_id": group.id, "role_ids": role_ids,
            "ak": cred.access, "sk": cred.secret}


def signed_headers(server: Any, method: str, path: str, body: bytes = b"", *, ak: str | None = None,
                   sk: str | None = None, project_id: str | None = None, date: str | None = None,
                   query: list[tuple[str, str]] | None = None) -> dict[str, str]:
    """Headers of a request signed by huaweicloudsdkcore's Signer (to replay, tamper with or age)."""
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.sdk_request import SdkRequest
    from huaweicloudsdkcore.signer.signer import Signer

    headers = {"Content-Type": "application/json", "X-Project-Id": project_id or server.info["project_id"]}
    if date:
        headers["X-Sdk-Date"] = date
    req = SdkRequest(method=method, schema="http", host=f"127.0.0.1:{server.port}", resource_path=path,
                     query_params=list(query or []), header_params=headers, body=body)
    signed = Signer(BasicCredentials(ak or server.info["access_key"], sk or server.info["secret_key"],
                                     project_id or server.info["project_id"])).sign(req)
    return dict(signed.header_params)


def openstack_cli(server: Any, *args: str, parse: bool = True, compute_version: str = "2.79"
                  ) -> dict | list | None:
    """`openstack <args>` as the admin; with `parse`, its `-f json` output parsed."""
    info = server.info
    env = {**os.environ, "OS_AUTH_URL": server.endpoint + "/identity/v3", "OS_USERNAME": info["admin_user"],
           "OS_PASSWORD": info["admin_password"], "OS_PROJECT_NAME": info["region"],
           "OS_USER_DOMAIN_NAME": info["domain_name"], "OS_PROJECT_DOMAIN_NAME": info["domain_name"],
           "OS_REGION_NAME": info["region"], "OS_COMPUTE_API_VERSION": compute_version}
    cli = os.path.join(os.path.dirname(sys.executable), "openstack")
    out = subprocess.run([cli, *args, *(["-f", "json"] if parse else [])], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if parse else None
