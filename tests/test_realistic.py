"""The realistic profile: real durations and intermediate states, computed lazily from timestamps and moved with
the control-plane clock (no sleeping, no background threads)."""

from __future__ import annotations

import uuid

import pytest
from cinderclient import exceptions as cex
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkecs.v2 import (
    BatchRebootServersRequest,
    BatchRebootServersRequestBody,
    BatchRebootSeversOption,
    ListServersDetailsRequest,
    ServerId,
    ShowServerRequest,
)
from huaweicloudsdkevs.v2 import CreateVolumeOption, CreateVolumeRequest, CreateVolumeRequestBody, ShowJobRequest
from huaweicloudsdkims.v2 import ListImagesRequest

from helpers import create, job, start, stop


@pytest.fixture(scope="module")
def slow(ecsim_workdir):
    from ecsim.testing.plugin import EcsimServer

    server = EcsimServer(["--memory", "--profile", "realistic"], ecsim_workdir, env={"HOME": ecsim_workdir})
    assert server.http("POST", "/_ecsim/clock", {"freeze": True})[0] == 200
    yield server
    server.stop()


def advance(server, seconds: float) -> None:
    assert server.http("POST", "/_ecsim/clock", {"advance": seconds})[0] == 200


def show(server, sid):
    return server.ecs().show_server(ShowServerRequest(server_id=sid)).server


def test_create_goes_through_build_states(slow):
    ecs = slow.ecs()
    job_id, ids = create(ecs, slow.info, "build")
    j = job(ecs, job_id)
    assert j.status == "INIT" and j.end_time == "" and j.error_code is None
    _, _, raw = slow.http("GET", f"/v1/{slow.info['project_id']}/jobs/{job_id}", token=slow.token())
    assert (raw["end_time"], raw["error_code"], raw["fail_reason"]) == ("", None, None)  # present, null
    s = show(slow, ids[0])
    assert (s.status, s.os_ext_st_stask_state, s.os_ext_st_spower_state) == ("BUILD", "scheduling", 0)
    assert s.addresses == {}
    advance(slow, 3)
    assert job(ecs, job_id).status == "RUNNING"
    assert show(slow, ids[0]).os_ext_st_stask_state == "networking"
    # a server still building cannot be stopped
    with pytest.raises(ClientRequestException) as exc:
        stop(ecs, ids)
    assert exc.value.error_code == "Ecs.0100"
    advance(slow, 30)
    s = show(slow, ids[0])
    assert (s.status, s.os_ext_st_stask_state, s.os_ext_st_spower_state) == ("ACTIVE", None, 1)
    assert s.os_srv_us_glaunched_at
    j = job(ecs, job_id)
    assert j.status == "SUCCESS" and j.end_time.endswith("Z") and j.entities.sub_jobs[0].status == "SUCCESS"


def test_stop_start_reboot_show_intermediate_states(slow):
    ecs = slow.ecs()
    _, ids = create(ecs, slow.info, "states")
    advance(slow, 30)
    job_id = stop(ecs, ids)
    s = show(slow, ids[0])
    assert (s.status, s.os_ext_st_stask_state) == ("ACTIVE", "powering-off")
    advance(slow, 2)
    assert job(ecs, job_id).status == "RUNNING"
    # the listed status follows the clock too (lists settle due transitions first)
    advance(slow, 10)
    listed = ecs.list_servers_details(ListServersDetailsRequest(status="SHUTOFF", name="states")).servers
    assert [x.id for x in listed] == ids
    assert job(ecs, job_id).status == "SUCCESS"
    start(ecs, ids)
    assert show(slow, ids[0]).os_ext_st_stask_state == "powering-on"
    advance(slow, 10)
    body = BatchRebootServersRequestBody(reboot=BatchRebootSeversOption(servers=[ServerId(id=ids[0])], type="HARD"))
    ecs.batch_reboot_servers(BatchRebootServersRequest(body=body))
    assert show(slow, ids[0]).status == "HARD_REBOOT"
    advance(slow, 10)
    assert show(slow, ids[0]).status == "ACTIVE"


def test_hard_reboot_interrupts_a_soft_one(slow):
    """Nova lets a HARD reboot replace a reboot in flight (task_states.ALLOW_REBOOT), a SOFT one needs no task."""
    from novaclient import exceptions as nex

    _, (sid,) = create(slow.ecs(), slow.info, "hung")
    advance(slow, 30)
    nova = slow.nova("2.1")
    nova.servers.reboot(sid, reboot_type="SOFT")
    assert show(slow, sid).status == "REBOOT"
    with pytest.raises(nex.Conflict):
        nova.servers.reboot(sid, reboot_type="SOFT")
    nova.servers.reboot(sid, reboot_type="HARD")
    assert (show(slow, sid).status, show(slow, sid).os_ext_st_stask_state) == ("HARD_REBOOT", "rebooting_hard")
    nova.servers.reboot(sid, reboot_type="HARD")  # again, from HARD_REBOOT
    advance(slow, 10)
    assert show(slow, sid).status == "ACTIVE"


def test_delete_takes_time_then_the_server_is_gone(slow):
    from huaweicloudsdkecs.v2 import DeleteServersRequest, DeleteServersRequestBody

    from helpers import refs

    ecs = slow.ecs()
    _, ids = create(ecs, slow.info, "gone")
    advance(slow, 30)
    job_id = ecs.delete_servers(DeleteServersRequest(body=DeleteServersRequestBody(servers=refs(ids)))).job_id
    assert show(slow, ids[0]).os_ext_st_stask_state == "deleting"
    advance(slow, 20)
    assert job(ecs, job_id).status == "SUCCESS"
    with pytest.raises(ClientRequestException) as exc:
        show(slow, ids[0])
    assert exc.value.status_code == 404


def test_deleting_a_server_in_build_releases_its_disks_for_good(slow):
    """The deletion overrides the disks' attaching: the data disk ends available (kept), the system disk deleted,
    and neither comes back attached when the create's schedule would have finished."""
    from huaweicloudsdkecs.v2 import DeleteServersRequest, DeleteServersRequestBody
    from huaweicloudsdkevs.v2 import ShowVolumeRequest

    from helpers import refs

    ecs, evs = slow.ecs(), slow.evs()
    _, ids = create(ecs, slow.info, "early-gone", data_volumes=[10])
    advance(slow, 6)  # BUILD, the disks attaching
    disks = [v.id for v in show(slow, ids[0]).os_extended_volumesvolumes_attached]
    ecs.delete_servers(DeleteServersRequest(body=DeleteServersRequestBody(servers=refs(ids), delete_volume=False)))
    advance(slow, 60)  # past the create's end too
    left = []
    for vid in disks:
        try:
            left.append(evs.show_volume(ShowVolumeRequest(volume_id=vid)).volume)
        except ClientRequestException as exc:
            assert exc.status_code == 404  # the system disk goes with its server
    assert [(v.status, v.attachments) for v in left] == [("available", [])]


def test_finished_jobs_are_forgotten_after_a_day(slow):
    ecs = slow.ecs()
    job_id, _ = create(ecs, slow.info, "old-job")
    advance(slow, 60)
    assert job(ecs, job_id).status == "SUCCESS"
    advance(slow, 24 * 3600)
    with pytest.raises(ClientRequestException) as exc:
        job(ecs, job_id)
    assert exc.value.error_code == "Common.0011"


def vstatus(cinder, vid) -> str:
    return cinder.volumes.get(vid).status


def test_volume_states_move_with_the_clock(slow):
    cinder = slow.cinder("3.42")
    v = cinder.volumes.create(1)
    assert vstatus(cinder, v.id) == "creating"
    with pytest.raises(cex.BadRequest):  # nothing else while creating
        cinder.volumes.extend(v, 2)
    advance(slow, 3)
    assert vstatus(cinder, v.id) == "available"
    cinder.volumes.reserve(v)
    assert vstatus(cinder, v.id) == "attaching"
    cinder.volumes.attach(v, str(uuid.uuid4()), "/dev/vdb")
    assert vstatus(cinder, v.id) == "attaching"
    advance(slow, 2)
    assert vstatus(cinder, v.id) == "in-use"
    cinder.volumes.extend(v, 2)
    got = cinder.volumes.get(v.id)
    assert (got.status, got.size) == ("extending", 1)
    advance(slow, 5)
    got = cinder.volumes.get(v.id)
    assert (got.status, got.size) == ("in-use", 2)
    cinder.volumes.detach(v)
    assert vstatus(cinder, v.id) == "detaching"
    advance(slow, 2)
    assert vstatus(cinder, v.id) == "available"
    cinder.volumes.upload_to_image(v, False, "slow-img", "bare", "raw", "private", False)
    assert vstatus(cinder, v.id) == "uploading"
    assert slow.ims().list_images(ListImagesRequest(name="slow-img")).images[0].status == "queued"
    advance(slow, 10)
    assert vstatus(cinder, v.id) == "available"
    assert slow.ims().list_images(ListImagesRequest(name="slow-img")).images[0].status == "active"
    cinder.volumes.delete(v)
    assert vstatus(cinder, v.id) == "deleting"
    advance(slow, 3)
    with pytest.raises(cex.NotFound):
        cinder.volumes.get(v.id)


def test_evs_job_runs_until_the_volume_settles(slow):
    evs = slow.evs()
    r = evs.create_volume(CreateVolumeRequest(body=CreateVolumeRequestBody(volume=CreateVolumeOption(
        availability_zone=slow.info["region"] + "a", volume_type="SSD", size=10))))
    assert evs.show_job(ShowJobRequest(job_id=r.job_id)).status == "INIT"
    advance(slow, 1.5)
    assert evs.show_job(ShowJobRequest(job_id=r.job_id)).status == "RUNNING"
    advance(slow, 2)
    assert evs.show_job(ShowJobRequest(job_id=r.job_id)).status == "SUCCESS"
