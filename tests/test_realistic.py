"""The realistic profile: real durations and intermediate states, computed lazily from timestamps and moved with
the control-plane clock (no sleeping, no background threads)."""

from __future__ import annotations

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkecs.v2 import (
    BatchRebootServersRequest,
    BatchRebootServersRequestBody,
    BatchRebootSeversOption,
    ListServersDetailsRequest,
    ServerId,
    ShowServerRequest,
)

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


def test_finished_jobs_are_forgotten_after_a_day(slow):
    ecs = slow.ecs()
    job_id, _ = create(ecs, slow.info, "old-job")
    advance(slow, 60)
    assert job(ecs, job_id).status == "SUCCESS"
    advance(slow, 24 * 3600)
    with pytest.raises(ClientRequestException) as exc:
        job(ecs, job_id)
    assert exc.value.error_code == "Common.0011"
