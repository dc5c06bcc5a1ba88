"""Huawei ECS v1 server groups (seed 004) through the unmodified huaweicloudsdkecs: create, list (marker paging),
show, delete, add_member / remove_member, anti-affinity placement at creation, the no-valid-host job failure,
the group and member quotas, and malformed bodies (raw HTTP)."""

from __future__ import annotations

import contextlib

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkecs.v2 import (
    AddServerGroupMemberRequest,
    AddServerGroupMemberRequestBody,
    CreateServerGroupOption,
    CreateServerGroupRequest,
    CreateServerGroupRequestBody,
    DeleteServerGroupMemberRequest,
    DeleteServerGroupMemberRequestBody,
    DeleteServerGroupRequest,
    DeleteServersRequest,
    DeleteServersRequestBody,
    ListServerGroupsRequest,
    ListServersDetailsRequest,
    PostPaidServerSchedulerHints,
    ServerGroupMember,
    ShowServerGroupRequest,
    ShowServerRequest,
)

from helpers import create, err, job, make_user, refs, stop

NO_HOST = "No valid host was found. There are not enough hosts available."


@pytest.fixture
def new_group(ecs):
    """Create groups on the session server; the test's leftovers are deleted (the project's quota is 10)."""
    made: list[str] = []

    def make(name: str) -> str:
        made.append(create_group(ecs, name).id)
        return made[-1]

    yield make
    for gid in made:
        with contextlib.suppress(ClientRequestException):
            ecs.delete_server_group(DeleteServerGroupRequest(server_group_id=gid))


def create_group(ecs, name: str, policies: list[str] | None = None):
    return ecs.create_server_group(CreateServerGroupRequest(body=CreateServerGroupRequestBody(
        server_group=CreateServerGroupOption(name=name, policies=policies or ["anti-affinity"])))).server_group


def show_group(ecs, gid: str):
    return ecs.show_server_group(ShowServerGroupRequest(server_group_id=gid)).server_group


def add(ecs, gid: str, sid: str):
    return ecs.add_server_group_member(AddServerGroupMemberRequest(server_group_id=gid, body=(
        AddServerGroupMemberRequestBody(add_member=ServerGroupMember(instance_uuid=sid)))))


def remove(ecs, gid: str, sid: str):
    return ecs.delete_server_group_member(DeleteServerGroupMemberRequest(server_group_id=gid, body=(
        DeleteServerGroupMemberRequestBody(remove_member=ServerGroupMember(instance_uuid=sid)))))


def show(ecs, sid: str):
    return ecs.show_server(ShowServerRequest(server_id=sid)).server


def hinted(gid: str) -> PostPaidServerSchedulerHints:
    return PostPaidServerSchedulerHints(group=gid)


def named(ecs, name: str) -> list[str]:
    return [s.id for s in ecs.list_servers_details(ListServersDetailsRequest(name=name)).servers]



def test_create_show_list_delete(ecs, unique, new_group):
    g = create_group(ecs, f"grp-{unique}")
    assert len(g.id) == 36 and g.name == f"grp-{unique}"
    assert (g.policies, g.members, g.metadata) == (["anti-affinity"], [], {})
    assert show_group(ecs, g.id).to_dict() == g.to_dict()
    listed = ecs.list_server_groups(ListServerGroupsRequest()).server_groups
    assert [x.name for x in listed if x.id == g.id] == [f"grp-{unique}"]
    assert ecs.delete_server_group(DeleteServerGroupRequest(server_group_id=g.id)).status_code == 204
    assert g.id not in [x.id for x in ecs.list_server_groups(ListServerGroupsRequest()).server_groups]
    e = err(lambda: show_group(ecs, g.id))
    assert (e.status_code, e.error_code) == (404, "Ecs.0005")
    assert err(lambda: ecs.delete_server_group(DeleteServerGroupRequest(server_group_id=g.id))).status_code == 404


def test_list_pages_by_marker(ecs, unique, new_group):
    ids = [new_group(f"pg-{unique}-{i}") for i in range(3)]
    full = ecs.list_server_groups(ListServerGroupsRequest())
    assert [x.id for x in full.server_groups if x.id in ids] == ids and full.page_info is None  # oldest first
    page = ecs.list_server_groups(ListServerGroupsRequest(limit=1, marker=ids[0]))
    assert [x.id for x in page.server_groups] == ids[1:2] and page.page_info.next_marker == ids[1]
    last = ecs.list_server_groups(ListServerGroupsRequest(limit=2, marker=ids[0]))
    assert [x.id for x in last.server_groups] == ids[1:] and last.page_info is None  # full, but nothing after it
    e = err(lambda: ecs.list_server_groups(ListServerGroupsRequest(marker="no-such-group")))
    assert (e.status_code, e.error_code) == (400, "Ecs.0005")


@pytest.mark.parametrize("policies", [["affinity"], ["soft-anti-affinity"], ["anti-affinity", "affinity"], ["x"]])
def test_only_anti_affinity_is_accepted(ecs, unique, policies):
    e = err(lambda: create_group(ecs, f"pol-{unique}", policies))
    assert (e.status_code, e.error_code) == (400, "Ecs.0005")
    assert f"pol-{unique}" not in [x.name for x in ecs.list_server_groups(ListServerGroupsRequest()).server_groups]


def test_members_at_creation_run_on_different_hosts(ecs, info, unique, new_group):
    gid = new_group(f"anti-{unique}")
    job_id, ids = create(ecs, info, f"anti-{unique}", count=3, availability_zone=info["region"] + "a",
                         osscheduler_hints=hinted(gid))
    assert job(ecs, job_id).status == "SUCCESS"
    assert sorted(show_group(ecs, gid).members) == sorted(ids)
    servers = [show(ecs, i) for i in ids]
    assert all(s.osscheduler_hints.group == [gid] for s in servers)
    assert len({s.host_id for s in servers}) == 3 and len({s.os_ext_srv_att_rhost for s in servers}) == 3
    # deleting a member server takes it out of the group
    j = ecs.delete_servers(DeleteServersRequest(body=DeleteServersRequestBody(servers=refs(ids[:1])))).job_id
    assert job(ecs, j).status == "SUCCESS"
    assert sorted(show_group(ecs, gid).members) == sorted(ids[1:])


def test_create_with_unknown_group_creates_nothing(ecs, info, unique):
    e = err(lambda: create(ecs, info, f"nogrp-{unique}", osscheduler_hints=hinted("no-such-group")))
    assert (e.status_code, e.error_code) == (400, "Ecs.0005") and "no-such-group" in e.error_msg
    assert named(ecs, f"nogrp-{unique}") == []


def test_add_and_remove_member(ecs, info, unique, new_group):
    gid, other = new_group(f"mem-{unique}"), new_group(f"mem2-{unique}")
    _, (sid,) = create(ecs, info, f"mem-{unique}")
    e = err(lambda: add(ecs, gid, sid))  # only a stopped server can join
    assert (e.status_code, e.error_code) == (400, "Ecs.0100")
    assert show_group(ecs, gid).members == []
    job(ecs, stop(ecs, [sid]))
    assert add(ecs, gid, sid).status_code == 200
    assert show_group(ecs, gid).members == [sid] and show(ecs, sid).osscheduler_hints.group == [gid]
    for g in (gid, other):  # one group per server
        e = err(lambda g=g: add(ecs, g, sid))
        assert (e.status_code, e.error_code) == (400, "Ecs.0005")
    assert show_group(ecs, other).members == []
    assert remove(ecs, gid, sid).status_code == 200
    assert show_group(ecs, gid).members == [] and not show(ecs, sid).osscheduler_hints.group
    e = err(lambda: remove(ecs, gid, sid))  # no longer a member
    assert (e.status_code, e.error_code) == (400, "Ecs.0005")
    e = err(lambda: add(ecs, gid, "11111111-2222-3333-4444-555555555555"))
    assert (e.status_code, e.error_code) == (404, "Ecs.0114")
    assert err(lambda: add(ecs, "no-such-group", sid)).status_code == 404


def test_current_action_names_grant_the_group_operations_only(ecsim_server, ecs, info, unique):
    """The current tables name createServerGroup / addServerGroupMember / deleteServerGroupMember /
    deleteServerGroup for the v1 group APIs (older ones, and the seeds, ecs:cloudServers:create and :delete): a
    policy with the current names runs each of them, and creates or deletes no server."""
    u = make_user(ecsim_server, f"grp-{unique}", allow=[
        "ecs:cloudServers:createServerGroup", "ecs:cloudServers:addServerGroupMember",
        "ecs:cloudServers:deleteServerGroupMember", "ecs:cloudServers:deleteServerGroup"])
    mine = ecsim_server.ecs(u["ak"], u["sk"])
    gid = create_group(mine, f"cur-{unique}").id
    _, (sid,) = create(ecs, info, f"cur-{unique}")
    job(ecs, stop(ecs, [sid]))
    assert add(mine, gid, sid).status_code == 200 and show_group(ecs, gid).members == [sid]
    assert remove(mine, gid, sid).status_code == 200 and show_group(ecs, gid).members == []
    e = err(lambda: create(mine, info, f"no-{unique}"))
    assert (e.status_code, e.error_msg) == (403, "Policy doesn't allow ecs:cloudServers:create to be performed.")
    e = err(lambda: mine.delete_servers(DeleteServersRequest(body=DeleteServersRequestBody(servers=refs([sid])))))
    assert (e.status_code, e.error_code) == (403, "Pdp.0001")
    assert mine.delete_server_group(DeleteServerGroupRequest(server_group_id=gid)).status_code == 204
    assert err(lambda: show_group(ecs, gid)).status_code == 404


def test_member_of_a_deleted_group_can_join_another(ecs, info, unique, new_group):
    old, new = new_group(f"old-{unique}"), new_group(f"new-{unique}")
    _, (sid,) = create(ecs, info, f"old-{unique}", osscheduler_hints=hinted(old))
    job(ecs, stop(ecs, [sid]))
    ecs.delete_server_group(DeleteServerGroupRequest(server_group_id=old))
    assert show(ecs, sid).status == "SHUTOFF"  # members outlive their group
    assert add(ecs, new, sid).status_code == 200
    assert show_group(ecs, new).members == [sid] and show(ecs, sid).osscheduler_hints.group == [new]


@pytest.mark.parametrize(("path", "body", "code"), [
    ("", {"server_group": {"policies": ["anti-affinity"]}}, "Ecs.0005"),
    ("", {"server_group": {"name": "x", "policies": "anti-affinity"}}, "Ecs.0005"),
    ("", {"server_group": {"name": "", "policies": ["anti-affinity"]}}, "Ecs.0005"),
    ("", {"server_group": {"name": "x" * 256, "policies": ["anti-affinity"]}}, "Ecs.0005"),
    ("", {"name": "x", "policies": ["anti-affinity"]}, "Ecs.0005"),
    ("", None, "Common.0002"),
    ("/{gid}/action", {"bogus_member": {"instance_uuid": "x"}}, "Ecs.0005"),
    ("/{gid}/action", {"add_member": {"instance_uuid": "x"}, "remove_member": {"instance_uuid": "x"}}, "Ecs.0005"),
    ("/{gid}/action", {"add_member": "x"}, "Ecs.0005"),
    ("/{gid}/action", {"remove_member": {}}, "Ecs.0005"),
    ("/{gid}/action", {"add_member": {"instance_uuid": 5}}, "Ecs.0005"),
    ("/{gid}/action", {}, "Ecs.0005"),
])
def test_malformed_bodies_are_400(ecsim_server, ecs, unique, new_group, path, body, code):
    gid = new_group(f"bad-{unique}")
    before = len(ecs.list_server_groups(ListServerGroupsRequest()).server_groups)
    url = f"/v1/{ecsim_server.info['project_id']}/cloudservers/os-server-groups" + path.format(gid=gid)
    status, _, payload = ecsim_server.http("POST", url, body, token=ecsim_server.token())
    assert status == 400 and payload["error"]["code"] == code and payload["error"]["message"]
    assert len(ecs.list_server_groups(ListServerGroupsRequest()).server_groups) == before
    assert show_group(ecs, gid).members == []


def test_anti_affinity_runs_out_of_hosts(ecsim_launcher):
    server = ecsim_launcher(["--memory", "--hosts-per-az", "2"])
    ecs, info = server.ecs(), server.info
    az = info["region"] + "a"
    gid = create_group(ecs, "two-hosts").id
    job_id, ids = create(ecs, info, "spread", count=3, availability_zone=az, osscheduler_hints=hinted(gid))
    j = job(ecs, job_id)
    assert (j.status, j.fail_reason) == ("FAIL", NO_HOST)
    subs = sorted(j.entities.sub_jobs, key=lambda s: s.status)
    assert [s.status for s in subs] == ["FAIL", "SUCCESS", "SUCCESS"] and subs[0].fail_reason == NO_HOST
    made = sorted(named(ecs, "spread"))
    assert len(made) == 2 and sorted(s.entities.server_id for s in subs[1:]) == made
    assert subs[0].entities.server_id in ids and err(lambda: show(ecs, subs[0].entities.server_id)).status_code == 404
    assert sorted(show_group(ecs, gid).members) == made
    assert len({show(ecs, i).os_ext_srv_att_rhost for i in made}) == 2
    # another zone still has room
    _, (elsewhere,) = create(ecs, info, "elsewhere", availability_zone=info["region"] + "b",
                             osscheduler_hints=hinted(gid))
    assert len(show_group(ecs, gid).members) == 3
    # a stopped server of the full zone cannot join until a member leaves; then it moves off the member's host
    _, (late,) = create(ecs, info, "late", availability_zone=az)
    job(ecs, stop(ecs, [late]))
    e = err(lambda: add(ecs, gid, late))
    assert e.status_code == 400 and NO_HOST in e.error_msg
    remove(ecs, gid, made[0])
    add(ecs, gid, late)
    assert show(ecs, late).os_ext_srv_att_rhost != show(ecs, made[1]).os_ext_srv_att_rhost
    assert sorted(show_group(ecs, gid).members) == sorted([made[1], elsewhere, late])


def test_group_and_member_quotas(ecsim_launcher):
    server = ecsim_launcher(["--memory"])
    ecs, info = server.ecs(), server.info
    gids = [create_group(ecs, f"q{i}").id for i in range(10)]
    e = err(lambda: create_group(ecs, "q10"))
    assert (e.status_code, e.error_code) == (400, "Ecs.0001")
    assert len(ecs.list_server_groups(ListServerGroupsRequest()).server_groups) == 10
    ecs.delete_server_group(DeleteServerGroupRequest(server_group_id=gids.pop()))
    gid = create_group(ecs, "q10").id
    job_id, ids = create(ecs, info, "full", count=16, availability_zone=info["region"] + "a",
                         osscheduler_hints=hinted(gid))
    assert job(ecs, job_id).status == "SUCCESS" and len(show_group(ecs, gid).members) == 16
    e = err(lambda: create(ecs, info, "extra", osscheduler_hints=hinted(gid)))
    assert (e.status_code, e.error_code) == (400, "Ecs.0022")
    assert named(ecs, "extra") == []
    _, (outside,) = create(ecs, info, "outside")
    job(ecs, stop(ecs, [outside]))
    e = err(lambda: add(ecs, gid, outside))
    assert (e.status_code, e.error_code) == (400, "Ecs.0022")
    assert sorted(show_group(ecs, gid).members) == sorted(ids)
