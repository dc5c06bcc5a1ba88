"""Nova os-server-groups through python-novaclient, openstacksdk and raw HTTP: create / list / show / delete with the
body and the fields of each microversion (2.1, 2.13, 2.15, 2.64), the group hint at server create (members,
anti-affinity hosts), the same group on the Huawei ECS v1 API, schema errors, 404s, all_projects and the quota."""

from __future__ import annotations

import json

import pytest
from huaweicloudsdkecs.v2 import ShowServerGroupRequest
from novaclient import exceptions as nova_exc

from helpers import make_user

V21_KEYS = {"id", "name", "policies", "members", "metadata"}
V213_KEYS = V21_KEYS | {"project_id", "user_id"}
V264_KEYS = {"id", "name", "policy", "rules", "members", "project_id", "user_id"}
QUOTA_MESSAGE = "Quota exceeded, too many server groups."


def compute(server, project_id: str | None = None) -> str:
    return f"/compute/v2.1/{project_id or server.info['project_id']}"


def raw(server, method: str, path: str, body=None, version: str | None = "2.1", token: str | None = None,
        project_id: str | None = None, prefix: str | None = None):
    headers = {"X-OpenStack-Nova-API-Version": version} if version else {}
    data = body if isinstance(body, bytes) else (None if body is None else json.dumps(body).encode())
    base = compute(server, project_id) if prefix is None else prefix
    return server.http(method, base + path, raw=data, headers=headers, token=token or server.token())


def create_raw(server, group: dict, version: str = "2.1", **kw):
    return raw(server, "POST", "/os-server-groups", {"server_group": group}, version=version, **kw)


def listed(server, query: str = "", version: str = "2.1", **kw) -> list[dict]:
    status, _, body = raw(server, "GET", "/os-server-groups" + query, version=version, **kw)
    assert status == 200, body
    return body["server_groups"]


def bad_request(resp) -> str:
    status, _, body = resp
    assert status == 400, body
    assert set(body) == {"badRequest"} and body["badRequest"]["code"] == 400
    assert body["badRequest"]["message"]
    return body["badRequest"]["message"]


def sub_project(server, unique: str):
    from huaweicloudsdkiam.v3 import (
        KeystoneCreateProjectOption,
        KeystoneCreateProjectRequest,
        KeystoneCreateProjectRequestBody,
    )

    info = server.info
    return server.iam().keystone_create_project(KeystoneCreateProjectRequest(
        body=KeystoneCreateProjectRequestBody(project=KeystoneCreateProjectOption(
            name=f"{info['region']}_{unique}", parent_id=info["project_id"])))).project


# -- CRUD by microversion ---------------------------------------------------------------------------------------------
def test_crud_at_2_1_with_novaclient(ecsim_server, unique):
    nova = ecsim_server.nova("2.1")
    g = nova.server_groups.create(f"v21-{unique}", "anti-affinity")
    got = nova.server_groups.get(g.id).to_dict()
    assert set(got) == V21_KEYS
    assert (got["name"], got["policies"], got["members"], got["metadata"]) == \
        (f"v21-{unique}", ["anti-affinity"], [], {})
    assert got == g.to_dict()
    assert g.id in [x.id for x in nova.server_groups.list()]
    mine = next(x for x in listed(ecsim_server) if x["id"] == g.id)
    assert mine == got  # the list shows the same fields
    # before 2.15 only affinity and anti-affinity exist
    with pytest.raises(nova_exc.BadRequest):
        nova.server_groups.create(f"soft-{unique}", "soft-affinity")
    # delete: 204, empty body; afterwards 404 with Nova's message
    status, headers, body = raw(ecsim_server, "DELETE", f"/os-server-groups/{g.id}")
    assert (status, body, headers["x-openstack-nova-api-version"]) == (204, None, "2.1")
    with pytest.raises(nova_exc.NotFound) as exc:
        nova.server_groups.get(g.id)
    assert str(exc.value).startswith(f"Instance group {g.id} could not be found.")
    assert g.id not in [x.id for x in nova.server_groups.list()]
    with pytest.raises(nova_exc.NotFound):
        nova.server_groups.delete(g.id)


def test_project_and_user_from_2_13_and_soft_policies_from_2_15(ecsim_server, unique):
    info = ecsim_server.info
    status, headers, body = create_raw(ecsim_server, {"name": f"v213-{unique}", "policies": ["affinity"]},
                                       version="2.13")
    assert status == 200 and headers["x-openstack-nova-api-version"] == "2.13"
    g = body["server_group"]
    assert set(g) == V213_KEYS and g["project_id"] == info["project_id"] and g["user_id"]
    assert (g["policies"], g["metadata"], g["members"]) == (["affinity"], {}, [])
    # 2.12 still shows the 2.1 fields only
    status, _, body = raw(ecsim_server, "GET", f"/os-server-groups/{g['id']}", version="2.12")
    assert status == 200 and set(body["server_group"]) == V21_KEYS
    # soft policies from 2.15, up to 2.63 with the `policies` body
    bad_request(create_raw(ecsim_server, {"name": f"soft-{unique}", "policies": ["soft-anti-affinity"]},
                           version="2.14"))
    nova = ecsim_server.nova("2.63")
    soft = nova.server_groups.create(f"soft-{unique}", "soft-anti-affinity").to_dict()
    assert set(soft) == V213_KEYS and soft["policies"] == ["soft-anti-affinity"]
    assert soft["user_id"] == g["user_id"] and soft["project_id"] == info["project_id"]
    # the same group at 2.64: policy and rules instead of policies and metadata
    status, _, body = raw(ecsim_server, "GET", f"/os-server-groups/{soft['id']}", version="2.64")
    assert status == 200 and body["server_group"] == {
        "id": soft["id"], "name": f"soft-{unique}", "policy": "soft-anti-affinity", "rules": {}, "members": [],
        "project_id": info["project_id"], "user_id": g["user_id"]}
    for gid in (g["id"], soft["id"]):
        nova.server_groups.delete(gid)


def test_policy_and_rules_from_2_64_with_novaclient(ecsim_server, unique):
    nova = ecsim_server.nova("2.79")
    g = nova.server_groups.create(f"v264-{unique}", "anti-affinity", rules={"max_server_per_host": 3})
    got = nova.server_groups.get(g.id).to_dict()
    assert set(got) == V264_KEYS
    assert (got["policy"], got["rules"], got["members"]) == ("anti-affinity", {"max_server_per_host": 3}, [])
    assert got["project_id"] == ecsim_server.info["project_id"]
    plain = nova.server_groups.create(f"v264b-{unique}", "affinity").to_dict()
    assert (plain["policy"], plain["rules"]) == ("affinity", {})
    with pytest.raises(nova_exc.BadRequest) as exc:
        nova.server_groups.create(f"v264c-{unique}", "affinity", rules={"max_server_per_host": 2})
    assert "Only anti-affinity policy supports rules." in str(exc.value)
    # the 2.64 group read at 2.1: policies, no rules / project_id
    status, _, body = raw(ecsim_server, "GET", f"/os-server-groups/{g.id}", version="2.1")
    assert status == 200 and set(body["server_group"]) == V21_KEYS
    assert body["server_group"]["policies"] == ["anti-affinity"]
    nova.server_groups.delete(g.id)
    nova.server_groups.delete(plain["id"])
    assert not {g.id, plain["id"]} & {x.id for x in nova.server_groups.list()}


# -- membership through the group hint -----------------------------------------------------------------------------
def test_group_hint_members_hosts_and_the_ecs_view(ecsim_server, unique):
    conn, info = ecsim_server.openstack(), ecsim_server.info
    group = conn.compute.create_server_group(name=f"hint-{unique}", policy="anti-affinity")
    assert (group.name, group.policy) == (f"hint-{unique}", "anti-affinity")
    servers = []
    for i in range(2):
        s = conn.compute.create_server(name=f"hint-{unique}-{i}", flavor_id=info["flavor_id"],
                                       image_id=info["image_id"], networks="auto",
                                       scheduler_hints={"group": group.id})
        servers.append(conn.compute.get_server(s.id))
    ids = [s.id for s in servers]
    assert all(s.status == "ACTIVE" for s in servers)
    assert servers[0].host_id and servers[1].host_id and servers[0].host_id != servers[1].host_id
    assert sorted(conn.compute.get_server_group(group.id).member_ids) == sorted(ids)
    # 2.71+: the single-server GET names the group
    status, _, body = raw(ecsim_server, "GET", f"/servers/{ids[0]}", version="2.71")
    assert status == 200 and body["server"]["server_groups"] == [group.id]
    # the same group through the Huawei ECS v1 API
    ecs_group = ecsim_server.ecs().show_server_group(ShowServerGroupRequest(server_group_id=group.id)).server_group
    assert (ecs_group.id, ecs_group.name, ecs_group.policies) == (group.id, f"hint-{unique}", ["anti-affinity"])
    assert sorted(ecs_group.members) == sorted(ids)
    # a deleted server leaves the group; deleting the group keeps its members running
    conn.compute.delete_server(ids[0])
    assert conn.compute.get_server_group(group.id).member_ids == [ids[1]]
    conn.compute.delete_server_group(group)
    assert conn.compute.find_server_group(group.id) is None
    assert conn.compute.get_server(ids[1]).status == "ACTIVE"
    conn.compute.delete_server(ids[1])


def test_no_valid_host_is_an_error_server_and_max_server_per_host(ecsim_launcher):
    """With 2 hosts per zone: anti-affinity places 2 servers, a third is kept in ERROR with Nova's fault; the 2.64
    rule max_server_per_host 2 lets the same hosts take 4."""
    server = ecsim_launcher(["--memory", "--hosts-per-az", "2"])
    conn, info = server.openstack(), server.info

    def boot(group_id: str, i: int):
        s = conn.compute.create_server(name=f"p{i}", flavor_id=info["flavor_id"], image_id=info["image_id"],
                                       networks="auto", scheduler_hints={"group": group_id})
        return conn.compute.get_server(s.id)

    strict = conn.compute.create_server_group(name="strict", policy="anti-affinity")
    placed = [boot(strict.id, i) for i in range(3)]
    assert [s.status for s in placed] == ["ACTIVE", "ACTIVE", "ERROR"]
    assert placed[2].fault["message"] == "No valid host was found. There are not enough hosts available."
    assert placed[2].fault["code"] == 500 and not placed[2].host_id and placed[2].attached_volumes == []
    assert len(conn.compute.get_server_group(strict.id).member_ids) == 3  # Nova's members include it
    conn.compute.delete_server(placed[2])  # an ERROR server deletes like any other
    conn.compute.wait_for_delete(placed[2], wait=30)

    status, _, body = raw(server, "POST", "/os-server-groups", {"server_group": {
        "name": "two-per-host", "policy": "anti-affinity", "rules": {"max_server_per_host": 2}}}, version="2.64")
    assert status == 200
    loose = [boot(body["server_group"]["id"], i) for i in range(5)]
    assert [s.status for s in loose] == ["ACTIVE"] * 4 + ["ERROR"]
    assert len({s.host_id for s in loose[:4]}) == 2  # two on each host

    together = conn.compute.create_server_group(name="together", policy="affinity")
    region = info["region"]
    placed = [conn.compute.get_server(conn.compute.create_server(
        name=f"a{i}", flavor_id=info["flavor_id"], image_id=info["image_id"], networks="auto",
        availability_zone=region + zone, scheduler_hints={"group": together.id}).id) for i, zone in enumerate("aab")]
    assert [s.status for s in placed] == ["ACTIVE", "ACTIVE", "ERROR"]  # the members' host is in the other zone
    assert placed[0].host_id == placed[1].host_id and placed[2].fault["message"].startswith("No valid host")


def test_unknown_group_hint_is_400(ecsim_server, unique):
    info, missing = ecsim_server.info, "4b8a1d2c-0000-4000-8000-000000000000"
    body = {"server": {"name": f"nohint-{unique}", "flavorRef": info["flavor_id"], "imageRef": info["image_id"],
                       "networks": "auto"}, "os:scheduler_hints": {"group": missing}}
    assert bad_request(raw(ecsim_server, "POST", "/servers", body, version="2.79")) == \
        f"Instance group {missing} could not be found."


# -- errors ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("version", "group", "needle"), [
    ("2.1", {"name": "x", "policies": ["affinity", "anti-affinity"]}, "policies"),
    ("2.1", {"name": "x", "policies": []}, "policies"),
    ("2.1", {"name": "x", "policies": ["spread"]}, "spread"),
    ("2.1", {"name": "x", "policies": "affinity"}, "policies"),
    ("2.1", {"name": "x"}, "policies"),
    ("2.1", {"name": "x", "policies": ["affinity"], "color": "red"}, "color"),
    ("2.1", {"name": "x", "policy": "affinity"}, "policy"),
    ("2.1", {"name": " x", "policies": ["affinity"]}, "name"),
    ("2.1", {"name": "", "policies": ["affinity"]}, "name"),
    ("2.1", {"name": "x" * 256, "policies": ["affinity"]}, "name"),
    ("2.64", {"name": "x", "policy": "spread"}, "spread"),
    ("2.64", {"name": "x", "policies": ["affinity"]}, "policies"),
    ("2.64", {"name": "x", "policy": "affinity", "rules": {"max_server_per_host": 2}},
     "Only anti-affinity policy supports rules."),
    ("2.64", {"name": "x", "policy": "anti-affinity", "rules": {"max_server_per_host": 0}}, "max_server_per_host"),
    ("2.64", {"name": "x", "policy": "anti-affinity", "rules": {"max_server_per_host": "many"}},
     "max_server_per_host"),
    ("2.64", {"name": "x", "policy": "anti-affinity", "rules": {"other": 1}}, "other"),
    ("2.64", {"name": "x", "policy": "anti-affinity", "rules": None}, "rules"),
    ("2.64", {"name": "x", "policy": "anti-affinity", "extra": 1}, "extra"),
])
def test_bad_bodies_are_400(ecsim_server, version, group, needle):
    before = len(listed(ecsim_server))
    status, headers, body = create_raw(ecsim_server, group, version=version)
    assert needle in bad_request((status, headers, body))
    assert headers["x-openstack-nova-api-version"] == version  # errors echo the microversion too
    assert len(listed(ecsim_server)) == before


def test_malformed_and_unwrapped_bodies_are_400(ecsim_server):
    bad_request(raw(ecsim_server, "POST", "/os-server-groups", b"{not json"))
    bad_request(raw(ecsim_server, "POST", "/os-server-groups", {"name": "x", "policies": ["affinity"]}))
    bad_request(raw(ecsim_server, "POST", "/os-server-groups", b""))


def test_unknown_group_is_404(ecsim_server):
    missing = "0d1c7a9e-1111-4222-8333-444455556666"
    for method in ("GET", "DELETE"):
        status, headers, body = raw(ecsim_server, method, f"/os-server-groups/{missing}", version="2.64")
        assert status == 404 and headers["x-openstack-nova-api-version"] == "2.64"
        assert body == {"itemNotFound": {"code": 404, "message": f"Instance group {missing} could not be found."}}


# -- list --------------------------------------------------------------------------------------------------------------
def test_list_order_limit_and_offset(ecsim_server, unique):
    nova = ecsim_server.nova("2.1")
    made = [nova.server_groups.create(f"page-{unique}-{i}", "affinity").id for i in range(3)]
    every = [g["id"] for g in listed(ecsim_server)]
    at = every.index(made[0])
    assert every[at:at + 3] == made  # oldest first
    assert [g["id"] for g in listed(ecsim_server, f"?offset={at}&limit=2")] == made[:2]
    assert [g.id for g in nova.server_groups.list(offset=at + 1, limit=2)] == made[1:]
    assert [g["id"] for g in listed(ecsim_server, f"?offset={at + 2}&limit=0")] == every[at + 2:]  # 0 = max
    assert listed(ecsim_server, f"?offset={len(every)}") == []
    bad_request(raw(ecsim_server, "GET", "/os-server-groups?limit=-1"))
    bad_request(raw(ecsim_server, "GET", "/os-server-groups?offset=x"))
    # unknown query parameters: ignored before 2.75, 400 from 2.75
    assert len(listed(ecsim_server, "?color=red", version="2.74")) == len(every)
    assert "color" in bad_request(raw(ecsim_server, "GET", "/os-server-groups?color=red", version="2.75"))
    for gid in made:
        nova.server_groups.delete(gid)


def test_all_projects_is_for_admins_and_other_projects_groups_are_404(ecsim_server, unique):
    sub = sub_project(ecsim_server, unique)
    sub_token = ecsim_server.token(project=sub.name)
    status, _, body = create_raw(ecsim_server, {"name": f"elsewhere-{unique}", "policies": ["affinity"]},
                                 version="2.13", token=sub_token, project_id=sub.id)
    assert status == 200 and body["server_group"]["project_id"] == sub.id
    theirs = body["server_group"]["id"]
    nova = ecsim_server.nova("2.13")
    ours = nova.server_groups.create(f"home-{unique}", "affinity").id
    assert theirs not in [g.id for g in nova.server_groups.list()]
    every = {g.id: g.project_id for g in nova.server_groups.list(all_projects=True)}
    assert every[theirs] == sub.id and every[ours] == ecsim_server.info["project_id"]
    assert theirs in [g["id"] for g in listed(ecsim_server, "?all_projects=True")]
    # not visible (404) from another project, even to the admin
    assert raw(ecsim_server, "GET", f"/os-server-groups/{theirs}")[0] == 404
    assert raw(ecsim_server, "DELETE", f"/os-server-groups/{theirs}")[0] == 404
    # a non-admin allowed to manage groups: all_projects is ignored
    user = make_user(ecsim_server, f"sg-{unique}", allow=["ecs:serverGroups:manage"])
    token = ecsim_server.token(user["name"], user["password"])
    own = [g["id"] for g in listed(ecsim_server, "?all_projects=1", token=token)]
    assert ours in own and theirs not in own
    assert own == [g["id"] for g in listed(ecsim_server, token=token)]
    # and the sub project's owner still has its group
    assert raw(ecsim_server, "DELETE", f"/os-server-groups/{theirs}", token=sub_token, project_id=sub.id)[0] == 204
    nova.server_groups.delete(ours)


def test_a_user_without_the_permission_is_refused(ecsim_server, unique):
    user = make_user(ecsim_server, f"nosg-{unique}", allow=["ecs:servers:list"])
    token = ecsim_server.token(user["name"], user["password"])
    status, _, body = raw(ecsim_server, "GET", "/os-server-groups", token=token)
    assert status == 403 and body["forbidden"]["code"] == 403
    status, _, body = create_raw(ecsim_server, {"name": "x", "policies": ["affinity"]}, token=token)
    assert status == 403 and body["forbidden"]["code"] == 403


# -- microversion headers, legacy v2 -------------------------------------------------------------------------------
def test_microversion_echo_and_legacy_v2(ecsim_server, unique):
    status, headers, body = create_raw(ecsim_server, {"name": f"echo-{unique}", "policy": "anti-affinity"},
                                       version="2.64")
    assert status == 200 and set(body["server_group"]) == V264_KEYS
    gid = body["server_group"]["id"]
    for version in ("2.1", "2.64", "2.79"):
        status, headers, _ = raw(ecsim_server, "GET", f"/os-server-groups/{gid}", version=version)
        assert status == 200 and headers["x-openstack-nova-api-version"] == version
        assert headers["openstack-api-version"] == f"compute {version}"
    status, headers, body = raw(ecsim_server, "GET", f"/os-server-groups/{gid}", version=None)
    assert headers["x-openstack-nova-api-version"] == "2.1" and set(body["server_group"]) == V21_KEYS
    # the legacy /v2 API: the 2.1 shape and no microversion headers
    v2 = f"/compute/v2/{ecsim_server.info['project_id']}"
    status, headers, body = raw(ecsim_server, "GET", f"/os-server-groups/{gid}", version="2.64", prefix=v2)
    assert status == 200 and set(body["server_group"]) == V21_KEYS
    assert "x-openstack-nova-api-version" not in headers
    assert raw(ecsim_server, "DELETE", f"/os-server-groups/{gid}", prefix=v2)[:3:2] == (204, None)


# -- quota -----------------------------------------------------------------------------------------------------------
def test_server_group_quota_is_403(ecsim_launcher):
    server = ecsim_launcher(["--memory", "--quota", "server_groups=2"])
    nova = server.nova("2.79")
    made = [nova.server_groups.create(f"q{i}", "affinity").id for i in range(2)]
    with pytest.raises(nova_exc.Forbidden) as exc:
        nova.server_groups.create("q2", "affinity")
    assert str(exc.value).startswith(QUOTA_MESSAGE)
    status, _, body = create_raw(server, {"name": "q2", "policies": ["affinity"]})
    assert (status, body) == (403, {"forbidden": {"code": 403, "message": QUOTA_MESSAGE}})
    assert sorted(g.id for g in nova.server_groups.list()) == sorted(made)
    nova.server_groups.delete(made[0])
    assert nova.server_groups.create("q2", "affinity").name == "q2"
