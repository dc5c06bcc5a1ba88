"""EVS native through the unmodified huaweicloudsdkevs: async creates, deletes and resizes with jobs, lists with
EVS's filters, EVS error codes, and IAM (EVS system policies, enterprise-project grants). The volumes are the ones
Cinder shows."""

from __future__ import annotations

import uuid

import pytest
from huaweicloudsdkevs.v2 import (
    CinderListQuotasRequest,
    CreateVolumeOption,
    CreateVolumeRequest,
    CreateVolumeRequestBody,
    DeleteVolumeRequest,
    ListVolumesRequest,
    OsExtend,
    ResizeVolumeRequest,
    ResizeVolumeRequestBody,
    ShowJobRequest,
    ShowVolumeRequest,
    UpdateVolumeOption,
    UpdateVolumeRequest,
    UpdateVolumeRequestBody,
)
from huaweicloudsdkiam.v3 import (
    AssociateRoleToUserOnEnterpriseProjectRequest,
    KeystoneListPermissionsRequest,
    ListRolesForUserOnEnterpriseProjectRequest,
    RevokeRoleFromUserOnEnterpriseProjectRequest,
)

from helpers import err, make_user


def make(evs, server, name: str, **kw) -> tuple[str, list[str]]:
    option = CreateVolumeOption(availability_zone=kw.pop("az", server.info["region"] + "a"),
                                volume_type=kw.pop("volume_type", "SSD"), size=kw.pop("size", 10), name=name, **kw)
    r = evs.create_volume(CreateVolumeRequest(body=CreateVolumeRequestBody(volume=option)))
    return r.job_id, r.volume_ids


def show(evs, vid):
    return evs.show_volume(ShowVolumeRequest(volume_id=vid)).volume


def test_create_batch_with_job_then_show(ecsim_server, unique):
    evs = ecsim_server.evs()
    job_id, ids = make(evs, ecsim_server, f"evs-{unique}", count=2, multiattach=True, tags={"team": "a"},
                       metadata={"k": "v"})
    assert len(ids) == 2
    job = evs.show_job(ShowJobRequest(job_id=job_id))
    assert (job.status, job.job_type) == ("SUCCESS", "batchCreateVolume")
    assert sorted(s.entities.volume_id for s in job.entities.sub_jobs) == sorted(ids)
    v = show(evs, ids[0])
    assert (v.name, v.status, v.volume_type, v.size) == (f"evs-{unique}-0001", "available", "SSD", 10)
    assert (v.shareable, v.multiattach, v.bootable, v.tags) == ("true", True, "false", {"team": "a"})
    assert (v.service_type, v.enterprise_project_id, v.metadata) == ("EVS", "0", {"k": "v"})
    # the same disk through Cinder v3
    assert ecsim_server.cinder("3.0").volumes.get(ids[1]).name == f"evs-{unique}-0002"


def test_list_filters_count_and_next_link(ecsim_server, unique):
    evs = ecsim_server.evs()
    _, ids = make(evs, ecsim_server, f"lst-{unique}", count=3, az=ecsim_server.info["region"] + "c",
                  metadata={"set": unique})
    page = evs.list_volumes(ListVolumesRequest(metadata=f'{{"set": "{unique}"}}', limit=2))
    assert page.count == 3 and len(page.volumes) == 2
    assert [v.id for v in page.volumes] == [ids[2], ids[1]]  # newest first
    assert f"marker={ids[1]}" in page.volumes_links[0].href
    rest = evs.list_volumes(ListVolumesRequest(metadata=f'{{"set": "{unique}"}}', marker=ids[1]))
    assert [v.id for v in rest.volumes] == [ids[0]] and not rest.volumes_links
    assert evs.list_volumes(ListVolumesRequest(name=f"lst-{unique}-0002")).volumes[0].id == ids[1]
    by_id = evs.list_volumes(ListVolumesRequest(ids=str([ids[0], ids[2]])))
    assert sorted(v.id for v in by_id.volumes) == sorted([ids[0], ids[2]])
    assert evs.list_volumes(ListVolumesRequest(name=f"lst-{unique}-0002", status="error")).count == 0
    e = err(lambda: evs.list_volumes(ListVolumesRequest(sort_key="weight")))
    assert (e.status_code, e.error_code) == (400, "EVS.1039")


def test_list_sorted_by_size_pages_by_marker(ecsim_server, unique):
    evs = ecsim_server.evs()
    made = {size: make(evs, ecsim_server, f"sz-{unique}", size=size, metadata={"sz": unique})[1][0]
            for size in (30, 10, 20)}
    meta = f'{{"sz": "{unique}"}}'
    page = evs.list_volumes(ListVolumesRequest(metadata=meta, sort_key="size", sort_dir="asc", limit=2))
    assert [v.size for v in page.volumes] == [10, 20] and page.count == 3
    rest = evs.list_volumes(ListVolumesRequest(metadata=meta, sort_key="size", sort_dir="asc", marker=made[20]))
    assert [v.id for v in rest.volumes] == [made[30]]
    largest = ecsim_server.cinder("3.0").volumes.list(search_opts={"metadata": {"sz": unique}}, sort="size:desc")
    assert [v.size for v in largest] == [30, 20, 10]


def test_update_answers_the_volume_unwrapped(ecsim_server, unique):
    evs = ecsim_server.evs()
    _, [vid] = make(evs, ecsim_server, f"upd-{unique}")
    r = evs.update_volume(UpdateVolumeRequest(volume_id=vid, body=UpdateVolumeRequestBody(
        volume=UpdateVolumeOption(name=f"upd2-{unique}", description="d"))))
    assert (r.id, r.name, r.description) == (vid, f"upd2-{unique}", "d")
    e = err(lambda: evs.update_volume(UpdateVolumeRequest(volume_id=vid, body=UpdateVolumeRequestBody(
        volume=UpdateVolumeOption()))))
    assert (e.status_code, e.error_code) == (400, "EVS.1007")


def test_resize_rules(ecsim_server, unique):
    evs = ecsim_server.evs()
    _, [vid] = make(evs, ecsim_server, f"rs-{unique}")
    r = evs.resize_volume(ResizeVolumeRequest(volume_id=vid, body=ResizeVolumeRequestBody(
        os_extend=OsExtend(new_size=20))))
    job_id = r.job_id
    assert r.status_code == 202
    job = evs.show_job(ShowJobRequest(job_id=job_id))
    assert (job.status, job.job_type, job.entities.volume_id) == ("SUCCESS", "extendVolume", vid)
    assert show(evs, vid).size == 20
    e = err(lambda: evs.resize_volume(ResizeVolumeRequest(volume_id=vid, body=ResizeVolumeRequestBody(
        os_extend=OsExtend(new_size=15)))))
    assert (e.status_code, e.error_code) == (400, "EVS.1015")
    # in use: EVS extends online; a shared disk only while available
    cinder = ecsim_server.cinder("3.0")
    cinder.volumes.attach(vid, str(uuid.uuid4()), "/dev/vdb")
    evs.resize_volume(ResizeVolumeRequest(volume_id=vid, body=ResizeVolumeRequestBody(os_extend=OsExtend(new_size=30))))
    assert (show(evs, vid).size, show(evs, vid).status) == (30, "in-use")
    _, [shared] = make(evs, ecsim_server, f"rs-sh-{unique}", multiattach=True)
    cinder.volumes.attach(shared, str(uuid.uuid4()), "/dev/vdb")
    e = err(lambda: evs.resize_volume(ResizeVolumeRequest(volume_id=shared, body=ResizeVolumeRequestBody(
        os_extend=OsExtend(new_size=20)))))
    assert (e.status_code, e.error_code) == (400, "EVS.1065")
    assert show(evs, shared).size == 10


def test_delete_with_job_and_errors(ecsim_server, unique):
    evs = ecsim_server.evs()
    _, [vid, busy] = make(evs, ecsim_server, f"del-{unique}", count=2)
    ecsim_server.cinder("3.0").volumes.attach(busy, str(uuid.uuid4()), "/dev/vdb")
    e = err(lambda: evs.delete_volume(DeleteVolumeRequest(volume_id=busy)))
    assert (e.status_code, e.error_code) == (400, "EVS.1046")
    job_id = evs.delete_volume(DeleteVolumeRequest(volume_id=vid)).job_id
    assert evs.show_job(ShowJobRequest(job_id=job_id)).job_type == "deleteVolume"
    e = err(lambda: show(evs, vid))
    assert (e.status_code, e.error_code) == (404, "EVS.5404")
    assert e.error_msg.startswith("Resource(Volume, Snapshot, Backup .etc) cound not be found.")


def test_create_errors(ecsim_server, unique):
    evs = ecsim_server.evs()
    for kw, code in (({"volume_type": "NOPE"}, "EVS.1020"), ({"az": "mars-1a"}, "EVS.1036"),
                     ({"size": 5}, "EVS.1010"), ({"count": 101}, "EVS.1021")):
        e = err(lambda kw=kw: make(evs, ecsim_server, f"bad-{unique}", **kw))
        assert (e.status_code, e.error_code) == (400, code), kw
    assert evs.list_volumes(ListVolumesRequest(name=f"bad-{unique}")).count == 0


def test_quota_view_counts_types(ecsim_server, unique):
    evs = ecsim_server.evs()
    pid = ecsim_server.info["project_id"]
    before = evs.cinder_list_quotas(CinderListQuotasRequest(target_project_id=pid, usage="True")).quota_set
    make(evs, ecsim_server, f"q-{unique}", volume_type="SAS", size=12)
    after = evs.cinder_list_quotas(CinderListQuotasRequest(target_project_id=pid, usage="True")).quota_set
    assert after.volumes.in_use == before.volumes.in_use + 1
    assert after.gigabytes_sas.in_use == before.gigabytes_sas.in_use + 12
    assert after.volumes_sas.in_use == before.volumes_sas.in_use + 1


# -- IAM ---------------------------------------------------------------------------------------------------------------
def test_client_token_makes_a_create_idempotent(ecsim_server, unique):
    evs = ecsim_server.evs()
    option = CreateVolumeOption(availability_zone=ecsim_server.info["region"] + "a", volume_type="SSD", size=10,
                                name=f"ct-{unique}")

    def made(token):
        r = evs.create_volume(CreateVolumeRequest(body=CreateVolumeRequestBody(volume=option), x_client_token=token))
        return r.job_id, r.volume_ids

    first = made(f"tok-{unique}")
    assert made(f"tok-{unique}") == first
    assert evs.list_volumes(ListVolumesRequest(name=f"ct-{unique}")).count == 1


def test_evs_system_policies(ecsim_server, unique):
    reader = make_user(ecsim_server, f"evs-ro-{unique}", system=["EVS ReadOnlyAccess"])
    evs = ecsim_server.evs(reader["ak"], reader["sk"])
    assert evs.list_volumes(ListVolumesRequest(limit=1)).count >= 0
    e = err(lambda: make(evs, ecsim_server, f"ro-{unique}"))
    assert (e.status_code, e.error_code, e.error_msg) == (403, "EVS.2056", "action in pdp check deny!")
    status, _, body = ecsim_server.http("POST", f"/v2/{ecsim_server.info['project_id']}/cloudvolumes", {"volume": {
        "availability_zone": "cn-north-4a", "volume_type": "SSD", "size": 10}},
        token=ecsim_server.token(reader["name"], reader["password"]))
    assert status == 403 and "evs:volumes:create" in body["error"]["details"][0]["message"]  # what was denied
    e = err(lambda: evs.list_volumes(ListVolumesRequest(limit=1001)))  # the EVS list's own bound
    assert (e.status_code, e.error_code, e.error_msg) == (
        400, "EVS.2142", "invalid filter limit, can not greater than 1000. (limit is 1001.)")
    full = make_user(ecsim_server, f"evs-full-{unique}", system=["EVS FullAccess"])
    _, [vid] = make(ecsim_server.evs(full["ak"], full["sk"]), ecsim_server, f"full-{unique}")
    assert show(evs, vid).name == f"full-{unique}"


def test_enterprise_project_grants(ecsim_server, unique):
    """A grant on an enterprise project covers that project's disks for operations the tables allow there, and
    never the OpenStack-native Cinder calls (IAM projects only), seed 003's actions or any other."""
    iam, evs = ecsim_server.iam(), ecsim_server.evs()
    ep = str(uuid.uuid4())
    _, [inside] = make(evs, ecsim_server, f"ep-{unique}", enterprise_project_id=ep)
    _, [outside] = make(evs, ecsim_server, f"ep0-{unique}")
    u = make_user(ecsim_server, f"ep-{unique}")
    role = next(r for r in iam.keystone_list_permissions(KeystoneListPermissionsRequest(
        display_name="EVS FullAccess")).roles)
    iam.associate_role_to_user_on_enterprise_project(AssociateRoleToUserOnEnterpriseProjectRequest(
        enterprise_project_id=ep, user_id=u["user_id"], role_id=role.id))
    granted = iam.list_roles_for_user_on_enterprise_project(ListRolesForUserOnEnterpriseProjectRequest(
        enterprise_project_id=ep, user_id=u["user_id"])).roles
    assert [r.display_name for r in granted] == ["EVS FullAccess"]
    mine = ecsim_server.evs(u["ak"], u["sk"])
    assert show(mine, inside).enterprise_project_id == ep
    e = err(lambda: show(mine, outside))
    assert (e.status_code, e.error_msg) == (403, "action in pdp check deny!")
    from cinderclient import exceptions as cex

    cinder = ecsim_server.cinder("3.0", u["name"], u["password"])
    for call, action in ((lambda: cinder.volumes.get(inside), "get"),
                         (lambda: cinder.volumes.update(inside, name="x"), "update"),
                         (lambda: cinder.volumes.set_metadata(inside, {"k": "v"}), "update"),
                         (lambda: cinder.volumes.delete(inside), "delete"),
                         (lambda: cinder.volumes.extend(inside, 20), "extend")):  # the last is seed 003's
        with pytest.raises(cex.Forbidden) as exc:
            call()
        assert exc.value.message == f"Policy doesn't allow evs:volumes:{action} to be performed."
    assert show(mine, inside).name == f"ep-{unique}"  # none of them changed anything
    iam.revoke_role_from_user_on_enterprise_project(RevokeRoleFromUserOnEnterpriseProjectRequest(
        enterprise_project_id=ep, user_id=u["user_id"], role_id=role.id))
    assert err(lambda: show(mine, inside)).status_code == 403


def test_disk_tags(ecsim_server, unique):
    from huaweicloudsdkevs.v2 import (
        BatchCreateVolumeTagsRequest,
        BatchCreateVolumeTagsRequestBody,
        BatchDeleteVolumeTagsRequest,
        BatchDeleteVolumeTagsRequestBody,
        DeleteTagsOption,
        ListVolumeTagsRequest,
        ShowVolumeTagsRequest,
        Tag,
    )

    evs = ecsim_server.evs()
    _, [vid] = make(evs, ecsim_server, f"tag-{unique}", tags={"team": "a"})

    def add(**pairs: str):
        return evs.batch_create_volume_tags(BatchCreateVolumeTagsRequest(volume_id=vid, body=(
            BatchCreateVolumeTagsRequestBody(action="create", tags=[Tag(key=k, value=v) for k, v in pairs.items()]))))

    def shown() -> dict[str, str]:
        return {t.key: t.value for t in evs.show_volume_tags(ShowVolumeTagsRequest(volume_id=vid)).tags}

    assert add(env="prod", team="b").status_code == 204
    assert shown() == {"team": "b", "env": "prod"} and show(evs, vid).tags == {"team": "b", "env": "prod"}
    project = evs.list_volume_tags(ListVolumeTagsRequest()).tags
    assert "prod" in project["env"] and "b" in project["team"]
    e = err(lambda: add(**{"bad key": "x"}))
    assert (e.status_code, e.error_code) == (400, "EVS.1062")
    evs.batch_delete_volume_tags(BatchDeleteVolumeTagsRequest(volume_id=vid, body=BatchDeleteVolumeTagsRequestBody(
        action="delete", tags=[DeleteTagsOption(key="team")])))
    assert shown() == {"env": "prod"}
    # IAM: creating and deleting tags are two actions
    u = make_user(ecsim_server, f"tgu-{unique}", allow=["evs:volumeTags:create", "evs:volumeTags:get"])
    mine = ecsim_server.evs(u["ak"], u["sk"])
    mine.batch_create_volume_tags(BatchCreateVolumeTagsRequest(volume_id=vid, body=BatchCreateVolumeTagsRequestBody(
        action="create", tags=[Tag(key="owner", value="u")])))
    e = err(lambda: mine.batch_delete_volume_tags(BatchDeleteVolumeTagsRequest(
        volume_id=vid, body=BatchDeleteVolumeTagsRequestBody(action="delete", tags=[DeleteTagsOption(key="env")]))))
    assert e.status_code == 403
    assert {t.key for t in mine.show_volume_tags(ShowVolumeTagsRequest(volume_id=vid)).tags} == {"env", "owner"}


@pytest.mark.parametrize(("volume_type", "iops", "throughput", "ok"), [
    ("GPSSD2", 3000, 125, True), ("GPSSD2", None, 125, False), ("GPSSD2", 3000, None, False),
    ("GPSSD2", 200000, 125, False), ("ESSD2", 5000, None, True), ("ESSD2", 5000, 200, False),
    ("SSD", 3000, None, False), ("SSD", None, None, True),
])
def test_provisioned_performance(ecsim_server, unique, volume_type, iops, throughput, ok):
    """GPSSD2 takes IOPS and throughput, ESSD2 IOPS only, the other types neither (the SDK's CreateVolumeOption);
    the disk shows what it was given."""
    evs = ecsim_server.evs()
    if not ok:
        e = err(lambda: make(evs, ecsim_server, f"perf-{unique}", volume_type=volume_type, iops=iops,
                             throughput=throughput))
        assert (e.status_code, e.error_code) == (400, "EVS.5400")
        return
    _, [vid] = make(evs, ecsim_server, f"perf-{unique}", volume_type=volume_type, iops=iops, throughput=throughput)
    vol = show(evs, vid)
    assert (vol.iops.total_val if vol.iops else None, vol.throughput.total_val if vol.throughput else None) == (
        iops, throughput)
