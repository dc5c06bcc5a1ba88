"""IAM through the unmodified huaweicloudsdkiam, then enforced on ECS calls made with the new user's keys."""

from __future__ import annotations

import pytest
from huaweicloudsdkecs.v2 import ListServersDetailsRequest, ShowServerRequest
from huaweicloudsdkiam.v3 import (
    DeletePermanentAccessKeyRequest,
    KeystoneListPermissionsRequest,
    KeystoneListUsersRequest,
    KeystoneUpdateUserByAdminRequest,
    KeystoneUpdateUserByAdminRequestBody,
    KeystoneUpdateUserOption,
    ListPermanentAccessKeysRequest,
    ShowCustomPolicyRequest,
)

from helpers import create, err, job, make_user, openstack_cli, stop


@pytest.fixture(scope="module")
def admin_ecs(ecsim_server):
    return ecsim_server.ecs()


@pytest.fixture(scope="module")
def servers(ecsim_server, admin_ecs):
    _, ids = create(admin_ecs, ecsim_server.info, "iam-target", count=2)
    return ids


def test_list_get_policy_allows_exactly_list_and_get(ecsim_server, servers, unique):
    u = make_user(ecsim_server, f"reader-{unique}", allow=["ecs:cloudServers:list", "ecs:cloudServers:get"])
    ecs = ecsim_server.ecs(u["ak"], u["sk"])
    assert ecs.list_servers_details(ListServersDetailsRequest(limit=50)).count >= 2
    assert ecs.show_server(ShowServerRequest(server_id=servers[0])).server.id == servers[0]
    e = err(lambda: stop(ecs, servers[:1]))
    assert (e.status_code, e.error_code) == (403, "Pdp.0001")
    assert e.error_msg == "Policy doesn't allow ecs:cloudServers:stop to be performed."
    # the denial is explained in the decision log
    _, _, body = ecsim_server.http("GET", f"/_ecsim/decisions?user={u['name']}&denied=true")
    d = body["decisions"][0]
    assert d["operation"] == "ecs.batch_stop_servers" and d["allowed"] is False
    assert d["denied_action"] == "ecs:cloudServers:stop"
    assert d["principal"]["user_name"] == u["name"] and d["principal"]["access_key"] == u["ak"]
    assert "implicit deny" in d["explanation"]
    _, _, allowed = ecsim_server.http("GET", f"/_ecsim/decisions?user={u['user_id']}")
    ok = next(x for x in allowed["decisions"] if x["operation"] == "ecs.list_servers_details")
    assert ok["allowed"] and ok["actions"][0]["statement"]["policy"] == f"p-{u['name']}"


def test_user_without_grants_is_denied_everything(ecsim_server, servers, unique):
    u = make_user(ecsim_server, f"nobody-{unique}")
    e = err(lambda: ecsim_server.ecs(u["ak"], u["sk"]).list_servers_details(ListServersDetailsRequest()))
    assert (e.status_code, e.error_code) == (403, "Pdp.0001") and "ecs:cloudServers:list" in e.error_msg


def test_system_policy_read_only(ecsim_server, servers, unique):
    u = make_user(ecsim_server, f"ro-{unique}", system=["ECS ReadOnlyAccess"])
    ecs = ecsim_server.ecs(u["ak"], u["sk"])
    ecs.list_servers_details(ListServersDetailsRequest())
    assert err(lambda: stop(ecs, servers[:1])).status_code == 403
    e = err(lambda: create(ecs, ecsim_server.info, "nope"))
    assert e.status_code == 403 and "ecs:cloudServers:create" in e.error_msg


def test_system_policy_common_operations_can_stop_not_create(ecsim_server, admin_ecs, unique):
    _, ids = create(admin_ecs, ecsim_server.info, f"co-{unique}")
    u = make_user(ecsim_server, f"co-{unique}", system=["ECS CommonOperations"])
    ecs = ecsim_server.ecs(u["ak"], u["sk"])
    stop(ecs, ids)
    assert admin_ecs.show_server(ShowServerRequest(server_id=ids[0])).server.status == "SHUTOFF"
    assert err(lambda: create(ecs, ecsim_server.info, "nope")).status_code == 403


def test_full_access_with_explicit_deny(ecsim_server, admin_ecs, unique):
    _, ids = create(admin_ecs, ecsim_server.info, f"fd-{unique}")
    u = make_user(ecsim_server, f"fd-{unique}", system=["ECS FullAccess"], deny=["ecs:cloudServers:stop"])
    ecs = ecsim_server.ecs(u["ak"], u["sk"])
    _, mine = create(ecs, ecsim_server.info, f"fd2-{unique}")
    assert mine
    e = err(lambda: stop(ecs, ids))
    assert e.status_code == 403 and "ecs:cloudServers:stop" in e.error_msg
    _, _, body = ecsim_server.http("GET", f"/_ecsim/decisions?user={u['name']}&denied=true")
    assert "explicitly denied" in body["decisions"][0]["explanation"]


def test_wildcard_actions(ecsim_server, servers, unique):
    u = make_user(ecsim_server, f"wc-{unique}", allow=["ecs:*:list*", "ecs:cloud*:st*"])
    ecs = ecsim_server.ecs(u["ak"], u["sk"])
    ecs.list_servers_details(ListServersDetailsRequest())
    assert err(lambda: ecs.show_server(ShowServerRequest(server_id=servers[0]))).status_code == 403


def test_grant_on_all_projects_applies(ecsim_server, servers, unique):
    u = make_user(ecsim_server, f"all-{unique}", allow=["ecs:cloudServers:list"], scope="all_projects")
    ecsim_server.ecs(u["ak"], u["sk"]).list_servers_details(ListServersDetailsRequest())


def test_jobs_are_followed_without_a_permission_of_their_own(ecsim_server, admin_ecs, unique):
    """No table lists an action for ShowJob (EVS: "no identity-policy permission is needed"): a user allowed only
    to stop servers, or only to create disks, follows the job it started."""
    from huaweicloudsdkevs.v2 import CreateVolumeOption, CreateVolumeRequest, CreateVolumeRequestBody
    from huaweicloudsdkevs.v2 import ShowJobRequest as EvsShowJobRequest

    u = make_user(ecsim_server, f"job-{unique}", allow=["ecs:cloudServers:stop", "evs:volumes:create"])
    ecs = ecsim_server.ecs(u["ak"], u["sk"])
    _, mine = create(admin_ecs, ecsim_server.info, f"job-{unique}")
    assert job(ecs, stop(ecs, mine)).status == "SUCCESS"
    evs = ecsim_server.evs(u["ak"], u["sk"])
    made = evs.create_volume(CreateVolumeRequest(body=CreateVolumeRequestBody(volume=CreateVolumeOption(
        availability_zone=ecsim_server.info["region"] + "a", volume_type="SSD", size=10))))
    assert evs.show_job(EvsShowJobRequest(job_id=made.job_id)).status == "SUCCESS"
    assert err(lambda: ecs.show_server(ShowServerRequest(server_id=mine[0]))).status_code == 403


def test_tag_actions_and_their_older_names(ecsim_server, admin_ecs, unique):
    """batchSetServerTags / showServerTags, or the put / get names policies written earlier use."""
    from huaweicloudsdkecs.v2 import (
        BatchAddServerTag,
        BatchCreateServerTagsRequest,
        BatchCreateServerTagsRequestBody,
        ShowServerTagsRequest,
    )

    _, (sid,) = create(admin_ecs, ecsim_server.info, f"tgi-{unique}")

    def tag(ecs):
        return ecs.batch_create_server_tags(BatchCreateServerTagsRequest(server_id=sid, body=(
            BatchCreateServerTagsRequestBody(action="create", tags=[BatchAddServerTag(key="k", value="v")]))))

    old = make_user(ecsim_server, f"tgo-{unique}", allow=["ecs:cloudServers:put", "ecs:cloudServers:get"])
    new = make_user(ecsim_server, f"tgn-{unique}", allow=["ecs:cloudServers:showServerTags"])
    tag(ecsim_server.ecs(old["ak"], old["sk"]))
    shown = ecsim_server.ecs(new["ak"], new["sk"]).show_server_tags(ShowServerTagsRequest(server_id=sid)).tags
    assert [(t.key, t.value) for t in shown] == [("k", "v")]
    e = err(lambda: tag(ecsim_server.ecs(new["ak"], new["sk"])))
    assert e.status_code == 403 and "ecs:cloudServers:batchSetServerTags" in e.error_msg


def test_role_assignment_records(ecsim_server, unique):
    from huaweicloudsdkiam.v3 import ShowDomainRoleAssignmentsRequest

    iam, info = ecsim_server.iam(), ecsim_server.info
    proj = make_user(ecsim_server, f"ra-{unique}", allow=["ecs:cloudServers:list"])
    every = make_user(ecsim_server, f"rb-{unique}", system=["ECS ReadOnlyAccess"], scope="all_projects")

    def records(**kw):
        r = iam.show_domain_role_assignments(ShowDomainRoleAssignmentsRequest(domain_id=info["domain_id"], **kw))
        return r.total_num, [(a.role.id, a.group.id if a.group else None, a.scope.to_dict(), a.is_inherited)
                             for a in r.role_assignments]

    assert records(subject_user_id=proj["user_id"]) == (1, [
        (proj["role_ids"][0], proj["group_id"], {"project": {"id": info["project_id"]}, "domain": None,
                                                 "enterprise_project": None}, False)])
    assert records(subject_user_id=proj["user_id"], include_group=False) == (0, [])
    total, found = records(subject_group_id=every["group_id"], scope="domain", is_inherited=True)
    assert total == 1 and found[0][2]["domain"] == {"id": info["domain_id"]} and found[0][3] is True
    assert records(subject_group_id=every["group_id"], scope="domain")[0] == 0  # not on the account itself
    assert records(role_id=proj["role_ids"][0])[0] == 1
    total, _ = records()
    assert total >= 2 and len(records(page=1, per_page=1)[1]) == 1
    e = err(lambda: iam.show_domain_role_assignments(ShowDomainRoleAssignmentsRequest(domain_id="0" * 32)))
    assert e.status_code == 403


def test_grant_on_all_projects_covers_global_services(ecsim_server, unique):
    """iam_02_0519: a grant for all projects includes the global service project, so IAM calls are allowed and
    global (AX) system policies may be granted there."""
    u = make_user(ecsim_server, f"allg-{unique}", allow=["iam:users:listUsers"], scope="all_projects")
    users = ecsim_server.iam(u["ak"], u["sk"]).keystone_list_users(KeystoneListUsersRequest()).users
    assert u["name"] in [x.name for x in users]
    sec = make_user(ecsim_server, f"alls-{unique}", system=["Security Administrator"], scope="all_projects")
    assert ecsim_server.iam(sec["ak"], sec["sk"]).keystone_list_users(KeystoneListUsersRequest()).users
    other = make_user(ecsim_server, f"allp-{unique}", allow=["ecs:cloudServers:list"], scope="all_projects")
    assert err(lambda: ecsim_server.iam(other["ak"], other["sk"]).keystone_list_users(
        KeystoneListUsersRequest())).status_code == 403


def test_grant_on_account_does_not_authorize_project_services(ecsim_server, unique):
    u = make_user(ecsim_server, f"dom-{unique}", allow=["ecs:cloudServers:list"], scope="domain")
    e = err(lambda: ecsim_server.ecs(u["ak"], u["sk"]).list_servers_details(ListServersDetailsRequest()))
    assert e.status_code == 403


def test_disabled_user_and_deleted_key_stop_working_at_once(ecsim_server, unique):
    u = make_user(ecsim_server, f"dis-{unique}", allow=["ecs:cloudServers:list"])
    ecs = ecsim_server.ecs(u["ak"], u["sk"])
    ecs.list_servers_details(ListServersDetailsRequest())
    token = ecsim_server.token(u["name"], u["password"])
    assert ecsim_server.http("GET", f"/v1/{ecsim_server.info['project_id']}/cloudservers/detail",
                             token=token)[0] == 200
    iam = ecsim_server.iam()
    iam.keystone_update_user_by_admin(KeystoneUpdateUserByAdminRequest(user_id=u["user_id"], body=(
        KeystoneUpdateUserByAdminRequestBody(user=KeystoneUpdateUserOption(enabled=False)))))
    assert err(lambda: ecs.list_servers_details(ListServersDetailsRequest())).status_code == 403
    status, _, body = ecsim_server.http("GET", f"/v1/{ecsim_server.info['project_id']}/cloudservers/detail",
                                        token=token)
    assert status == 401 and body["error_code"] == "APIGW.0301"
    iam.keystone_update_user_by_admin(KeystoneUpdateUserByAdminRequest(user_id=u["user_id"], body=(
        KeystoneUpdateUserByAdminRequestBody(user=KeystoneUpdateUserOption(enabled=True)))))
    ecs.list_servers_details(ListServersDetailsRequest())
    iam.delete_permanent_access_key(DeletePermanentAccessKeyRequest(access_key=u["ak"]))
    e = err(lambda: ecs.list_servers_details(ListServersDetailsRequest()))
    assert (e.status_code, e.error_code) == (401, "APIGW.0301") and "ak not exist" in e.error_msg


def test_users_may_manage_their_own_keys_but_not_others(ecsim_server, unique):
    a = make_user(ecsim_server, f"self-{unique}")
    b = make_user(ecsim_server, f"other-{unique}")
    mine = ecsim_server.iam(a["ak"], a["sk"])
    keys = mine.list_permanent_access_keys(ListPermanentAccessKeysRequest(user_id=a["user_id"])).credentials
    assert [k.access for k in keys] == [a["ak"]]
    e = err(lambda: mine.list_permanent_access_keys(ListPermanentAccessKeysRequest(user_id=b["user_id"])))
    assert e.status_code == 403 and "iam:credentials:listCredentials" in e.error_msg
    assert err(lambda: mine.keystone_list_users(KeystoneListUsersRequest())).status_code == 403


def test_system_policies_are_listed_with_their_contents(ecsim_server):
    iam = ecsim_server.iam()
    roles = iam.keystone_list_permissions(KeystoneListPermissionsRequest(permission_type="policy")).roles
    names = {r.display_name for r in roles}
    assert {"ECS FullAccess", "ECS ReadOnlyAccess", "ECS CommonOperations", "EVS FullAccess",
            "EVS ReadOnlyAccess"} <= names
    full = next(r for r in roles if r.display_name == "ECS FullAccess")
    assert full.flag == "fine_grained" and full.type == "XA" and "ecs:*:*" in full.policy.statement[0].action
    base = iam.keystone_list_permissions(KeystoneListPermissionsRequest(permission_type="role")).roles
    assert {"Tenant Administrator", "Tenant Guest", "Server Administrator"} <= {r.display_name for r in base}


def test_custom_policy_validation_points_at_the_element(ecsim_server, unique):
    status, _, body = ecsim_server.http("POST", "/v3.0/OS-ROLE/roles", {"role": {
        "display_name": f"bad-{unique}", "type": "XA", "description": "x",
        "policy": {"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["ecs:servers"]}]}}},
        token=ecsim_server.token())
    assert status == 400
    assert "Statement[0].Action[0]" in body["error"]["message"]


def test_custom_policy_shows_references(ecsim_server, unique):
    u = make_user(ecsim_server, f"ref-{unique}", allow=["ecs:cloudServers:list"])
    role = ecsim_server.iam().show_custom_policy(ShowCustomPolicyRequest(role_id=u["role_ids"][0])).role
    assert role.references == 1 and role.catalog == "CUSTOMED"
    assert role.name.startswith(f"custom_{ecsim_server.info['domain_id']}_")


def test_custom_policy_is_deleted_once_no_longer_granted(ecsim_server, unique):
    from huaweicloudsdkiam.v3 import DeleteCustomPolicyRequest, KeystoneRemoveProjectPermissionFromGroupRequest

    u = make_user(ecsim_server, f"del-{unique}", allow=["ecs:cloudServers:list"])
    iam = ecsim_server.iam()
    e = err(lambda: iam.delete_custom_policy(DeleteCustomPolicyRequest(role_id=u["role_ids"][0])))
    assert e.status_code == 409 and "revoke" in e.error_msg
    iam.keystone_remove_project_permission_from_group(KeystoneRemoveProjectPermissionFromGroupRequest(
        project_id=ecsim_server.info["project_id"], group_id=u["group_id"], role_id=u["role_ids"][0]))
    assert iam.delete_custom_policy(DeleteCustomPolicyRequest(role_id=u["role_ids"][0])).message == "Delete success"
    assert err(lambda: iam.show_custom_policy(ShowCustomPolicyRequest(role_id=u["role_ids"][0]))).status_code == 404


def test_a_granted_policys_type_cannot_leave_its_grants_behind(ecsim_server, unique):
    """Types are checked at grant time (XA on projects, AX on the account): a retype that would make a grant one
    its new type refuses is a conflict, and the policy stays as it was."""
    from huaweicloudsdkiam.v3 import (
        ServicePolicy,
        ServicePolicyRoleOption,
        ServiceStatement,
        UpdateCloudServiceCustomPolicyRequest,
        UpdateCloudServiceCustomPolicyRequestBody,
    )

    u = make_user(ecsim_server, f"rt-{unique}", allow=["ecs:cloudServers:list"])
    iam = ecsim_server.iam()

    def retype(kind: str):
        return iam.update_cloud_service_custom_policy(UpdateCloudServiceCustomPolicyRequest(
            role_id=u["role_ids"][0], body=UpdateCloudServiceCustomPolicyRequestBody(role=ServicePolicyRoleOption(
                display_name=f"p-rt-{unique}", type=kind, description="retyped", policy=ServicePolicy(
                    version="1.1", statement=[ServiceStatement(effect="Allow", action=["ecs:cloudServers:list"])])))))

    e = err(lambda: retype("AX"))  # granted on the region project
    assert e.status_code == 409 and "revoke" in e.error_msg
    assert iam.show_custom_policy(ShowCustomPolicyRequest(role_id=u["role_ids"][0])).role.type == "XA"
    assert retype("XA").role.description == "retyped"  # the same type: fine


def test_another_projects_server_is_not_found(ecsim_server, admin_ecs, unique):
    """A sub-project is another project: the admin's servers there are invisible from the region project."""
    from huaweicloudsdkiam.v3 import (
        KeystoneCreateProjectOption,
        KeystoneCreateProjectRequest,
        KeystoneCreateProjectRequestBody,
    )

    iam = ecsim_server.iam()
    info = ecsim_server.info
    sub = iam.keystone_create_project(KeystoneCreateProjectRequest(body=KeystoneCreateProjectRequestBody(
        project=KeystoneCreateProjectOption(name=f"{info['region']}_{unique}", parent_id=info["project_id"])))).project
    _, ids = create(admin_ecs, info, f"home-{unique}")
    other = ecsim_server.ecs(project_id=sub.id)
    e = err(lambda: other.show_server(ShowServerRequest(server_id=ids[0])))
    assert (e.status_code, e.error_code) == (404, "Ecs.0114")
    assert other.list_servers_details(ListServersDetailsRequest()).count == 0


def test_openstack_cli_identity_commands(ecsim_server, unique):
    """The CLI's --domain options look the account up (/v3/domains), and the deployment's regions, services and
    endpoints read as the token's catalog shows them, with ids that do not change between tokens."""
    info = ecsim_server.info
    user = openstack_cli(ecsim_server, "user", "create", "--domain", info["domain_name"], "--password",
                         "Passw0rd!x", f"cli-{unique}")
    assert isinstance(user, dict) and user["domain_id"] == info["domain_id"]
    listed = openstack_cli(ecsim_server, "user", "list", "--domain", info["domain_name"])
    assert f"cli-{unique}" in [u["Name"] for u in listed]
    assert openstack_cli(ecsim_server, "region", "list")[0]["Region"] == info["region"]
    services = {s["Type"]: s["ID"] for s in openstack_cli(ecsim_server, "service", "list")}
    assert {"compute", "volumev3", "identity", "ecs", "evs"} <= set(services)
    endpoints = openstack_cli(ecsim_server, "endpoint", "list", "--service", "compute")
    assert endpoints[0]["URL"].endswith("/compute/v2.1/$(project_id)s")
    shown = openstack_cli(ecsim_server, "catalog", "show", "compute")
    assert shown["id"] == services["compute"] == openstack_cli(ecsim_server, "catalog", "show", "compute")["id"]
