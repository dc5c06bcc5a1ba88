"""Resource-level policies and conditions decided on live requests through the real SDKs: a statement scoped to
one server's URN, a batch that names a server outside it, seed 002's per-server detach rule, and the global and
resource condition keys (user name, time window, source IP, resource tag) each deciding a case both ways."""

from __future__ import annotations

import pytest
from huaweicloudsdkecs.v2 import (
    AttachServerVolumeOption,
    AttachServerVolumeRequest,
    AttachServerVolumeRequestBody,
    BatchAttachSharableVolumesOption,
    BatchAttachSharableVolumesRequest,
    BatchAttachSharableVolumesRequestBody,
    BatchDetachVolumesRequest,
    ListServersDetailsRequest,
    PostPaidServerTag,
    ShowServerRequest,
    VolumeBatchDetachRequest,
)
from huaweicloudsdkevs.v2 import CreateVolumeOption, CreateVolumeRequest, CreateVolumeRequestBody
from novaclient import exceptions as nova_exc

from ecsim.iam.evaluate import decode_authorization_message
from helpers import create, err, job, make_user, signed_headers, start, stop


@pytest.fixture(scope="module")
def pair(ecsim_server):
    """Two servers in one zone; the first tagged team=a."""
    info = ecsim_server.info
    az = info["region"] + "a"
    ecs = ecsim_server.ecs()
    _, (a,) = create(ecs, info, "scope-a", availability_zone=az, server_tags=[PostPaidServerTag(key="team", value="a")])
    _, (b,) = create(ecs, info, "scope-b", availability_zone=az)
    return a, b


def instance(server_id: str) -> str:
    return f"ECS:*:*:instance:{server_id}"


def test_statement_scoped_to_one_instance(ecsim_server, pair, unique):
    a, b = pair
    u = make_user(ecsim_server, f"one-{unique}", allow=["ecs:cloudServers:stop", "ecs:cloudServers:start"],
                  resource=[instance(a)])
    ecs = ecsim_server.ecs(u["ak"], u["sk"])
    assert job(ecsim_server.ecs(), stop(ecs, [a])).status == "SUCCESS"
    assert job(ecsim_server.ecs(), start(ecs, [a])).status == "SUCCESS"
    e = err(lambda: stop(ecs, [b]))
    assert (e.status_code, e.error_code) == (403, "Pdp.0001") and "ecs:cloudServers:stop" in e.error_msg
    # a batch is allowed only if every server it names is: one outside the statement refuses the whole batch
    e = err(lambda: stop(ecs, [a, b]))
    assert e.status_code == 403
    # the log names the resources of each decision as URNs
    _, _, log = ecsim_server.http("GET", f"/_ecsim/decisions?user={u['name']}&denied=true&limit=1")
    region, account = ecsim_server.info["region"], ecsim_server.info["domain_id"]
    assert log["decisions"][0]["resources"] == [f"ecs:{region}:{account}:instance:{s}" for s in (a, b)]
    # an action without resource-level support is not granted by a resource-scoped statement
    e = err(lambda: ecs.list_servers_details(ListServersDetailsRequest()))
    assert e.status_code == 403 and "ecs:cloudServers:list" in e.error_msg
    # the denials say which statement came close and why it did not apply
    _, _, log = ecsim_server.http("GET", f"/_ecsim/decisions?user={u['name']}&denied=true&limit=3")
    why = {d["operation"]: d["explanation"] for d in log["decisions"]}
    assert why["ecs.batch_stop_servers"] == (
        "ecs:cloudServers:stop (the operation's own action) is not allowed (implicit deny): statement 0 of policy "
        f"'p-one-{unique}' allows it, but its Resource ({instance(a)}) does not cover "
        f"ecs:{region}:{account}:instance:{b}")


def test_wildcard_instance_urn_and_explicit_deny_on_one(ecsim_server, pair, unique):
    a, b = pair
    u = make_user(ecsim_server, f"wild-{unique}", allow=["ecs:cloudServers:get"], resource=["ecs:*:*:instance:*"],
                  deny=["ecs:cloudServers:get"])
    e = err(lambda: ecsim_server.ecs(u["ak"], u["sk"]).show_server(ShowServerRequest(server_id=a)))
    assert e.status_code == 403  # the unscoped Deny wins over the scoped Allow
    region = ecsim_server.info["region"]
    u = make_user(ecsim_server, f"wild2-{unique}", allow=["ecs:cloudServers:stop", "ecs:cloudServers:start"],
                  resource=[f"ecs:{region}:*:instance:*"])
    ecs = ecsim_server.ecs(u["ak"], u["sk"])
    assert job(ecsim_server.ecs(), stop(ecs, [a, b])).status == "SUCCESS"
    assert job(ecsim_server.ecs(), start(ecs, [a, b])).status == "SUCCESS"


def test_a_show_has_no_authorization_by_instance(ecsim_server, pair, unique):
    """The tables mark a server show "Authorization by Instance ✗": a 1.1 statement scoped to instances (even to
    every instance of a region) never grants it; `*`, or every ECS resource, does."""
    a, _ = pair
    region = ecsim_server.info["region"]
    for resource in ([instance(a)], [f"ecs:{region}:*:instance:*"]):
        u = make_user(ecsim_server, f"show-{unique}-{len(resource[0])}", allow=["ecs:cloudServers:get",
                                                                            "ecs:servers:get"], resource=resource)
        e = err(lambda u=u: ecsim_server.ecs(u["ak"], u["sk"]).show_server(ShowServerRequest(server_id=a)))
        assert (e.status_code, e.error_code) == (403, "Pdp.0001") and "ecs:cloudServers:get" in e.error_msg
        with pytest.raises(nova_exc.Forbidden, match="ecs:servers:get"):
            ecsim_server.nova(user=u["name"], password=u["password"]).servers.get(a)
    u = make_user(ecsim_server, f"show-all-{unique}", allow=["ecs:cloudServers:get"], resource=["ecs:*:*:instance:*"])
    assert ecsim_server.ecs(u["ak"], u["sk"]).show_server(ShowServerRequest(server_id=a)).server.id == a


def test_seed_002_detach_needs_the_action_on_every_server_in_serverinfo(ecsim_server, pair, unique):
    a, b = pair
    admin = ecsim_server.ecs()
    option = CreateVolumeOption(availability_zone=ecsim_server.info["region"] + "a", volume_type="SSD", size=10,
                                name=f"scoped-{unique}", multiattach=True)
    vid = ecsim_server.evs().create_volume(CreateVolumeRequest(body=CreateVolumeRequestBody(volume=option))
                                           ).volume_ids[0]
    body = BatchAttachSharableVolumesRequestBody(serverinfo=[BatchAttachSharableVolumesOption(server_id=s)
                                                             for s in pair])
    r = admin.batch_attach_sharable_volumes(BatchAttachSharableVolumesRequest(volume_id=vid, body=body))
    assert job(admin, r.job_id).status == "SUCCESS"
    u = make_user(ecsim_server, f"det-{unique}", allow=["ecs:cloudServers:detachVolume"], resource=[instance(a)])
    ecs = ecsim_server.ecs(u["ak"], u["sk"])

    def detach(servers: list[str]) -> str:
        return ecs.batch_detach_volumes(BatchDetachVolumesRequest(
            volume_id=vid, body=VolumeBatchDetachRequest(serverinfo=servers))).job_id

    e = err(lambda: detach([a, b]))
    assert (e.status_code, e.error_code) == (403, "Pdp.0001") and "ecs:cloudServers:detachVolume" in e.error_msg
    assert job(admin, detach([a])).status == "SUCCESS"
    e = err(lambda: detach([b]))
    assert e.status_code == 403


def condition_user(server, name: str, condition: dict) -> object:
    u = make_user(server, name, allow=["ecs:cloudServers:list"], condition=condition)
    return server.ecs(u["ak"], u["sk"])


def lists(ecs) -> int:
    try:
        return ecs.list_servers_details(ListServersDetailsRequest(limit=1)).count
    except Exception as exc:  # the SDK's 403
        return getattr(exc, "status_code", 0)


@pytest.mark.parametrize(("what", "allows", "refuses"), [
    ("user name", lambda n: {"StringEquals": {"g:UserName": [n]}},
     lambda n: {"StringEquals": {"g:UserName": [n + "-other"]}}),
    ("time window", lambda n: {"DateLessThan": {"g:CurrentTime": ["2999-01-01T00:00:00Z"]}},
     lambda n: {"DateGreaterThan": {"g:CurrentTime": ["2999-01-01T00:00:00Z"]}}),
    ("source ip", lambda n: {"IpAddress": {"g:SourceIp": ["127.0.0.0/8"]}},
     lambda n: {"NotIpAddress": {"g:SourceIp": ["127.0.0.0/8"]}}),
    ("if-exists on an absent key", lambda n: {"StringEqualsIfExists": {"g:EnterpriseProjectId": ["nope"]}},
     lambda n: {"StringEquals": {"g:EnterpriseProjectId": ["nope"]}}),
])
def test_conditions_decide_both_ways(ecsim_server, pair, unique, what, allows, refuses):
    ok_name, no_name = f"c-ok-{unique}", f"c-no-{unique}"
    assert lists(condition_user(ecsim_server, ok_name, allows(ok_name))) >= 2
    assert lists(condition_user(ecsim_server, no_name, refuses(no_name))) == 403
    _, _, log = ecsim_server.http("GET", f"/_ecsim/decisions?user={no_name}&denied=true&limit=1")
    explanation = log["decisions"][0]["explanation"]
    operator, keys = next(iter(refuses(no_name).items()))  # the key spelt as the policy spells it
    assert f"policy 'p-{no_name}' allows it, but its Condition {operator} {next(iter(keys))} " in explanation


def test_request_tags_on_create(ecsim_server, unique):
    """Authorization by tag on creates: g:RequestTag/<key> and g:TagKeys come from the tags the body puts on the
    new servers (ECS server_tags) and disks (EVS tags), for Allow and Deny."""
    info = ecsim_server.info

    def creates(u, tags):
        ecs = ecsim_server.ecs(u["ak"], u["sk"])
        server_tags = [PostPaidServerTag(key=k, value=v) for k, v in tags.items()] or None
        try:
            return create(ecs, info, f"rt-{unique}", server_tags=server_tags, dry_run=True) and 202
        except Exception as exc:  # the SDK's 403
            return getattr(exc, "status_code", 0)

    u = make_user(ecsim_server, f"rt-{unique}", allow=["ecs:cloudServers:create", "evs:volumes:create"],
                  condition={"StringEquals": {"g:RequestTag/env": ["dev"]}})
    assert [creates(u, t) for t in ({"env": "dev"}, {"env": "prod"}, {})] == [202, 403, 403]
    evs = ecsim_server.evs(u["ak"], u["sk"])
    for tags, allowed in (({"env": "dev"}, True), ({"team": "a"}, False)):
        body = CreateVolumeRequestBody(volume=CreateVolumeOption(
            availability_zone=info["region"] + "a", volume_type="SSD", size=10, name=f"rt-{unique}", tags=tags))
        if allowed:
            assert evs.create_volume(CreateVolumeRequest(body=body)).volume_ids
        else:
            assert err(lambda body=body: evs.create_volume(CreateVolumeRequest(body=body))).status_code == 403
    # deny what is not tagged
    u = make_user(ecsim_server, f"rt2-{unique}", allow=["ecs:cloudServers:create"], deny=["ecs:cloudServers:create"],
                  deny_condition={"Null": {"g:RequestTag/env": ["true"]}})
    assert [creates(u, t) for t in ({"env": "x"}, {}, {"team": "a"})] == [202, 403, 403]
    u = make_user(ecsim_server, f"rt3-{unique}", allow=["ecs:cloudServers:create"],
                  condition={"ForAnyValue:StringEquals": {"g:TagKeys": ["env"]}})
    assert [creates(u, t) for t in ({"env": "x", "team": "a"}, {"team": "a"})] == [202, 403]


def test_volume_type_condition_on_evs_create(ecsim_server, unique):
    """evs:VolumeType (a condition key of evs:volumes:create) is the type the create body asks for."""
    u = make_user(ecsim_server, f"vt-{unique}", allow=["evs:volumes:create"],
                  condition={"StringEquals": {"evs:VolumeType": ["SSD"]}})
    evs = ecsim_server.evs(u["ak"], u["sk"])

    def body(volume_type: str) -> CreateVolumeRequest:
        return CreateVolumeRequest(body=CreateVolumeRequestBody(volume=CreateVolumeOption(
            availability_zone=ecsim_server.info["region"] + "a", volume_type=volume_type, size=10,
            name=f"vt-{unique}")))

    assert evs.create_volume(body("SSD")).volume_ids
    assert err(lambda: evs.create_volume(body("SAS"))).status_code == 403


def test_a_client_cannot_choose_its_source_ip(ecsim_server, unique):
    """X-Forwarded-For is not believed (no --forwarded-allow-ips): g:SourceIp is the connection's address."""
    u = make_user(ecsim_server, f"xff-{unique}", allow=["ecs:cloudServers:list"],
                  condition={"IpAddress": {"g:SourceIp": ["10.0.0.0/8"]}})
    path = f"/v1/{ecsim_server.info['project_id']}/cloudservers/detail"
    for extra in ({}, {"X-Forwarded-For": "10.1.2.3"}, {"Forwarded": "for=10.1.2.3"}):
        headers = {**signed_headers(ecsim_server, "GET", path, ak=u["ak"], sk=u["sk"]), **extra}
        status, _, body = ecsim_server.http("GET", path, headers=headers)
        assert (status, body["error"]["code"]) == (403, "Pdp.0001"), extra


def test_resource_tag_condition(ecsim_server, pair, unique):
    a, b = pair
    u = make_user(ecsim_server, f"tag-{unique}", allow=["ecs:cloudServers:get"],
                  condition={"StringEquals": {"g:ResourceTag/team": ["a"]}})
    ecs = ecsim_server.ecs(u["ak"], u["sk"])
    assert ecs.show_server(ShowServerRequest(server_id=a)).server.id == a
    e = err(lambda: ecs.show_server(ShowServerRequest(server_id=b)))
    assert e.status_code == 403


def test_denial_carries_an_encoded_authorization_message(ecsim_server, pair, unique):
    a, _ = pair
    u = make_user(ecsim_server, f"enc-{unique}", allow=["ecs:cloudServers:list"])
    e = err(lambda: stop(ecsim_server.ecs(u["ak"], u["sk"]), [a]))
    msg = decode_authorization_message(e.encoded_auth_msg)
    assert msg["operation"] == "ecs.batch_stop_servers" and msg["denied_action"] == "ecs:cloudServers:stop"
    assert msg["allowed"] is False and "implicit deny" in msg["explanation"]
    assert msg["request_id"] == e.request_id


def test_a_deny_on_one_server_refuses_any_batch_naming_it(ecsim_server, pair, unique):
    """Per-resource decisions: a Deny scoped to one server cannot be slipped past inside a batch, an empty or
    malformed batch does not leave a cached decision behind, and a tag-based Deny holds for body-named servers."""
    a, b = pair
    u = make_user(ecsim_server, f"dny-{unique}", allow=["ecs:cloudServers:stop", "ecs:cloudServers:start"],
                  deny=["ecs:cloudServers:stop"], deny_resource=[instance(a)])
    ecs = ecsim_server.ecs(u["ak"], u["sk"])
    pid = ecsim_server.info["project_id"]
    for bad in ({"os-stop": {"servers": []}}, {"os-stop": {"servers": [{"id": 5}]}}):
        status, _, _ = ecsim_server.http("POST", f"/v1/{pid}/cloudservers/action", bad,
                                         token=ecsim_server.token(u["name"], u["password"]))
        assert status == 400
    e = err(lambda: stop(ecs, [a, b]))
    assert (e.status_code, e.error_code) == (403, "Pdp.0001")
    assert "explicitly denied" in decode_authorization_message(e.encoded_auth_msg)["explanation"]
    assert job(ecsim_server.ecs(), stop(ecs, [b])).status == "SUCCESS"
    assert job(ecsim_server.ecs(), start(ecs, [b])).status == "SUCCESS"

    tagged = make_user(ecsim_server, f"tagd-{unique}", allow=["ecs:cloudServers:stop"],
                       deny=["ecs:cloudServers:stop"], deny_condition={"StringEquals": {"g:ResourceTag/team": ["a"]}})
    e = err(lambda: stop(ecsim_server.ecs(tagged["ak"], tagged["sk"]), [b, a]))  # a is tagged team=a
    assert e.status_code == 403


def test_dependency_in_another_service_with_a_wildcard_resource(ecsim_server, pair, unique):
    """A 5.0 statement on every volume grants attach's EVS dependency (the request names no volume URN)."""
    from test_iam_v5 import attach_user, document, new_policy

    a, _ = pair
    u = make_user(ecsim_server, f"dep-{unique}")
    iam5 = ecsim_server.iam5()
    p = new_policy(iam5, f"dep-{unique}", document("Allow", "ecs:cloudServers:attach", "evs:volumes:use",
                                                  Resource=["ecs:*:*:instance:*", "evs:*:*:volume:*"]))
    attach_user(iam5, p.policy_id, u["user_id"])
    option = CreateVolumeOption(availability_zone=ecsim_server.info["region"] + "a", volume_type="SSD", size=10)
    vid = ecsim_server.evs().create_volume(CreateVolumeRequest(body=CreateVolumeRequestBody(volume=option))
                                           ).volume_ids[0]
    body = AttachServerVolumeRequestBody(volume_attachment=AttachServerVolumeOption(volume_id=vid))
    r = ecsim_server.ecs(u["ak"], u["sk"]).attach_server_volume(AttachServerVolumeRequest(server_id=a, body=body))
    assert job(ecsim_server.ecs(), r.job_id).status == "SUCCESS"


def test_enterprise_project_grants_cover_batches_and_creates(ecsim_server, unique):
    """A grant on an enterprise project (EP) covers a batch whose body names only that EP's servers, and creates
    into that EP (whose condition key g:EnterpriseProjectId the create body sets); a batch reaching outside it, or
    a create into the default EP, needs a grant there."""
    from huaweicloudsdkecs.v2 import PostPaidServerExtendParam
    from huaweicloudsdkiam.v3 import (
        AssociateRoleToUserOnEnterpriseProjectRequest,
        CreateCloudServiceCustomPolicyRequest,
        CreateCloudServiceCustomPolicyRequestBody,
        ServicePolicy,
        ServicePolicyRoleOption,
        ServiceStatement,
    )

    info, admin, iam = ecsim_server.info, ecsim_server.ecs(), ecsim_server.iam()
    ep = f"ep-{unique}"

    def in_ep(e: str | None) -> PostPaidServerExtendParam | None:
        return PostPaidServerExtendParam(enterprise_project_id=e) if e else None

    _, (inside,) = create(admin, info, f"epi-{unique}", extendparam=in_ep(ep))
    _, (outside,) = create(admin, info, f"epo-{unique}")
    u = make_user(ecsim_server, f"epb-{unique}")
    policy = ServicePolicy(version="1.1", statement=[
        ServiceStatement(effect="Allow", action=["ecs:cloudServers:stop", "ecs:cloudServers:start",
                                                 "ecs:cloudServers:create"]),
        ServiceStatement(effect="Deny", action=["ecs:cloudServers:create"],
                         condition={"StringNotEquals": {"g:EnterpriseProjectId": [ep]}})])
    role = iam.create_cloud_service_custom_policy(CreateCloudServiceCustomPolicyRequest(
        body=CreateCloudServiceCustomPolicyRequestBody(role=ServicePolicyRoleOption(
            display_name=f"ep-ops-{unique}", type="XA", description="ep", policy=policy)))).role
    iam.associate_role_to_user_on_enterprise_project(AssociateRoleToUserOnEnterpriseProjectRequest(
        enterprise_project_id=ep, user_id=u["user_id"], role_id=role.id))
    mine = ecsim_server.ecs(u["ak"], u["sk"])
    assert job(admin, stop(mine, [inside])).status == "SUCCESS"
    for ids in ([outside], [inside, outside]):
        e = err(lambda ids=ids: start(mine, ids))
        assert (e.status_code, e.error_code) == (403, "Pdp.0001")
    assert job(admin, start(mine, [inside])).status == "SUCCESS"
    _, (made,) = create(mine, info, f"epn-{unique}", extendparam=in_ep(ep))
    assert admin.show_server(ShowServerRequest(server_id=made)).server.enterprise_project_id == ep
    e = err(lambda: create(mine, info, f"epd-{unique}"))  # the default EP "0": not granted
    assert (e.status_code, e.error_code) == (403, "Pdp.0001")

    def simulated(operation: str, **body) -> str:  # the simulator answers as the server did
        _, _, out = ecsim_server.http("POST", "/_ecsim/iam/simulate", {"user": u["name"], "operations": [operation],
                                                                        **body})
        return out["results"][0]["decision"]

    pid = info["project_id"]
    stop_line = f"POST /v1/{pid}/cloudservers/action os-stop"
    assert simulated(stop_line, resources=[inside]) == "allowed"
    assert simulated(stop_line, resources=[inside, outside]) == "implicit_deny"
    assert simulated("ecs.create_post_paid_servers", context={"g:EnterpriseProjectId": ep}) == "allowed"
    assert simulated("ecs.create_post_paid_servers") == "implicit_deny"
    status, _, out = ecsim_server.http("POST", "/_ecsim/iam/simulate", {  # the path's project is the one asked
        "user": u["name"], "operations": [stop_line], "project_id": "0" * 32})
    assert status == 400 and pid in out["error"]["message"]


def test_enterprise_project_grants_list_only_their_projects(ecsim_server, unique):
    """A user granted only on enterprise projects lists the servers and disks of those (all of them, or the one
    `enterprise_project_id` names); another one is 403, as is a list for the user without any grant."""
    from huaweicloudsdkecs.v2 import ListCloudServersRequest, PostPaidServerExtendParam
    from huaweicloudsdkevs.v2 import (
        CreateVolumeOption,
        CreateVolumeRequest,
        CreateVolumeRequestBody,
        ListVolumesRequest,
    )
    from huaweicloudsdkiam.v3 import AssociateRoleToUserOnEnterpriseProjectRequest, KeystoneListPermissionsRequest

    info, admin, iam = ecsim_server.info, ecsim_server.ecs(), ecsim_server.iam()
    eps = [f"epl-{unique}-{i}" for i in range(3)]
    servers = {ep: create(admin, info, f"epl-{unique}", extendparam=PostPaidServerExtendParam(
        enterprise_project_id=ep))[1][0] for ep in eps}
    evs = ecsim_server.evs()
    for ep in eps:
        evs.create_volume(CreateVolumeRequest(body=CreateVolumeRequestBody(volume=CreateVolumeOption(
            availability_zone=info["region"] + "a", volume_type="SSD", size=10, name=f"epl-{unique}",
            enterprise_project_id=ep))))
    u = make_user(ecsim_server, f"epl-{unique}")
    for name in ("ECS ReadOnlyAccess", "EVS ReadOnlyAccess"):
        role = next(r for r in iam.keystone_list_permissions(KeystoneListPermissionsRequest(
            display_name=name)).roles)
        for ep in eps[:2]:
            iam.associate_role_to_user_on_enterprise_project(AssociateRoleToUserOnEnterpriseProjectRequest(
                enterprise_project_id=ep, user_id=u["user_id"], role_id=role.id))
    mine = ecsim_server.ecs(u["ak"], u["sk"])
    listed = mine.list_servers_details(ListServersDetailsRequest(name=f"epl-{unique}"))
    assert {s.id for s in listed.servers} == {servers[eps[0]], servers[eps[1]]} and listed.count == 2
    one = mine.list_cloud_servers(ListCloudServersRequest(name=f"epl-{unique}", enterprise_project_id=eps[1]))
    assert [s.id for s in one.servers] == [servers[eps[1]]]
    e = err(lambda: mine.list_servers_details(ListServersDetailsRequest(enterprise_project_id=eps[2])))
    assert (e.status_code, e.error_code) == (403, "Pdp.0001")
    vols = ecsim_server.evs(u["ak"], u["sk"]).list_volumes(ListVolumesRequest(name=f"epl-{unique}"))
    assert sorted(v.enterprise_project_id for v in vols.volumes) == sorted(eps[:2])
    nobody = make_user(ecsim_server, f"epn-{unique}")
    e = err(lambda: ecsim_server.ecs(nobody["ak"], nobody["sk"]).list_servers_details(ListServersDetailsRequest()))
    assert e.status_code == 403
    # the simulator decides as the server does
    for who, context, allowed in ((u, {}, True), (u, {"g:EnterpriseProjectId": eps[2]}, False), (nobody, {}, False)):
        status, _, out = ecsim_server.http("POST", "/_ecsim/iam/simulate", {
            "user": who["name"], "operations": ["ecs.list_servers_details"], "context": context})
        assert status == 200 and out["allowed"] is allowed, (who["name"], context, out)


def test_enterprise_project_condition_on_lists(ecsim_server, unique):
    """A list of one enterprise project's resources carries g:EnterpriseProjectId, so a condition on it can hold."""
    from huaweicloudsdkevs.v2 import ListVolumesRequest

    u = make_user(ecsim_server, f"epc-{unique}", allow=["evs:volumes:list"],
                  condition={"StringEquals": {"g:EnterpriseProjectId": [f"ep-{unique}"]}})
    evs = ecsim_server.evs(u["ak"], u["sk"])
    assert evs.list_volumes(ListVolumesRequest(enterprise_project_id=f"ep-{unique}")).volumes == []
    assert err(lambda: evs.list_volumes(ListVolumesRequest())).status_code == 403
