"""PostgreSQL as the shared store: several ecsim processes (workers or hosts) on one database, conflicting writes,
and the database dropping its connections."""

from __future__ import annotations

import threading

import psycopg
import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkecs.v2 import (
    DeleteServersRequest,
    DeleteServersRequestBody,
    ListServersDetailsRequest,
    ShowServerRequest,
)

from ecsim.testing.plugin import POSTGRES_URL, postgres_available, postgres_schema
from helpers import create, job, make_user, refs, stop

pytestmark = pytest.mark.skipif(not postgres_available(), reason="PostgreSQL is not reachable")


@pytest.fixture
def pg_url():
    """A fresh schema. Tests name it before `ecsim_launcher`, so that their servers stop (and let go of the
    schema's tables) before it is dropped."""
    with postgres_schema() as url:
        yield url


def test_state_survives_restarts_and_kill_9(pg_url, ecsim_launcher):
    first = ecsim_launcher(["--store", pg_url])
    ecs = first.ecs()
    job_id, ids = create(ecs, first.info, "pg", count=2)
    stop(ecs, ids[:1])
    user = make_user(first, "pg-user", allow=["ecs:cloudServers:list"])
    first.stop(kill=True)
    second = ecsim_launcher(["--store", pg_url])
    assert second.info["access_key"] == first.info["access_key"]
    ecs = second.ecs()
    assert {s.id: s.status for s in ecs.list_servers_details(ListServersDetailsRequest()).servers} == {
        ids[0]: "SHUTOFF", ids[1]: "ACTIVE"}
    assert job(ecs, job_id).status == "SUCCESS"
    assert second.ecs(user["ak"], user["sk"]).list_servers_details(ListServersDetailsRequest()).count == 2


def test_two_processes_share_identity_changes_at_once(pg_url, ecsim_launcher):
    a = ecsim_launcher(["--store", pg_url])
    b = ecsim_launcher(["--store", pg_url])
    assert a.info["project_id"] == b.info["project_id"]
    user = make_user(a, "shared", allow=["ecs:cloudServers:list"])
    via_b = b.ecs(user["ak"], user["sk"])
    via_b.list_servers_details(ListServersDetailsRequest())  # b has the user and its policy cached now
    from huaweicloudsdkiam.v3 import DeletePermanentAccessKeyRequest

    a.iam().delete_permanent_access_key(DeletePermanentAccessKeyRequest(access_key=user["ak"]))
    with pytest.raises(ClientRequestException) as exc:
        via_b.list_servers_details(ListServersDetailsRequest())
    assert exc.value.status_code == 401


def test_shared_clock_and_lazy_jobs_across_processes(pg_url, ecsim_launcher):
    a = ecsim_launcher(["--store", pg_url, "--profile", "realistic"])
    b = ecsim_launcher(["--store", pg_url, "--profile", "realistic"])
    assert a.http("POST", "/_ecsim/clock", {"freeze": True})[0] == 200
    job_id, ids = create(a.ecs(), a.info, "lazy")
    assert job(b.ecs(), job_id).status in ("INIT", "RUNNING")
    assert a.http("POST", "/_ecsim/clock", {"advance": 60})[0] == 200
    assert job(b.ecs(), job_id).status == "SUCCESS"
    assert b.ecs().show_server(ShowServerRequest(server_id=ids[0])).server.status == "ACTIVE"


def test_conflicting_concurrent_requests_lose_no_update(pg_url, ecsim_launcher):
    """Stop and delete race on the same servers from two processes: each request either applies fully or is
    refused with the real error, and the final state is one a serial order would give."""
    a = ecsim_launcher(["--store", pg_url])
    b = ecsim_launcher(["--store", pg_url])
    _, ids = create(a.ecs(), a.info, "race", count=20)
    results: dict[str, object] = {}

    def stopper():
        try:
            results["stop"] = stop(a.ecs(), ids)
        except ClientRequestException as exc:
            results["stop"] = exc

    def deleter():
        try:
            body = DeleteServersRequestBody(servers=refs(ids))
            results["delete"] = b.ecs().delete_servers(DeleteServersRequest(body=body)).job_id
        except ClientRequestException as exc:
            results["delete"] = exc

    threads = [threading.Thread(target=stopper), threading.Thread(target=deleter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert isinstance(results["delete"], str), results["delete"]  # delete is allowed in any state
    remaining = a.ecs().list_servers_details(ListServersDetailsRequest(name="race")).count
    assert remaining == 0
    stop_result = results["stop"]
    if isinstance(stop_result, ClientRequestException):  # ran after the delete: the servers were gone
        assert stop_result.status_code == 404 and stop_result.error_code == "Ecs.0114"
    else:  # ran first: its job succeeded for every server
        assert job(a.ecs(), stop_result).status == "SUCCESS"


def _kill_connections(server) -> int:
    schema = server.args[server.args.index("--store") + 1].split("schema=")[1]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                            (f"ecsim:{schema}",)).fetchall()
    return len(rows)


def test_database_dropping_connections_gives_503_then_recovers(pg_url, ecsim_launcher):
    server = ecsim_launcher(["--store", pg_url])
    ecs = server.ecs()
    _, ids = create(ecs, server.info, "before")  # acknowledged before the outage
    assert _kill_connections(server) >= 1
    status, _, body = server.http("GET", "/_ecsim/health")
    assert status == 503 and "PostgreSQL is unavailable" in body["error"]["message"]
    assert server.http("GET", "/_ecsim/health")[0] == 200  # the pool reconnected by itself
    assert ecs.show_server(ShowServerRequest(server_id=ids[0])).server.status == "ACTIVE"
    create(ecs, server.info, "after")
    assert ecs.list_servers_details(ListServersDetailsRequest()).count == 2


def _pg_ctl() -> list[str] | None:
    import os
    import shutil

    if shutil.which("pg_ctlcluster") is None or os.geteuid() != 0 or not os.path.isdir("/etc/postgresql"):
        return None
    versions = sorted(os.listdir("/etc/postgresql"))
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart"] if versions else None


@pytest.mark.skipif(_pg_ctl() is None, reason="needs root and pg_ctlcluster to restart the local PostgreSQL")
def test_postgresql_restart_mid_load(pg_url, ecsim_launcher):
    """Requests during the restart get a fast 503 (never a hang), acknowledged writes survive, and service resumes
    by itself."""
    import subprocess
    import time

    server = ecsim_launcher(["--store", pg_url])
    ecs = server.ecs()
    _, ids = create(ecs, server.info, "ack", count=3)
    stop(ecs, ids)
    token = server.token()
    path = f"/v1/{server.info['project_id']}/cloudservers/{ids[0]}"
    seen: list[tuple[int, float]] = []
    done = threading.Event()

    def load() -> None:
        while not done.is_set():
            t0 = time.perf_counter()
            status, _, _ = server.http("GET", path, token=token, timeout=15)
            seen.append((status, time.perf_counter() - t0))

    worker = threading.Thread(target=load)
    worker.start()
    time.sleep(0.5)
    subprocess.run(_pg_ctl(), check=True, capture_output=True, timeout=60)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not seen or seen[-1][0] != 200):
        time.sleep(0.1)
    time.sleep(0.5)
    done.set()
    worker.join(20)
    assert {s for s, _ in seen} <= {200, 503}
    assert max(d for _, d in seen) < 5  # fail fast, never hang
    assert seen[-1][0] == 200
    assert {s.status for s in ecs.list_servers_details(ListServersDetailsRequest()).servers} == {"SHUTOFF"}
