"""IAM 5.0 identity policies through the unmodified huaweicloudsdkiam.v5 client, enforced on ECS calls made with
the user's keys (users and groups come from the v3 helpers)."""

from __future__ import annotations

import json

import pytest
from huaweicloudsdkecs.v2 import ListServersDetailsRequest, ShowServerRequest
from huaweicloudsdkiam.v5 import (
    AttachGroupPolicyReqBody,
    AttachGroupPolicyV5Request,
    AttachUserPolicyReqBody,
    AttachUserPolicyV5Request,
    CreatePolicyReqBody,
    CreatePolicyV5Request,
    CreatePolicyVersionReqBody,
    CreatePolicyVersionV5Request,
    DeletePolicyV5Request,
    DeletePolicyVersionV5Request,
    DetachGroupPolicyReqBody,
    DetachGroupPolicyV5Request,
    DetachUserPolicyReqBody,
    DetachUserPolicyV5Request,
    GetAuthorizationSchemaV5Request,
    GetPolicyV5Request,
    GetPolicyVersionV5Request,
    ListAttachedGroupPoliciesV5Request,
    ListAttachedUserPoliciesV5Request,
    ListEntitiesForPolicyV5Request,
    ListPoliciesV5Request,
    ListPolicyVersionsV5Request,
    ListRegisteredServicesForAuthSchemaV5Request,
    SetDefaultPolicyVersionV5Request,
    UpdatePolicyReqBody,
    UpdatePolicyV5Request,
)

from ecsim.iam.evaluate import decode_authorization_message
from helpers import create, err, make_user, stop


def document(effect: str, *actions: str, **extra: object) -> str:
    return json.dumps({"Version": "5.0", "Statement": [{"Effect": effect, "Action": list(actions), **extra}]})


def new_policy(iam5, name: str, doc: str, **kw: object):
    return iam5.create_policy_v5(CreatePolicyV5Request(body=CreatePolicyReqBody(
        policy_name=name, policy_document=doc, **kw))).policy


def attach_user(iam5, policy_id: str, user_id: str) -> None:
    iam5.attach_user_policy_v5(AttachUserPolicyV5Request(policy_id=policy_id,
                                                         body=AttachUserPolicyReqBody(user_id=user_id)))


def attach_group(iam5, policy_id: str, group_id: str) -> None:
    iam5.attach_group_policy_v5(AttachGroupPolicyV5Request(policy_id=policy_id,
                                                           body=AttachGroupPolicyReqBody(group_id=group_id)))


def lists(ecs) -> int:
    return ecs.list_servers_details(ListServersDetailsRequest(limit=50)).count


@pytest.fixture(scope="module")
def iam5(ecsim_server):
    return ecsim_server.iam5()


@pytest.fixture(scope="module")
def servers(ecsim_server):
    _, ids = create(ecsim_server.ecs(), ecsim_server.info, "v5-target", count=2)
    return ids


def test_allow_attached_to_user_lets_list_and_denies_stop(ecsim_server, iam5, servers, unique):
    u = make_user(ecsim_server, f"v5-reader-{unique}")
    ecs = ecsim_server.ecs(u["ak"], u["sk"])
    assert err(lambda: lists(ecs)).status_code == 403  # nothing attached yet
    p = new_policy(iam5, f"list-{unique}", document("Allow", "ecs:cloudServers:list"), description="list only")
    assert (p.policy_type, p.default_version_id, p.attachment_count) == ("custom", "v1", 0)
    assert p.urn == f"iam::{ecsim_server.info['domain_id']}:policy:list-{unique}"
    attach_user(iam5, p.policy_id, u["user_id"])
    assert lists(ecs) >= 1
    e = err(lambda: stop(ecs, servers))
    assert (e.status_code, e.error_code) == (403, "Pdp.0001")
    assert e.error_msg == "Policy doesn't allow ecs:cloudServers:stop to be performed."
    _, _, body = ecsim_server.http("GET", f"/_ecsim/decisions?user={u['user_id']}")
    ok = next(d for d in body["decisions"] if d["operation"] == "ecs.list_servers_details" and d["allowed"])
    assert ok["actions"][0]["statement"]["policy"] == f"list-{unique}"
    assert ok["actions"][0]["statement"]["policy_kind"] == "identity"


def test_deny_on_group_beats_11_allow_and_detach_is_immediate(ecsim_server, iam5, servers, unique):
    u = make_user(ecsim_server, f"v5-deny-{unique}", allow=["ecs:cloudServers:list", "ecs:cloudServers:get"])
    ecs = ecsim_server.ecs(u["ak"], u["sk"])
    assert lists(ecs) >= 1
    p = new_policy(iam5, f"deny-list-{unique}", document("Deny", "ecs:cloudServers:list"))
    attach_group(iam5, p.policy_id, u["group_id"])
    e = err(lambda: lists(ecs))
    assert (e.status_code, e.error_code) == (403, "Pdp.0001") and "ecs:cloudServers:list" in e.error_msg
    assert ecs.show_server(ShowServerRequest(server_id=servers[0])).server.id == servers[0]  # only list is denied
    attached = iam5.list_attached_group_policies_v5(ListAttachedGroupPoliciesV5Request(group_id=u["group_id"]))
    assert [a.policy_id for a in attached.attached_policies] == [p.policy_id]
    iam5.detach_group_policy_v5(DetachGroupPolicyV5Request(policy_id=p.policy_id,
                                                           body=DetachGroupPolicyReqBody(group_id=u["group_id"])))
    assert lists(ecs) >= 1
    e = err(lambda: iam5.detach_group_policy_v5(DetachGroupPolicyV5Request(
        policy_id=p.policy_id, body=DetachGroupPolicyReqBody(group_id=u["group_id"]))))
    assert (e.status_code, e.error_code) == (404, "PAP5.0004")


def test_default_version_is_what_is_enforced(ecsim_server, iam5, unique):
    u = make_user(ecsim_server, f"v5-ver-{unique}")
    ecs = ecsim_server.ecs(u["ak"], u["sk"])
    p = new_policy(iam5, f"ver-{unique}", document("Allow", "ecs:cloudServers:list"))
    attach_user(iam5, p.policy_id, u["user_id"])
    v2 = iam5.create_policy_version_v5(CreatePolicyVersionV5Request(policy_id=p.policy_id, body=(
        CreatePolicyVersionReqBody(policy_document=document("Allow", "ecs:cloudServers:get"))))).policy_version
    assert (v2.version_id, v2.is_default) == ("v2", False)
    lists(ecs)  # allowed: v1 is still the default
    iam5.set_default_policy_version_v5(SetDefaultPolicyVersionV5Request(policy_id=p.policy_id, version_id="v2"))
    assert err(lambda: lists(ecs)).status_code == 403
    got = iam5.get_policy_v5(GetPolicyV5Request(policy_id=p.policy_id)).policy
    assert (got.default_version_id, got.attachment_count) == ("v2", 1)
    versions = iam5.list_policy_versions_v5(ListPolicyVersionsV5Request(policy_id=p.policy_id)).versions
    assert [(v.version_id, v.is_default) for v in versions] == [("v2", True), ("v1", False)]
    v1 = iam5.get_policy_version_v5(GetPolicyVersionV5Request(policy_id=p.policy_id, version_id="v1")).policy_version
    assert json.loads(v1.document)["Statement"][0]["Action"] == ["ecs:cloudServers:list"]
    e = err(lambda: iam5.delete_policy_version_v5(DeletePolicyVersionV5Request(policy_id=p.policy_id,
                                                                                version_id="v2")))
    assert (e.status_code, e.error_code) == (409, "PAP5.0005") and "default" in e.error_msg
    iam5.set_default_policy_version_v5(SetDefaultPolicyVersionV5Request(policy_id=p.policy_id, version_id="v1"))
    lists(ecs)  # allowed again
    iam5.delete_policy_version_v5(DeletePolicyVersionV5Request(policy_id=p.policy_id, version_id="v2"))
    versions = iam5.list_policy_versions_v5(ListPolicyVersionsV5Request(policy_id=p.policy_id)).versions
    assert [v.version_id for v in versions] == ["v1"]


def test_five_versions_at_most_without_partial_write(iam5, unique):
    p = new_policy(iam5, f"many-{unique}", document("Allow", "ecs:cloudServers:list"))
    for _ in range(4):
        iam5.create_policy_version_v5(CreatePolicyVersionV5Request(policy_id=p.policy_id, body=(
            CreatePolicyVersionReqBody(policy_document=document("Allow", "ecs:cloudServers:get"),
                                       set_as_default=True))))
    e = err(lambda: iam5.create_policy_version_v5(CreatePolicyVersionV5Request(policy_id=p.policy_id, body=(
        CreatePolicyVersionReqBody(policy_document=document("Allow", "*"), set_as_default=True)))))
    assert (e.status_code, e.error_code) == (409, "PAP5.0003") and "5 versions" in e.error_msg
    got = iam5.get_policy_v5(GetPolicyV5Request(policy_id=p.policy_id)).policy
    assert got.default_version_id == "v5"
    versions = iam5.list_policy_versions_v5(ListPolicyVersionsV5Request(policy_id=p.policy_id, limit=2))
    assert [v.version_id for v in versions.versions] == ["v5", "v4"] and versions.page_info.next_marker
    rest = iam5.list_policy_versions_v5(ListPolicyVersionsV5Request(
        policy_id=p.policy_id, marker=versions.page_info.next_marker))
    assert [v.version_id for v in rest.versions] == ["v3", "v2", "v1"] and rest.page_info.next_marker is None


def test_policy_lifecycle_listing_and_entities(ecsim_server, iam5, unique):
    u = make_user(ecsim_server, f"v5-life-{unique}")
    p = new_policy(iam5, f"life-{unique}", document("Allow", "evs:volumes:list"), path="team/ops/")
    attach_user(iam5, p.policy_id, u["user_id"])
    attach_group(iam5, p.policy_id, u["group_id"])
    attach_user(iam5, p.policy_id, u["user_id"])  # again: no second attachment
    entities = iam5.list_entities_for_policy_v5(ListEntitiesForPolicyV5Request(policy_id=p.policy_id))
    assert [x.user_id for x in entities.policy_users] == [u["user_id"]]
    assert [x.group_id for x in entities.policy_groups] == [u["group_id"]]
    only_groups = iam5.list_entities_for_policy_v5(ListEntitiesForPolicyV5Request(policy_id=p.policy_id,
                                                                                   entity_type="group"))
    assert only_groups.policy_users == [] and len(only_groups.policy_groups) == 1
    mine = iam5.list_attached_user_policies_v5(ListAttachedUserPoliciesV5Request(user_id=u["user_id"]))
    assert [(a.policy_name, a.urn) for a in mine.attached_policies] == [(p.policy_name, p.urn)]
    listed = iam5.list_policies_v5(ListPoliciesV5Request(policy_type="custom", path_prefix="team/", limit=200))
    assert [x.policy_id for x in listed.policies] == [p.policy_id] and listed.policies[0].attachment_count == 2
    system = iam5.list_policies_v5(ListPoliciesV5Request(policy_type="system", limit=200)).policies
    assert {"ECSFullAccessPolicy", "ECSReadOnlyAccessPolicy"} <= {x.policy_name for x in system}
    assert {x.policy_type for x in system} == {"system"}
    iam5.update_policy_v5(UpdatePolicyV5Request(policy_id=p.policy_id, body=UpdatePolicyReqBody(description="new")))
    got = iam5.get_policy_v5(GetPolicyV5Request(policy_id=p.policy_id)).policy
    assert got.description == "new" and got.updated_at > got.created_at
    e = err(lambda: iam5.delete_policy_v5(DeletePolicyV5Request(policy_id=p.policy_id)))
    assert (e.status_code, e.error_code) == (409, "PAP5.0005")
    iam5.detach_user_policy_v5(DetachUserPolicyV5Request(policy_id=p.policy_id,
                                                         body=DetachUserPolicyReqBody(user_id=u["user_id"])))
    iam5.detach_group_policy_v5(DetachGroupPolicyV5Request(policy_id=p.policy_id,
                                                           body=DetachGroupPolicyReqBody(group_id=u["group_id"])))
    iam5.delete_policy_v5(DeletePolicyV5Request(policy_id=p.policy_id))
    e = err(lambda: iam5.get_policy_v5(GetPolicyV5Request(policy_id=p.policy_id)))
    assert (e.status_code, e.error_code) == (404, "PAP5.0004")


def test_system_policy_attached_to_group_applies_in_every_project(ecsim_server, iam5, servers, unique):
    u = make_user(ecsim_server, f"v5-sys-{unique}")
    system = iam5.list_policies_v5(ListPoliciesV5Request(policy_type="system", limit=200)).policies
    ro = next(x for x in system if x.policy_name == "ECSReadOnlyAccessPolicy")
    attach_group(iam5, ro.policy_id, u["group_id"])
    ecs = ecsim_server.ecs(u["ak"], u["sk"])
    assert lists(ecs) >= 1
    assert err(lambda: stop(ecs, servers)).status_code == 403
    e = err(lambda: iam5.delete_policy_v5(DeletePolicyV5Request(policy_id=ro.policy_id)))
    assert e.status_code == 400 and "system policy" in e.error_msg


@pytest.mark.parametrize("doc, needle", [
    ("{not json", "not valid JSON"),
    (json.dumps({"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["ecs:cloudServers:list"]}]}),
     "Version must be one of 5.0"),
    (json.dumps({"Version": "5.0", "Statement": [{"Effect": "Allow", "Actions": ["ecs:cloudServers:list"]}]}),
     "Statement[0] has unknown element(s) for Version 5.0: Actions"),
    (json.dumps({"Version": "5.0", "Statement": [{"Effect": "Permit", "Action": ["ecs:cloudServers:list"]}]}),
     "Statement[0].Effect"),
    (json.dumps({"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": ["ecs-list"]}]}),
     "Statement[0].Action[0] 'ecs-list'"),
    (document("Allow", *[f"ecs:cloudServers:action{i:04d}" for i in range(300)]), "at most 6144"),
])
def test_bad_documents_are_refused_naming_the_element(iam5, unique, doc, needle):
    name = f"bad-{unique}"
    e = err(lambda: new_policy(iam5, name, doc))
    assert (e.status_code, e.error_code) == (400, "PAP5.0002")
    assert needle in e.error_msg and "policy_document" in e.error_msg
    listed = iam5.list_policies_v5(ListPoliciesV5Request(policy_type="custom", limit=200)).policies
    assert name not in {x.policy_name for x in listed}


def test_bad_names_ids_and_duplicates(ecsim_server, iam5, unique):
    e = err(lambda: new_policy(iam5, "has space", document("Allow", "ecs:cloudServers:list")))
    assert (e.status_code, e.error_code) == (400, "PAP5.0002") and "policy_name" in e.error_msg
    p = new_policy(iam5, f"dup-{unique}", document("Allow", "ecs:cloudServers:list"))
    e = err(lambda: new_policy(iam5, f"dup-{unique}", document("Allow", "ecs:cloudServers:get")))
    assert (e.status_code, e.error_code) == (409, "PAP5.0005")
    e = err(lambda: iam5.get_policy_v5(GetPolicyV5Request(policy_id="no-such-policy")))
    assert (e.status_code, e.error_code) == (404, "PAP5.0004") and "no-such-policy" in e.error_msg
    e = err(lambda: attach_user(iam5, p.policy_id, "0" * 32))
    assert (e.status_code, e.error_code) == (404, "PAP5.0004")
    e = err(lambda: attach_group(iam5, "no-such-policy", "0" * 32))
    assert e.status_code == 404
    e = err(lambda: iam5.get_policy_version_v5(GetPolicyVersionV5Request(policy_id=p.policy_id, version_id="v9")))
    assert (e.status_code, e.error_code) == (404, "PAP5.0004")
    status, _, body = ecsim_server.http("POST", "/v5/policies", raw=b"{", token=ecsim_server.token(domain_scope=True))
    assert status == 400 and body["error_code"] == "PAP5.0002" and body["request_id"]
    status, _, body = ecsim_server.http("POST", "/v5/policies", {"policy_name": 5, "policy_document": "{}"},
                                        token=ecsim_server.token(domain_scope=True))
    assert status == 400 and "policy_name" in body["error_msg"]


def test_ten_policies_per_user_at_most(ecsim_server, iam5, unique):
    u = make_user(ecsim_server, f"v5-cap-{unique}")
    ids = [new_policy(iam5, f"cap{i}-{unique}", document("Allow", "ecs:cloudServers:list")).policy_id
           for i in range(11)]
    for pid in ids[:10]:
        attach_user(iam5, pid, u["user_id"])
    e = err(lambda: attach_user(iam5, ids[10], u["user_id"]))
    assert (e.status_code, e.error_code) == (409, "PAP5.0003") and "per user" in e.error_msg
    mine = iam5.list_attached_user_policies_v5(ListAttachedUserPoliciesV5Request(user_id=u["user_id"], limit=200))
    assert len(mine.attached_policies) == 10


def test_v5_api_itself_is_authorized_at_account_level(ecsim_server, iam5, unique):
    u = make_user(ecsim_server, f"v5-admin-{unique}")
    mine = ecsim_server.iam5(u["ak"], u["sk"])
    e = err(lambda: mine.list_policies_v5(ListPoliciesV5Request()))
    assert (e.status_code, e.error_code) == (403, "PAP5.0001") and "iam:policies:listV5" in e.error_msg
    assert e.error_msg.startswith("access denied: ")
    assert "implicit deny" in decode_authorization_message(e.encoded_auth_msg)["explanation"]
    p = new_policy(iam5, f"reader5-{unique}", document("Allow", "iam:policies:listV5", "iam:policies:getV5"))
    attach_user(iam5, p.policy_id, u["user_id"])
    assert mine.get_policy_v5(GetPolicyV5Request(policy_id=p.policy_id)).policy.policy_id == p.policy_id
    e = err(lambda: new_policy(mine, f"nope-{unique}", document("Allow", "*")))
    assert (e.status_code, e.error_code) == (403, "PAP5.0001") and "iam:policies:createV5" in e.error_msg


def test_authorization_schema_comes_from_the_catalog(iam5):
    services = iam5.list_registered_services_for_auth_schema_v5(ListRegisteredServicesForAuthSchemaV5Request())
    assert {"ecs", "evs", "iam"} <= set(services.service_codes)
    ecs = iam5.get_authorization_schema_v5(GetAuthorizationSchemaV5Request(service_code="ecs"))
    stop_action = next(a for a in ecs.actions if a.name == "ecs:cloudServers:stop")
    assert stop_action.access_level == "write" and not stop_action.permission_only
    assert [r.urn_template for r in stop_action.resources] == ["ecs:<region>:<account-id>:instance:<instance-id>"]
    create_action = next(a for a in ecs.actions if a.name == "ecs:cloudServers:create")
    assert "ecs:cloudServers:createServers" in create_action.aliases
    attach = next(o for o in ecs.operations if o.operation_id == "BatchAttachSharableVolumes")
    assert (attach.operation_action, attach.dependent_actions) == ("ecs:cloudServers:attachSharedVolume",
                                                                  ["evs:volumes:use"])
    evs = iam5.get_authorization_schema_v5(GetAuthorizationSchemaV5Request(service_code="evs"))
    use = next(a for a in evs.actions if a.name == "evs:volumes:use")
    assert use.permission_only
    iam = iam5.get_authorization_schema_v5(GetAuthorizationSchemaV5Request(service_code="iam"))
    assert any(o.operation_id == "CreatePolicyV5" and o.operation_action == "iam:policies:createV5"
               for o in iam.operations)
    e = err(lambda: iam5.get_authorization_schema_v5(GetAuthorizationSchemaV5Request(service_code="nosuch")))
    assert (e.status_code, e.error_code) == (404, "PAP5.0004")


def test_identity_policy_survives_a_restart(ecsim_launcher, tmp_path):
    data = str(tmp_path / "data")
    first = ecsim_launcher(["--data-dir", data])
    u = make_user(first, "v5-persist")
    iam5 = first.iam5()
    p = new_policy(iam5, "persisted", document("Allow", "ecs:cloudServers:list"))
    iam5.create_policy_version_v5(CreatePolicyVersionV5Request(policy_id=p.policy_id, body=(
        CreatePolicyVersionReqBody(policy_document=document("Allow", "ecs:cloudServers:list",
                                                            "ecs:cloudServers:get"), set_as_default=True))))
    attach_user(iam5, p.policy_id, u["user_id"])
    first.stop()
    second = ecsim_launcher(["--data-dir", data])
    got = second.iam5().get_policy_v5(GetPolicyV5Request(policy_id=p.policy_id)).policy
    assert (got.policy_name, got.default_version_id, got.attachment_count) == ("persisted", "v2", 1)
    assert lists(second.ecs(u["ak"], u["sk"])) == 0


# -- domain rules, without HTTP -------------------------------------------------------------------------------------
def test_version_rules_without_http():
    from ecsim.domain.errors import Conflict, InvalidInput, NotFound
    from ecsim.iam import identity_policies as ip5

    p = ip5.new_policy("acct", "p", "", "", document("Allow", "ecs:cloudServers:list"), 1.0)
    for i in range(4):
        p, v = ip5.add_version(p, document("Allow", "ecs:cloudServers:get"), i == 3, 2.0 + i)
    assert (v["version_id"], p["default_version_id"], len(p["versions"])) == ("v5", "v5", 5)
    with pytest.raises(ip5.LimitExceeded):
        ip5.add_version(p, document("Allow", "*"), False, 9.0)
    with pytest.raises(Conflict):
        ip5.delete_version(p, "v5")
    p = ip5.delete_version(p, "v2")
    p, v = ip5.add_version(p, document("Allow", "*"), False, 9.0)
    assert v["version_id"] == "v6"  # numbers are never reused
    with pytest.raises(NotFound):
        ip5.set_default_version(p, "v2", 10.0)
    with pytest.raises(InvalidInput, match="version_id"):
        ip5.find_version(p, "2")
    spaced = json.dumps({"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": ["*"]}]}, indent=2000)
    assert ip5.parse_document(spaced).version == "5.0"  # whitespace does not count towards the 6,144


def test_5_0_deny_beats_1_1_allow_in_one_policy_set():
    from ecsim.iam import identity_policies as ip5
    from ecsim.iam.evaluate import PolicySet, decide
    from ecsim.iam.policy import parse_policy

    allow11 = parse_policy({"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["ecs:*:*"]}]})
    deny50 = ip5.parse_document(document("Deny", "ecs:cloudServers:stop"), name="no-stop")
    d = decide(PolicySet([allow11, deny50]), ("ecs:cloudServers:stop",), (), lambda _: {})
    assert not d.allowed and d.denied is not None and d.denied.effect == "explicit_deny"
    assert d.denied.match is not None and d.denied.match.policy_name == "no-stop"
    assert decide(PolicySet([allow11, deny50]), ("ecs:cloudServers:start",), (), lambda _: {}).allowed


def test_resource_scoped_5_0_statements(ecsim_server, iam5, servers, unique):
    """5.0 URNs: one server allowed, another refused; an IAM user named by its name."""
    a, b = servers[:2]
    region, account = ecsim_server.info["region"], ecsim_server.info["domain_id"]
    u = make_user(ecsim_server, f"v5-res-{unique}")
    p = new_policy(iam5, f"res-{unique}", document("Allow", "ecs:cloudServers:get",
                                                  Resource=[f"ecs:{region}:{account}:instance:{a}"]))
    attach_user(iam5, p.policy_id, u["user_id"])
    ecs = ecsim_server.ecs(u["ak"], u["sk"])
    assert ecs.show_server(ShowServerRequest(server_id=a)).server.id == a
    e = err(lambda: ecs.show_server(ShowServerRequest(server_id=b)))
    assert (e.status_code, e.error_code) == (403, "Pdp.0001")

    # an IAM statement scoped to users by name: attaching to the named user works, to another is refused
    other = make_user(ecsim_server, f"v5-other-{unique}")
    target = make_user(ecsim_server, f"v5-target-{unique}")
    q = new_policy(iam5, f"attach-{unique}", document(
        "Allow", "iam:users:attachPolicyV5", Resource=[f"iam::{account}:user:v5-target-*"]))
    attach_user(iam5, q.policy_id, u["user_id"])
    mine = ecsim_server.iam5(u["ak"], u["sk"])
    attach_user(mine, p.policy_id, target["user_id"])
    e = err(lambda: attach_user(mine, p.policy_id, other["user_id"]))
    assert (e.status_code, e.error_code) == (403, "PAP5.0001") and "iam:users:attachPolicyV5" in e.error_msg
