"""Huawei ECS v1/v1.1 through the unmodified huaweicloudsdkecs: create, list, show, update, delete, batch actions,
rename, flavors and jobs."""

from __future__ import annotations

import pytest
from huaweicloudsdkecs.v2 import (
    BatchRebootServersRequest,
    BatchRebootServersRequestBody,
    BatchRebootSeversOption,
    BatchUpdateServersNameRequest,
    BatchUpdateServersNameRequestBody,
    CreatePostPaidServersRequest,
    CreateServersRequest,
    CreateServersRequestBody,
    DeleteServersRequest,
    DeleteServersRequestBody,
    ListCloudServersRequest,
    ListFlavorsRequest,
    ListResizeFlavorsRequest,
    ListServerAzInfoRequest,
    ListServersDetailsRequest,
    PostPaidServerNic,
    PostPaidServerTag,
    PrePaidServer,
    PrePaidServerNic,
    PrePaidServerRootVolume,
    ShowJobRequest,
    ShowServerLimitsRequest,
    ShowServerRequest,
    UpdateServerOption,
    UpdateServerRequest,
    UpdateServerRequestBody,
)

from ecsim.domain import network
from ecsim.domain.errors import DomainError
from helpers import create, err, job, refs, server_body, start, stop


def show(ecs, sid):
    return ecs.show_server(ShowServerRequest(server_id=sid)).server



def test_create_returns_job_and_servers_become_active(ecs, info, unique):
    job_id, ids = create(ecs, info, f"web-{unique}", count=3, metadata={"env": "dev"},
                         server_tags=[PostPaidServerTag(key="team", value="a")], data_volumes=[20])
    assert len(job_id) == 32 and len(ids) == 3
    j = job(ecs, job_id)
    assert j.status == "SUCCESS" and j.job_type == "createServer"
    assert j.entities.sub_jobs_total == 3
    assert {s.entities.server_id for s in j.entities.sub_jobs} == set(ids)
    assert all(s.status == "SUCCESS" and s.job_type == "createSingleServer" for s in j.entities.sub_jobs)
    s = show(ecs, ids[0])
    assert s.status == "ACTIVE" and s.os_ext_st_svm_state == "active" and s.os_ext_st_spower_state == 1
    assert s.progress == 0  # Huawei reports none, ACTIVE included
    assert s.name == f"web-{unique}-0001"
    assert s.flavor.id == info["flavor_id"] and s.flavor.vcpus == "1" and s.flavor.ram == "1024"
    assert s.image.id == info["image_id"]
    assert s.metadata["env"] == "dev" and s.metadata["vpc_id"] == info["vpc_id"]
    assert s.tags == ["team=a"]
    assert list(s.addresses) == [info["vpc_id"]] and s.addresses[info["vpc_id"]][0].addr.startswith("192.168.")
    vols = s.os_extended_volumesvolumes_attached
    assert [v.boot_index for v in vols] == ["0", "-1"] and vols[0].device == "/dev/vda"
    assert s.tenant_id == info["project_id"] and len(s.host_id) == 56
    assert s.os_ext_a_zavailability_zone.startswith(info["region"])


def test_sub_job_can_be_queried_by_its_own_id(ecs, info, unique):
    job_id, ids = create(ecs, info, f"sub-{unique}")
    sub = job(ecs, job_id).entities.sub_jobs[0]
    own = job(ecs, sub.job_id)
    assert own.job_id == sub.job_id and own.entities.server_id == ids[0] and own.status == "SUCCESS"


def test_dry_run_is_202_and_creates_nothing(ecs, info, unique):
    r = ecs.create_post_paid_servers(CreatePostPaidServersRequest(body=server_body(info, f"dry-{unique}",
                                                                                   dry_run=True)))
    assert r.status_code == 202 and r.job_id is None
    assert ecs.list_servers_details(ListServersDetailsRequest(name=f"dry-{unique}")).count == 0


def test_dry_run_reports_the_same_errors(ecs, info, unique):
    e = err(lambda: ecs.create_post_paid_servers(CreatePostPaidServersRequest(
        body=server_body(info, f"dry-{unique}", flavor_ref="no.such.flavor", dry_run=True))))
    assert e.status_code == 400 and e.error_code == "Ecs.0029"


@pytest.mark.parametrize(("kw", "code"), [
    ({"flavor_ref": "x1.nope.1"}, "Ecs.0029"),
    ({"image_ref": "00000000-0000-0000-0000-000000000000"}, "Ecs.0031"),
    ({"vpcid": "00000000-0000-0000-0000-000000000000"}, "Ecs.0014"),
    ({"count": 101}, "Ecs.0005"),
    ({"count": 0}, "Ecs.0005"),
    ({"availability_zone": "mars-1a"}, "Ecs.0005"),
    ({"root_volume": None}, "Ecs.0005"),
    ({"admin_pass": "short"}, "Ecs.0011"),
    ({"description": "a<b>"}, "Ecs.0005"),
    ({"description": "x" * 86}, "Ecs.0005"),
    ({"key_name": "no-such-key-pair"}, "Ecs.0314"),
    ({"metadata": {"a b": "1"}}, "Ecs.0005"),
    ({"metadata": {"k": "v" * 256}}, "Ecs.0005"),
    ({"user_data": "not base64!"}, "Ecs.0005"),
    ({"user_data": "QUFB" * 11000}, "Ecs.0005"),  # 33,000 bytes of content
    ({"server_tags": [PostPaidServerTag(key="k" * 37, value="v")]}, "Ecs.0905"),
])
def test_create_validation(ecs, info, unique, kw, code):
    e = err(lambda: create(ecs, info, f"bad-{unique}", **kw))
    assert (e.status_code, e.error_code) == (400, code)
    assert ecs.list_servers_details(ListServersDetailsRequest(name=f"bad-{unique}")).count == 0


def test_fixed_private_ip(ecs, info, unique):
    """nics[].ip_address: the server gets that address; one in use is 400 Ecs.0010 (dry run included), one outside
    the subnet 400; after a delete the address is free again."""
    def nics(ip):
        return [PostPaidServerNic(subnet_id=info["subnet_id"], ip_address=ip)]

    job_id, ids = create(ecs, info, f"fix-{unique}", nics=nics("192.168.201.10"))
    assert job(ecs, job_id).status == "SUCCESS"
    assert [a.addr for a in show(ecs, ids[0]).addresses[info["vpc_id"]]] == ["192.168.201.10"]
    for kw in ({}, {"dry_run": True}):
        e = err(lambda kw=kw: create(ecs, info, f"fix2-{unique}", nics=nics("192.168.201.10"), **kw))
        assert (e.status_code, e.error_code) == (400, "Ecs.0010") and "192.168.201.10" in e.error_msg
    for ip in ("10.9.9.9", "192.168.0.1", "not-an-ip"):
        assert err(lambda ip=ip: create(ecs, info, f"fix3-{unique}", nics=nics(ip))).status_code == 400
    assert ecs.list_servers_details(ListServersDetailsRequest(name=f"fix2-{unique}")).count == 0
    ecs.delete_servers(DeleteServersRequest(body=DeleteServersRequestBody(servers=refs(ids))))
    job_id, ids = create(ecs, info, f"fix4-{unique}", nics=nics("192.168.201.10"))
    assert [a.addr for a in show(ecs, ids[0]).addresses[info["vpc_id"]]] == ["192.168.201.10"]


def test_address_allocation_skips_addresses_asked_for():
    subnet = network.new_subnet("p", "v", "s", "10.0.0.0/29", "az", 0.0)  # hosts .2 to .6 (.1 is the gateway)
    assert network.allocate_ip(subnet, "10.0.0.4") == "10.0.0.4"
    assert [network.allocate_ip(subnet) for _ in range(4)] == ["10.0.0.2", "10.0.0.3", "10.0.0.5", "10.0.0.6"]
    with pytest.raises(DomainError) as exc:
        network.allocate_ip(subnet)
    assert exc.value.reason == "subnet_full"
    for ip in ("10.0.0.4", "10.0.0.3"):
        with pytest.raises(DomainError) as exc:
            network.check_ip(subnet, ip)
        assert exc.value.reason == "ip_in_use"
    network.release_ip(subnet, "10.0.0.3")
    assert network.allocate_ip(subnet, "10.0.0.3") == "10.0.0.3" and subnet["released"] == []


def test_client_token_makes_a_create_idempotent(ecs, info, unique):
    """X-Client-Token: a repeat answers the first request's job and ids and creates nothing; another token creates."""
    def made(token):
        r = ecs.create_post_paid_servers(CreatePostPaidServersRequest(
            body=server_body(info, f"ct-{unique}"), x_client_token=token))
        return r.job_id, r.server_ids

    first = made(f"tok-{unique}")
    assert made(f"tok-{unique}") == first
    assert ecs.list_servers_details(ListServersDetailsRequest(name=f"ct-{unique}")).count == 1
    assert made(f"tok2-{unique}") != first
    assert ecs.list_servers_details(ListServersDetailsRequest(name=f"ct-{unique}")).count == 2
    assert err(lambda: made("x" * 65)).status_code == 400


def test_create_name_rules(ecs, info):
    assert err(lambda: create(ecs, info, "x" * 65)).error_code == "Ecs.0914"
    assert err(lambda: create(ecs, info, "x" * 60, count=2)).error_code == "Ecs.0914"
    assert err(lambda: create(ecs, info, "bad name!")).error_code == "Ecs.0915"


def test_windows_image_needs_enough_ram(ecs, info, ecsim_server):
    win = next(i for i in ecsim_server.ims().list_images(__import__("huaweicloudsdkims.v2", fromlist=["x"])
                                                         .ListImagesRequest(os_type="Windows")).images)
    e = err(lambda: create(ecs, info, "win", image_ref=win.id, flavor_ref="s6.small.1"))
    assert e.error_code == "Ecs.0005" and "flavor does not match the image" in e.error_msg


def test_v11_create_answers_like_v1(ecs, info, unique):
    body = CreateServersRequestBody(server=PrePaidServer(
        image_ref=info["image_id"], flavor_ref="c7.large.2", name=f"v11-{unique}", vpcid=info["vpc_id"],
        nics=[PrePaidServerNic(subnet_id=info["subnet_id"])], root_volume=PrePaidServerRootVolume(volumetype="SSD")))
    r = ecs.create_servers(CreateServersRequest(body=body))
    assert r.job_id and len(r.server_ids) == 1
    assert show(ecs, r.server_ids[0]).flavor.vcpus == "2"


def test_list_v1_offset_is_a_page_number_and_count_the_total(ecs, info, unique):
    _, ids = create(ecs, info, f"page-{unique}", count=5)
    page1 = ecs.list_servers_details(ListServersDetailsRequest(name=f"page-{unique}", limit=2, offset=1))
    page3 = ecs.list_servers_details(ListServersDetailsRequest(name=f"page-{unique}", limit=2, offset=3))
    assert page1.count == 5 and len(page1.servers) == 2 and len(page3.servers) == 1
    allp = ecs.list_servers_details(ListServersDetailsRequest(name=f"page-{unique}", limit=10))
    assert {s.id for s in allp.servers} == set(ids)
    # the name filter is fuzzy: "." matches any character
    assert ecs.list_servers_details(ListServersDetailsRequest(name=f"page.{unique}")).count == 5


def test_list_v1_filters(ecs, info, unique):
    _, ids = create(ecs, info, f"flt-{unique}", count=2, server_tags=[PostPaidServerTag(key="tier", value=unique)])
    stop(ecs, ids[:1])
    by_status = ecs.list_servers_details(ListServersDetailsRequest(name=f"flt-{unique}", status="SHUTOFF"))
    assert [s.id for s in by_status.servers] == ids[:1]
    tagged = ecs.list_servers_details(ListServersDetailsRequest(tags=f"tier={unique}"))
    assert {s.id for s in tagged.servers} == set(ids)
    s0 = show(ecs, ids[0])
    ip = s0.addresses[info["vpc_id"]][0].addr
    assert [s.id for s in ecs.list_servers_details(ListServersDetailsRequest(ip_eq=ip)).servers] == [ids[0]]
    res = ecs.list_servers_details(ListServersDetailsRequest(reservation_id=s0.os_ext_srv_att_rreservation_id))
    assert {s.id for s in res.servers} == set(ids)
    by_id = ecs.list_servers_details(ListServersDetailsRequest(server_id=f"{ids[1]},nope"))
    assert by_id.count == 2 and by_id.servers[0].id == ids[1] and by_id.servers[1].fault["code"] == 404


def test_list_v11_marker_paging_and_expect_fields(ecs, info, unique):
    _, ids = create(ecs, info, f"mk-{unique}", count=3)
    first = ecs.list_cloud_servers(ListCloudServersRequest(name=f"mk-{unique}", limit=2,
                                                           expect_fields=["addresses", "tags", "power_state"]))
    assert len(first.servers) == 2 and first.servers_links[0].rel == "next"
    s = first.servers[0]
    assert s.flavor.vcpus == 1 and s.power_state == 1 and s.vm_state == "active"
    assert s.addresses[info["vpc_id"]][0].version == 4
    second = ecs.list_cloud_servers(ListCloudServersRequest(name=f"mk-{unique}", limit=2,
                                                            marker=first.servers[-1].id))
    assert len(second.servers) == 1 and not second.servers_links
    assert {x.id for x in first.servers + second.servers} == set(ids)
    assert second.servers[0].addresses is None  # not asked for


def test_lists_follow_changes_after_their_views_are_cached(ecs, info, unique):
    """Pages are rendered from views cached per row version (on PostgreSQL read without the documents first): a
    change or a delete after a list shows in the next one, through both list APIs."""
    _, ids = create(ecs, info, f"lc-{unique}", count=3)

    def lists() -> tuple[dict, dict]:
        v1 = ecs.list_servers_details(ListServersDetailsRequest(name=f"lc-{unique}")).servers
        v11 = ecs.list_cloud_servers(ListCloudServersRequest(name=f"lc-{unique}")).servers
        return {s.id: s.status for s in v1}, {s.id: s.status for s in v11}

    assert lists() == ({i: "ACTIVE" for i in ids},) * 2
    stop(ecs, ids[:1])
    ecs.delete_servers(DeleteServersRequest(body=DeleteServersRequestBody(servers=refs(ids[1:2]))))
    assert lists() == ({ids[0]: "SHUTOFF", ids[2]: "ACTIVE"},) * 2


def test_batch_stop_start_reboot_and_state_rules(ecs, info, unique):
    _, ids = create(ecs, info, f"act-{unique}", count=2)
    j = job(ecs, stop(ecs, ids, "HARD"))
    assert j.status == "SUCCESS" and j.entities.sub_jobs_total == 2
    assert {s.entities.server_id for s in j.entities.sub_jobs} == set(ids)
    sub = j.entities.sub_jobs[1]
    shown = job(ecs, sub.job_id)  # a sub-job can be shown by its own id
    assert (shown.job_type, shown.entities.server_id) == ("stopSingleServer", sub.entities.server_id)
    assert {show(ecs, i).status for i in ids} == {"SHUTOFF"}
    assert show(ecs, ids[0]).os_ext_st_spower_state == 4
    # stopping a stopped server is refused up front, and nothing changes
    e = err(lambda: stop(ecs, ids))
    assert (e.status_code, e.error_code) == (400, "Ecs.0100")
    job(ecs, start(ecs, ids))
    assert {show(ecs, i).status for i in ids} == {"ACTIVE"}
    reboot = BatchRebootServersRequestBody(reboot=BatchRebootSeversOption(servers=refs(ids), type="SOFT"))
    assert job(ecs, ecs.batch_reboot_servers(BatchRebootServersRequest(body=reboot)).job_id).status == "SUCCESS"
    assert {show(ecs, i).status for i in ids} == {"ACTIVE"}


def test_batch_with_unknown_server_changes_nothing(ecs, info, unique):
    _, ids = create(ecs, info, f"all-{unique}")
    e = err(lambda: stop(ecs, [ids[0], "11111111-2222-3333-4444-555555555555"]))
    assert (e.status_code, e.error_code) == (404, "Ecs.0114")
    assert show(ecs, ids[0]).status == "ACTIVE"


def test_batch_rename_and_update(ecs, info, unique):
    _, ids = create(ecs, info, f"rn-{unique}", count=2)
    r = ecs.batch_update_servers_name(BatchUpdateServersNameRequest(body=BatchUpdateServersNameRequestBody(
        name=f"new-{unique}", servers=refs(ids))))
    assert [x.id for x in r.response] == ids
    assert {show(ecs, i).name for i in ids} == {f"new-{unique}"}
    upd = ecs.update_server(UpdateServerRequest(server_id=ids[0], body=UpdateServerRequestBody(
        server=UpdateServerOption(name=f"one-{unique}", description="hello"))))
    assert upd.server.name == f"one-{unique}" and upd.server.description == "hello"
    # its own schema (UpdateServerResult): the image as its id, links on the server and its flavor
    assert upd.server.image == info["image_id"] and upd.server.status == "ACTIVE"
    assert [link.rel for link in upd.server.links] == ["self", "bookmark"] and upd.server.links[0].href.endswith(
        f"/servers/{ids[0]}")
    assert upd.server.flavor.id == info["flavor_id"] and upd.server.flavor.links
    assert [a.addr for a in next(iter(upd.server.addresses.values()))] == \
        [a.addr for a in next(iter(show(ecs, ids[0]).addresses.values()))]
    assert show(ecs, ids[0]).description == "hello"
    for bad in ({"hostname": "bad host!"}, {"hostname": "h" * 65}, {"hostname": "-x.y"}, {"user_data": "@@@"}):
        e = err(lambda bad=bad: ecs.update_server(UpdateServerRequest(server_id=ids[0], body=UpdateServerRequestBody(
            server=UpdateServerOption(**bad)))))
        assert (e.status_code, e.error_code) == (400, "Ecs.0005"), bad
    ecs.update_server(UpdateServerRequest(server_id=ids[0], body=UpdateServerRequestBody(
        server=UpdateServerOption(hostname="web-1.example"))))


def test_failed_batch_rename_names_each_unknown_server(ecsim_server, ecs, info, unique):
    """ECS's batch-request error format: the error, and "internalError" listing every server that failed; nothing
    is renamed."""
    _, (sid,) = create(ecs, info, f"rnx-{unique}")
    gone = ["11111111-2222-3333-4444-555555555555", "66666666-2222-3333-4444-555555555555"]
    status, _, body = ecsim_server.http("PUT", f"/v1/{info['project_id']}/cloudservers/server-name", {
        "name": "x", "servers": [{"id": sid}, *({"id": g} for g in gone)]}, token=ecsim_server.token())
    assert status == 404 and body["error"]["code"] == "Ecs.0114"
    assert body["internalError"] == [{"id": g, "error_code": "Ecs.0114",
                                      "error_message": f"Instance[{g}] could not be found."} for g in gone]
    assert show(ecs, sid).name == f"rnx-{unique}"


def test_delete_removes_servers_and_frees_disks(ecs, info, unique):
    _, ids = create(ecs, info, f"del-{unique}", count=2)
    j = ecs.delete_servers(DeleteServersRequest(body=DeleteServersRequestBody(servers=refs(ids))))
    assert job(ecs, j.job_id).status == "SUCCESS"
    for i in ids:
        assert err(lambda i=i: show(ecs, i)).error_code == "Ecs.0114"
    assert ecs.list_servers_details(ListServersDetailsRequest(name=f"del-{unique}")).count == 0


def test_unknown_job_is_common_0011(ecs):
    e = err(lambda: ecs.show_job(ShowJobRequest(job_id="0" * 32)))
    assert (e.status_code, e.error_code) == (400, "Common.0011")


def test_flavors(ecs, info):
    flavors = ecs.list_flavors(ListFlavorsRequest()).flavors
    by_id = {f.id: f for f in flavors}
    f = by_id["c7.xlarge.2"]
    assert f.vcpus == "4" and f.ram == 8192 and f.disk == "0"
    assert f.os_extra_specs.ecsperformancetype == "computingv3"
    assert f.os_extra_specs.condoperationaz.startswith(f"{info['region']}a(normal)")
    one = ecs.list_flavors(ListFlavorsRequest(flavor_id="m7.large.8")).flavors
    assert [x.id for x in one] == ["m7.large.8"] and one[0].ram == 16384
    assert len(ecs.list_flavors(ListFlavorsRequest(limit=5)).flavors) == 5


def test_resize_flavors_limits_and_unserved_names(ecsim_server, ecs, info, unique):
    _, (sid,) = create(ecs, info, f"rf-{unique}")
    targets = ecs.list_resize_flavors(ListResizeFlavorsRequest(instance_uuid=sid)).flavors
    ids = [f.id for f in targets]
    assert info["flavor_id"] not in ids and "c7.xlarge.2" in ids and ids == sorted(ids)
    assert targets[0].extra_specs is not None and targets[0].vcpus.isdigit()
    by_ram = ecs.list_resize_flavors(ListResizeFlavorsRequest(source_flavor_id=info["flavor_id"],
                                                              sort_key="memory_mb", sort_dir="desc", limit=3))
    assert [f.ram for f in by_ram.flavors] == sorted((f.ram for f in targets), reverse=True)[:3]
    e = err(lambda: ecs.list_resize_flavors(ListResizeFlavorsRequest()))
    assert (e.status_code, e.error_code) == (400, "Ecs.0005")
    before = ecs.show_server_limits(ShowServerLimitsRequest()).absolute
    create(ecs, info, f"rf2-{unique}")
    after = ecs.show_server_limits(ShowServerLimitsRequest()).absolute
    assert after.total_instances_used == before.total_instances_used + 1 and after.max_total_instances > 0
    assert after.total_cores_used > before.total_cores_used and after.max_server_meta == 10
    # the real API's other resources under /cloudservers/ are no server ids: unserved, a 404 of the gateway
    status, _, body = ecsim_server.http("GET", f"/v1/{info['project_id']}/cloudservers/flavor-sell-policies",
                                        token=ecsim_server.token())
    assert (status, body["error_code"]) == (404, "APIGW.0101")


def test_availability_zones_and_the_charging_mode_filter(ecs, info, unique):
    zones = ecs.list_server_az_info(ListServerAzInfoRequest()).availability_zones
    assert [z.availability_zone_id for z in zones] == [f"{info['region']}{s}" for s in "abc"]
    assert (zones[0].type, zones[0].mode, zones[0].alias) == ("Core", "single", "AZ1")
    _, (sid,) = create(ecs, info, f"cm-{unique}")
    for mode, found in (("postPaid", True), ("0", True), ("prePaid", False), ("1", False), ("spot", False)):
        page = ecs.list_cloud_servers(ListCloudServersRequest(name=f"cm-{unique}", charging_mode=mode)).servers
        assert [s.id for s in page] == ([sid] if found else []), mode
    e = err(lambda: ecs.list_cloud_servers(ListCloudServersRequest(charging_mode="monthly")))
    assert (e.status_code, e.error_code) == (400, "Ecs.0005")


def test_images_through_ims(ecsim_server):
    from huaweicloudsdkims.v2 import ListImagesRequest

    ims = ecsim_server.ims()
    images = ims.list_images(ListImagesRequest(imagetype="gold", platform="Ubuntu")).images
    assert images and all(i.platform == "Ubuntu" for i in images)
    assert any(i.id == ecsim_server.info["image_id"] for i in images)
    assert images[0].min_disk == 40 and images[0].status == "active"


def test_server_tags_on_both_apis(ecsim_server, ecs, info, unique):
    """ECS batch create / delete and show; the project's tags; Nova's tag routes on the same list."""
    from huaweicloudsdkecs.v2 import (
        BatchAddServerTag,
        BatchCreateServerTagsRequest,
        BatchCreateServerTagsRequestBody,
        BatchDeleteServerTagsRequest,
        BatchDeleteServerTagsRequestBody,
        ListServerTagsRequest,
        ServerTag,
        ShowServerTagsRequest,
    )

    _, (sid,) = create(ecs, info, f"tg-{unique}", server_tags=[PostPaidServerTag(key="team", value="a")])

    def add(*pairs: tuple[str, str]):
        return ecs.batch_create_server_tags(BatchCreateServerTagsRequest(server_id=sid, body=(
            BatchCreateServerTagsRequestBody(action="create", tags=[BatchAddServerTag(key=k, value=v)
                                                                    for k, v in pairs]))))

    def shown() -> dict[str, str]:
        return {t.key: t.value for t in ecs.show_server_tags(ShowServerTagsRequest(server_id=sid)).tags}

    assert add(("env", "prod"), ("team", "b")).status_code == 204
    assert shown() == {"team": "b", "env": "prod"}  # an existing key takes the new value
    listed = ecs.list_servers_details(ListServersDetailsRequest(tags="env=prod", name=f"tg-{unique}"))
    assert [s.id for s in listed.servers] == [sid]
    project = {t.key: t.values for t in ecs.list_server_tags(ListServerTagsRequest()).tags}
    assert "prod" in project["env"] and "b" in project["team"]
    for bad in (("", "x"), ("k" * 37, "x"), ("a=b", "x"), ("ok", "v" * 44), ("ok", "a*b")):
        e = err(lambda bad=bad: add(bad))
        assert (e.status_code, e.error_code) == (400, "Ecs.0905"), bad
    e = err(lambda: add(*[(f"k{i}", "v") for i in range(9)]))  # 11 in all
    assert (e.status_code, e.error_code) == (400, "Ecs.0905") and shown() == {"team": "b", "env": "prod"}
    ecs.batch_delete_server_tags(BatchDeleteServerTagsRequest(server_id=sid, body=BatchDeleteServerTagsRequestBody(
        action="delete", tags=[ServerTag(key="team", value="other"), ServerTag(key="env")])))
    assert shown() == {"team": "b"}  # a value given must match
    # Nova sees them as plain strings and changes the same list
    conn = ecsim_server.openstack()
    server = conn.compute.get_server(sid)
    assert server.tags == ["team=b"]
    server.add_tag(conn.compute, "red")
    assert shown() == {"team": "b", "red": ""}
    server.remove_tag(conn.compute, "team=b")
    assert conn.compute.get_server(sid).fetch_tags(conn.compute).tags == ["red"]
    e = err(lambda: create(ecs, info, f"tgbad-{unique}", server_tags=[PostPaidServerTag(key="a", value="1"),
                                                                     PostPaidServerTag(key="a", value="2")]))
    assert (e.status_code, e.error_code) == (400, "Ecs.0905")
    e = err(lambda: create(ecs, info, f"tgbad-{unique}", tags=["nodot"]))
    assert (e.status_code, e.error_code) == (400, "Ecs.0905")


def test_batch_create_in_multi_az_spreads_over_the_zones(ecs, info, unique):
    _, ids = create(ecs, info, f"maz-{unique}", count=6, batch_create_in_multi_az=True)
    zones = [show(ecs, i).os_ext_a_zavailability_zone for i in ids]
    assert sorted(zones) == sorted(f"{info['region']}{s}" for s in "abc" for _ in range(2))
    _, ids = create(ecs, info, f"maz1-{unique}", count=3, batch_create_in_multi_az=True,
                    availability_zone=info["region"] + "b")  # a zone asked for wins
    assert {show(ecs, i).os_ext_a_zavailability_zone for i in ids} == {info["region"] + "b"}
