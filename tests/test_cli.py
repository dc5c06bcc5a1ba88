"""The `ecsim` command: coverage, argument checks, and serve options (custom catalogs, fixed credentials)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from click.testing import CliRunner
from huaweicloudsdkecs.v2 import ListFlavorsRequest
from huaweicloudsdkevs.v2 import CreateVolumeOption, CreateVolumeRequest, CreateVolumeRequestBody, ListVolumesRequest

from ecsim.cli import main


def test_coverage_lists_seed_rows_and_what_is_served():
    result = CliRunner().invoke(main, ["coverage", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.output)
    stop = next(r for r in rows if r["selector"] == "os-stop" and r["family"] == "ecs")
    assert stop["served"] and stop["actions"] == ["ecs:cloudServers:stop"] and stop["source"] == "seed:000"
    resize = next(r for r in rows if r["selector"] == "resize" and r["path"].startswith("/v2.1/"))
    assert resize["served"] and len(resize["dependencies"]) == 14
    table = CliRunner().invoke(main, ["coverage"])
    assert table.exit_code == 0 and "seed rows" in table.output


def test_serve_rejects_inconsistent_options(tmp_path):
    r = CliRunner().invoke(main, ["serve", "--access-key", "AK"])
    assert r.exit_code == 2 and "--secret-key" in r.output
    r = CliRunner().invoke(main, ["serve", "--memory", "--workers", "2"])
    assert r.exit_code == 2
    r = CliRunner().invoke(main, ["serve", "--memory", "--quota", "instances"])
    assert r.exit_code == 2 and "NAME=NUMBER" in r.output
    bad = tmp_path / "flavors.json"
    bad.write_text('[{"id": "x"}]')
    r = CliRunner().invoke(main, ["serve", "--memory", "--flavors", str(bad)])
    assert r.exit_code == 1 and "cannot load flavors" in r.output


def test_workers_each_listen_on_the_port(ecsim_launcher, tmp_path):
    """--workers 2: each worker has a socket of its own on the port, so new connections spread over both (on one
    shared socket a burst could all land on one); both see one store; a stop, or the supervisor's kill -9, ends
    them; a port something already serves on is refused."""
    server = ecsim_launcher(["--data-dir", str(tmp_path / "data"), "--workers", "2"])
    pids = [server.http("GET", "/_ecsim/health")[2]["pid"] for _ in range(24)]  # a connection each
    assert len(set(pids)) == 2 and server.proc.pid not in pids
    made = [server.evs().create_volume(CreateVolumeRequest(body=CreateVolumeRequestBody(volume=CreateVolumeOption(
        availability_zone=server.info["region"] + "a", volume_type="SSD", size=10, name=f"w-{i}")))).volume_ids[0]
        for i in range(6)]
    listed = server.evs().list_volumes(ListVolumesRequest(limit=100)).volumes
    assert {v.id for v in listed} >= set(made)
    for workers in ("2", "1"):  # refused before anything is created or written
        again = subprocess.run([sys.executable, "-m", "ecsim", "serve", "--port", str(server.port), "--workers",
                                workers, "--data-dir", str(tmp_path / "other"), "--quiet", "--credentials-file",
                                str(tmp_path / "creds.json")], capture_output=True, text=True, timeout=60)
        assert again.returncode == 1 and "address already in use" in again.stderr
        assert not (tmp_path / "other").exists() and not (tmp_path / "creds.json").exists()
    workers = set(pids)
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait()
    def running(pid: int) -> bool:  # a zombie has ended
        try:
            with open(f"/proc/{pid}/stat") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 10
    while any(running(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(running(p) for p in workers)  # no orphan keeps the port


def test_workers_restarted_on_a_file_see_the_first_change(ecsim_launcher, tmp_path):
    """A restart rewrites the same bootstrap row (SQLite skips the identical write): every worker still sees the
    first change another one commits — here the clock, a single commit — on its next request."""
    data = str(tmp_path / "data")
    first = ecsim_launcher(["--data-dir", data])
    assert first.http("POST", "/_ecsim/clock", {"freeze": True})[0] == 200
    first.stop()
    server = ecsim_launcher(["--data-dir", data, "--workers", "2"])
    _, _, moved = server.http("POST", "/_ecsim/clock", {"advance": 3600})
    seen = {server.http("GET", "/_ecsim/clock")[2]["now"] for _ in range(12)}  # a connection each: both workers
    assert seen == {moved["now"]}


def test_custom_flavors_images_and_fixed_credentials_from_env(ecsim_launcher, tmp_path):
    flavors = tmp_path / "flavors.json"
    flavors.write_text(json.dumps([{"id": "x1.tiny.1", "vcpus": 1, "ram": 512},
                                   {"id": "x1.big.4", "vcpus": 8, "ram": 32768, "status": "sellout"}]))
    images = tmp_path / "images.json"
    images.write_text(json.dumps([{"id": "11111111-2222-3333-4444-555555555555", "name": "Corp Linux 1",
                                   "os_version": "Corp Linux 1 64bit", "platform": "Other", "os_type": "Linux"}]))
    env = {"ECSIM_ACCESS_KEY": "FIXEDAKFIXEDAKFIXED1", "ECSIM_SECRET_KEY": "fixed-secret-key-0123456789",
           "ECSIM_ADMIN_PASSWORD": "Fixed-Passw0rd", "ECSIM_REGION": "ap-southeast-1"}
    server = ecsim_launcher(["--memory", "--flavors", str(flavors), "--images", str(images)], env=env)
    info = server.info
    assert (info["access_key"], info["region"], info["admin_password"]) == (env["ECSIM_ACCESS_KEY"],
                                                                           "ap-southeast-1", "Fixed-Passw0rd")
    assert info["image_id"] == "11111111-2222-3333-4444-555555555555"
    ecs = server.ecs()
    assert [f.id for f in ecs.list_flavors(ListFlavorsRequest()).flavors] == ["x1.big.4", "x1.tiny.1"]
    assert [f.id for f in ecs.list_flavors(ListFlavorsRequest(availability_zone="ap-southeast-1a")).flavors] == [
        "x1.tiny.1"]
    from helpers import create

    _, ids = create(ecs, info, "custom", flavor_ref="x1.tiny.1")
    assert ids
    server.token("admin", "Fixed-Passw0rd")
