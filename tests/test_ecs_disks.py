"""Disks on servers through huaweicloudsdkecs: attach / detach one, a shared disk on several servers (seed 000),
batch detach with per-server sub-jobs (seed 002), block devices; the attachment is the same fact in ECS, EVS and
Cinder."""

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
    DeleteServersRequest,
    DeleteServersRequestBody,
    DetachServerVolumeRequest,
    ListServerBlockDevicesRequest,
    ListServerVolumeAttachmentsRequest,
    ShowServerBlockDeviceRequest,
    ShowServerRequest,
    VolumeBatchDetachRequest,
)
from huaweicloudsdkevs.v2 import CreateVolumeOption, CreateVolumeRequest, CreateVolumeRequestBody, ShowVolumeRequest

from helpers import create, err, job, refs, stop


def servers(server, name: str, count: int = 1, az: str | None = None) -> list[str]:
    az = az or server.info["region"] + "a"
    return create(server.ecs(), server.info, name, count=count, availability_zone=az)[1]


def disk(server, name: str, *, shared: bool = False, az: str | None = None) -> str:
    option = CreateVolumeOption(availability_zone=az or server.info["region"] + "a", volume_type="SSD", size=10,
                                name=name, multiattach=shared)
    return server.evs().create_volume(CreateVolumeRequest(body=CreateVolumeRequestBody(volume=option))).volume_ids[0]


def attach(server, sid: str, vid: str, device: str | None = None, dry_run: bool | None = None):
    body = AttachServerVolumeRequestBody(volume_attachment=AttachServerVolumeOption(volume_id=vid, device=device),
                                         dry_run=dry_run)
    return server.ecs().attach_server_volume(AttachServerVolumeRequest(server_id=sid, body=body))


def attached(server, sid: str) -> dict[str, str]:
    s = server.ecs().show_server(ShowServerRequest(server_id=sid)).server
    return {v.id: v.device for v in s.os_extended_volumesvolumes_attached}


def volume(server, vid: str):
    return server.evs().show_volume(ShowVolumeRequest(volume_id=vid)).volume


def test_attach_and_detach_one_disk_everywhere(ecsim_server, unique):
    ecs = ecsim_server.ecs()
    sid = servers(ecsim_server, f"att-{unique}")[0]
    vid = disk(ecsim_server, f"att-{unique}")
    assert attach(ecsim_server, sid, vid, dry_run=True).job_id is None  # 202, nothing attached
    assert vid not in attached(ecsim_server, sid)

    r = attach(ecsim_server, sid, vid)
    j = job(ecs, r.job_id)
    assert (j.status, j.job_type, j.entities.server_id) == ("SUCCESS", "attachVolume", sid)
    assert attached(ecsim_server, sid)[vid] == "/dev/vdb"  # after the system disk
    v = volume(ecsim_server, vid)
    assert v.status == "in-use" and [a.server_id for a in v.attachments] == [sid]
    cinder = ecsim_server.cinder("3.0").volumes.get(vid)
    assert cinder.status == "in-use" and cinder.attachments[0]["server_id"] == sid
    devices = ecs.list_server_block_devices(ListServerBlockDevicesRequest(server_id=sid))
    by_id = {d.volume_id: d for d in devices.volume_attachments}
    assert by_id[vid].device == "/dev/vdb" and by_id[vid].size == 10 and by_id[vid].boot_index == -1
    assert [d.boot_index for d in devices.volume_attachments].count(0) == 1
    one = ecs.show_server_block_device(ShowServerBlockDeviceRequest(server_id=sid, volume_id=vid))
    assert one.volume_attachment.server_id == sid
    nova_shape = ecs.list_server_volume_attachments(ListServerVolumeAttachmentsRequest(server_id=sid))
    assert {(a.id, a.volume_id, a.server_id, a.device) for a in nova_shape.volume_attachments} == {
        (d.volume_id, d.volume_id, sid, d.device) for d in devices.volume_attachments}

    e = err(lambda: attach(ecsim_server, sid, vid))
    assert (e.status_code, e.error_code) == (400, "Ecs.0057")

    r = ecs.detach_server_volume(DetachServerVolumeRequest(server_id=sid, volume_id=vid))
    assert job(ecs, r.job_id).job_type == "detachVolume"
    assert vid not in attached(ecsim_server, sid)
    assert volume(ecsim_server, vid).status == "available"
    e = err(lambda: ecs.detach_server_volume(DetachServerVolumeRequest(server_id=sid, volume_id=vid)))
    assert (e.status_code, e.error_code) == (400, "Ecs.0111")
    e = err(lambda: ecs.show_server_block_device(ShowServerBlockDeviceRequest(server_id=sid, volume_id=vid)))
    assert (e.status_code, e.error_code) == (400, "Ecs.0111")


def test_attach_refusals(ecsim_server, unique):
    sid = servers(ecsim_server, f"ref-{unique}")[0]
    elsewhere = disk(ecsim_server, f"ref-{unique}", az=ecsim_server.info["region"] + "b")
    e = err(lambda: attach(ecsim_server, sid, elsewhere))
    assert (e.status_code, e.error_code) == (400, "Ecs.0005") and "zone" in e.error_msg
    e = err(lambda: attach(ecsim_server, sid, "0b7c3f0e-0000-4000-8000-000000000000"))
    assert (e.status_code, e.error_code) == (400, "Ecs.0103")
    vid = disk(ecsim_server, f"ref2-{unique}")
    e = err(lambda: attach(ecsim_server, sid, vid, device="/dev/vda"))  # the system disk's device
    assert (e.status_code, e.error_code) == (400, "Ecs.0005")
    e = err(lambda: attach(ecsim_server, sid, vid, device="sdb"))
    assert e.status_code == 400
    other = servers(ecsim_server, f"ref3-{unique}")[0]
    attach(ecsim_server, other, vid, device="/dev/sdc")
    assert attached(ecsim_server, other)[vid] == "/dev/sdc"
    e = err(lambda: attach(ecsim_server, sid, vid))  # not shared, already in use elsewhere
    assert (e.status_code, e.error_code) == (400, "Ecs.0103")
    e = err(lambda: attach(ecsim_server, "0b7c3f0e-0000-4000-8000-000000000001", vid))
    assert (e.status_code, e.error_code) == (404, "Ecs.0114")
    assert vid not in attached(ecsim_server, sid)  # nothing half-done


def test_system_disk_detaches_only_from_a_stopped_server(ecsim_server, unique):
    ecs = ecsim_server.ecs()
    sid = servers(ecsim_server, f"sys-{unique}")[0]
    root = next(v for v, dev in attached(ecsim_server, sid).items() if dev == "/dev/vda")
    e = err(lambda: ecs.detach_server_volume(DetachServerVolumeRequest(server_id=sid, volume_id=root)))
    assert (e.status_code, e.error_code) == (400, "Ecs.0100")
    stop(ecs, [sid])
    ecs.detach_server_volume(DetachServerVolumeRequest(server_id=sid, volume_id=root))
    assert attached(ecsim_server, sid) == {} and volume(ecsim_server, root).status == "available"


def test_shared_disk_on_several_servers_then_batch_detach(ecsim_server, unique):
    ecs = ecsim_server.ecs()
    ids = servers(ecsim_server, f"shr-{unique}", count=3)
    vid = disk(ecsim_server, f"shr-{unique}", shared=True)
    body = BatchAttachSharableVolumesRequestBody(serverinfo=[
        BatchAttachSharableVolumesOption(server_id=ids[0], device="/dev/sdb"),
        BatchAttachSharableVolumesOption(server_id=ids[1])])
    r = ecs.batch_attach_sharable_volumes(BatchAttachSharableVolumesRequest(volume_id=vid, body=body))
    j = job(ecs, r.job_id)
    assert (j.status, j.entities.sub_jobs_total) == ("SUCCESS", 2)
    assert sorted(s.entities.server_id for s in j.entities.sub_jobs) == sorted(ids[:2])
    assert attached(ecsim_server, ids[0])[vid] == "/dev/sdb" and vid in attached(ecsim_server, ids[1])
    v = volume(ecsim_server, vid)
    assert v.status == "in-use" and sorted(a.server_id for a in v.attachments) == sorted(ids[:2])

    # ids[2] does not hold the disk: its sub-job fails with Ecs.0111, the job FAILs, the others detach
    detach = VolumeBatchDetachRequest(serverinfo=[ids[0], ids[2]])
    r = ecs.batch_detach_volumes(BatchDetachVolumesRequest(volume_id=vid, body=detach))
    j = job(ecs, r.job_id)
    assert (j.status, j.error_code) == ("FAIL", "Ecs.0111")
    subs = {s.entities.server_id: s for s in j.entities.sub_jobs}
    assert subs[ids[0]].status == "SUCCESS" and subs[ids[0]].job_type == "detachVolume"
    assert (subs[ids[2]].status, subs[ids[2]].error_code) == ("FAIL", "Ecs.0111")
    assert vid not in attached(ecsim_server, ids[0]) and vid in attached(ecsim_server, ids[1])
    v = volume(ecsim_server, vid)
    assert v.status == "in-use" and [a.server_id for a in v.attachments] == [ids[1]]

    r = ecs.batch_detach_volumes(BatchDetachVolumesRequest(volume_id=vid, body=VolumeBatchDetachRequest(
        serverinfo=[ids[1]])))
    assert job(ecs, r.job_id).status == "SUCCESS" and volume(ecsim_server, vid).status == "available"


def test_batch_attach_refusals_change_nothing(ecsim_server, unique):
    ecs = ecsim_server.ecs()
    ids = servers(ecsim_server, f"bat-{unique}", count=2)
    plain = disk(ecsim_server, f"bat-{unique}")

    def batch(vid: str, sids: list[str]):
        body = BatchAttachSharableVolumesRequestBody(
            serverinfo=[BatchAttachSharableVolumesOption(server_id=s) for s in sids])
        return ecs.batch_attach_sharable_volumes(BatchAttachSharableVolumesRequest(volume_id=vid, body=body))

    e = err(lambda: batch(plain, ids))
    assert (e.status_code, e.error_code) == (400, "Ecs.0005") and "not a shared disk" in e.error_msg
    shared = disk(ecsim_server, f"bat2-{unique}", shared=True)
    far = servers(ecsim_server, f"bat-far-{unique}", az=ecsim_server.info["region"] + "b")[0]
    e = err(lambda: batch(shared, [ids[0], far]))
    assert (e.status_code, e.error_code) == (400, "Ecs.0005")
    e = err(lambda: batch(shared, [ids[0], "0b7c3f0e-0000-4000-8000-000000000002"]))
    assert (e.status_code, e.error_code) == (404, "Ecs.0114")
    assert all(shared not in attached(ecsim_server, s) for s in ids)
    assert volume(ecsim_server, shared).status == "available"


def test_deleting_the_server_releases_an_attached_disk(ecsim_server, unique):
    ecs = ecsim_server.ecs()
    sid = servers(ecsim_server, f"rel-{unique}")[0]
    vid = disk(ecsim_server, f"rel-{unique}")
    attach(ecsim_server, sid, vid)
    ecs.delete_servers(DeleteServersRequest(body=DeleteServersRequestBody(servers=refs([sid]))))
    v = volume(ecsim_server, vid)
    assert v.status == "available" and v.attachments == []


@pytest.mark.parametrize("raw", [
    b'{"volumeAttachment": {}}', b'{"volumeAttachment": {"volumeId": 5}}', b'{"volumeAttachment": "x"}', b"{",
])
def test_attach_bad_bodies(ecsim_server, unique, raw):
    sid = servers(ecsim_server, f"bad-{unique}")[0]
    pid = ecsim_server.info["project_id"]
    status, _, doc = ecsim_server.http("POST", f"/v1/{pid}/cloudservers/{sid}/attachvolume", raw=raw,
                                       token=ecsim_server.token())
    assert status == 400 and doc["error"]["code"] == "Ecs.0005"
    assert attached(ecsim_server, sid).keys() == {next(iter(attached(ecsim_server, sid)))}  # the system disk only


def test_detach_bad_input(ecsim_server, unique):
    pid, token = ecsim_server.info["project_id"], ecsim_server.token()
    vid = disk(ecsim_server, f"bdb-{unique}", shared=True)
    path = f"/v1/{pid}/batchaction/detachvolumes/{vid}"
    for raw in (b'{"serverinfo": [{"server_id": "x"}]}', b'{"serverinfo": []}', b"{}"):
        status, _, doc = ecsim_server.http("POST", path, raw=raw, token=token)
        assert status == 400 and doc["error"]["code"] == "Ecs.0005", raw
    sid = servers(ecsim_server, f"bdb-{unique}")[0]
    status, _, doc = ecsim_server.http("DELETE", f"/v1/{pid}/cloudservers/{sid}/detachvolume/{vid}?delete_flag=2",
                                       token=token)
    assert status == 400 and doc["error"]["code"] == "Ecs.0005"
