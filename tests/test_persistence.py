"""State survives restarts: servers, jobs, users, policies and keys; an acknowledged write survives kill -9; jobs
that were running when the server died finish correctly afterwards (they are computed from timestamps)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkecs.v2 import ListServersDetailsRequest, ShowServerRequest

from helpers import create, job, make_user, stop


def test_everything_survives_a_restart(ecsim_launcher, tmp_path):
    data = str(tmp_path / "data")
    first = ecsim_launcher(["--data-dir", data])
    ecs = first.ecs()
    job_id, ids = create(ecs, first.info, "persist", count=2)
    stop(ecs, ids[:1])
    user = make_user(first, "persisted-user", allow=["ecs:cloudServers:list"])
    token = first.token()
    first.stop()

    second = ecsim_launcher(["--data-dir", data])
    assert second.info["access_key"] == first.info["access_key"]
    assert second.info["project_id"] == first.info["project_id"]
    ecs = second.ecs()
    assert {s.id: s.status for s in ecs.list_servers_details(ListServersDetailsRequest()).servers} == {
        ids[0]: "SHUTOFF", ids[1]: "ACTIVE"}
    assert job(ecs, job_id).status == "SUCCESS"
    # the user's key and policy are still in force, and old tokens still verify
    mine = second.ecs(user["ak"], user["sk"])
    assert mine.list_servers_details(ListServersDetailsRequest()).count == 2
    try:
        mine.show_server(ShowServerRequest(server_id=ids[0]))
        raise AssertionError("the restricted user must not be allowed to show servers")
    except ClientRequestException as exc:
        assert exc.status_code == 403
    assert second.http("GET", f"/v1/{second.info['project_id']}/cloudservers/detail", token=token)[0] == 200


def test_acknowledged_writes_survive_kill_9(ecsim_launcher, tmp_path):
    data = str(tmp_path / "data")
    first = ecsim_launcher(["--data-dir", data])
    ecs = first.ecs()
    _, ids = create(ecs, first.info, "crash", count=3)
    stop(ecs, ids)
    cinder = first.cinder("3.42")
    vol = cinder.volumes.create(2, name="crash-vol", metadata={"k": "v"})
    cinder.volumes.extend(vol, 5)
    cinder.volumes.reserve(vol)
    first.stop(kill=True)
    second = ecsim_launcher(["--data-dir", data])
    statuses = {s.status for s in second.ecs().list_servers_details(ListServersDetailsRequest()).servers}
    assert statuses == {"SHUTOFF"}
    got = second.cinder("3.0").volumes.get(vol.id)
    assert (got.size, got.status, got.metadata) == (5, "attaching", {"k": "v"})
    usage = second.cinder("3.0").quotas.get(second.info["project_id"], usage=True)
    assert usage.gigabytes["in_use"] == 5 + 3 * 40  # the volume and the servers' system disks


def test_concurrent_writes_each_stand_or_fall_alone_and_survive_kill_9(ecsim_launcher, tmp_path):
    """Requests handled together share one commit (group commit), each in a savepoint: two clients racing to stop
    the same server get one success and one conflict, a refused request undoes nothing of the others, and every
    acknowledged change is on disk before its response (kill -9 right after)."""
    data = str(tmp_path / "data")
    first = ecsim_launcher(["--data-dir", data])
    _, ids = create(first.ecs(), first.info, "race", count=6)
    clients = [first.ecs() for _ in range(12)]

    def stop_one(n: int) -> int:
        try:
            stop(clients[n], [ids[n % 6]])
            return 200
        except ClientRequestException as exc:
            assert exc.error_code == "Ecs.0100", exc.error_msg  # the status does not meet requirements
            return exc.status_code

    with ThreadPoolExecutor(12) as pool:
        outcomes = list(pool.map(stop_one, range(12)))
    assert sorted(outcomes) == [200] * 6 + [400] * 6
    for n in range(6):  # each server: exactly one of its two stops won
        assert sorted((outcomes[n], outcomes[n + 6])) == [200, 400]
    first.stop(kill=True)
    second = ecsim_launcher(["--data-dir", data])
    servers = second.ecs().list_servers_details(ListServersDetailsRequest()).servers
    assert {s.id: s.status for s in servers} == dict.fromkeys(ids, "SHUTOFF")


def test_running_jobs_finish_after_a_crash(ecsim_launcher, tmp_path):
    data = str(tmp_path / "data")
    args = ["--data-dir", data, "--profile", "realistic"]
    first = ecsim_launcher(args)
    assert first.http("POST", "/_ecsim/clock", {"freeze": True})[0] == 200
    job_id, ids = create(first.ecs(), first.info, "slow")
    first.http("POST", "/_ecsim/clock", {"advance": 3})
    assert job(first.ecs(), job_id).status == "RUNNING"
    first.stop(kill=True)

    second = ecsim_launcher(args)
    ecs = second.ecs()
    assert job(ecs, job_id).status == "RUNNING"  # the frozen clock came back with the data
    assert ecs.show_server(ShowServerRequest(server_id=ids[0])).server.status == "BUILD"
    second.http("POST", "/_ecsim/clock", {"advance": 60})
    assert job(ecs, job_id).status == "SUCCESS"
    assert ecs.show_server(ShowServerRequest(server_id=ids[0])).server.status == "ACTIVE"


def test_two_processes_on_one_data_dir_share_changes_and_the_log(ecsim_launcher, tmp_path):
    """Two processes on one SQLite file (workers, or a second `ecsim serve`): an identity change made through one
    is in force in the other at its next request, and each one's decisions reach the shared log (within its flush
    interval)."""
    from huaweicloudsdkiam.v3 import DeletePermanentAccessKeyRequest

    data = str(tmp_path / "data")
    a = ecsim_launcher(["--data-dir", data])
    b = ecsim_launcher(["--data-dir", data])
    user = make_user(a, "shared", allow=["ecs:cloudServers:list"])
    via_b = b.ecs(user["ak"], user["sk"])
    assert via_b.list_servers_details(ListServersDetailsRequest()).count == 0  # b holds the user in its caches
    a.iam().delete_permanent_access_key(DeletePermanentAccessKeyRequest(access_key=user["ak"]))
    try:
        via_b.list_servers_details(ListServersDetailsRequest())
        raise AssertionError("a deleted key must be refused at once by the other process")
    except ClientRequestException as exc:
        assert exc.status_code == 401
    deadline, ops = time.monotonic() + 5, []
    while not ops and time.monotonic() < deadline:  # b writes its log every 100 ms
        ops = [d["operation"] for d in a.http("GET", "/_ecsim/decisions?user=shared&limit=10")[2]["decisions"]]
        time.sleep(0.05)
    assert ops == ["ecs.list_servers_details"]
