"""ecsim benchmark: wrk against running servers, every figure measured in the same run as its baseline.

    python bench/run.py [--targets ceiling,sqlite,memory,postgres,postgres-2w,moto] [--servers 100000]
                        [--duration 10] [--conns 1,8] [--out docs/benchmarks.md]

Targets: a trivial ASGI app on the same server stack (the ceiling); ecsim with one worker on a SQLite file, in
memory and on PostgreSQL, and with two workers on PostgreSQL, each holding --servers servers (bulk-loaded with
`--seed-servers`); moto_server (the best-known AWS emulator) when it is installed (`pip install 'moto[server]'`),
doing the analogous EC2 calls. Scenarios, each at every connection count:
  token-show   GET one server with X-Auth-Token                       (moto: DescribeInstances of one instance)
  signed-show  the same request with an AK/SK signature, signed once and replayed inside the 15-minute window
  list-100     a page of 100 servers (GET /v1.1/{project_id}/cloudservers/detail?limit=100)
  batch-10     batch stop / start of 10 servers, alternating; every request a real state change with its job
                                                                      (moto: StopInstances / StartInstances of 10)
  volume-show  GET one volume through Cinder v3 (/volume/v3/{project_id}/volumes/{id}, microversion 3.71)
  volume-act   Cinder os-reserve / os-unreserve on 80 volumes, alternating: every request a real state change
  nova-show    GET one server through Nova v2.1 (/compute/v2.1/{project_id}/servers/{id}, microversion 2.79)
  nova-act     Nova lock / unlock on 80 servers, alternating (each a write with its lock check)
  policy-show  signed-show by a user (not the admin) whose group holds 50 statements in 7 custom policies; the
               Allow that decides carries a Condition and a resource-scoped Deny names another server, so every
               request evaluates conditions and computes the server's URN (no cached decision)
The table gives req/s, p50, p99, errors, the ratio to the ceiling, and each server's resident memory afterwards.
Needs wrk (`apt-get install wrk`); PostgreSQL targets need ECSIM_TEST_POSTGRES or a local server.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from ecsim.testing.plugin import POSTGRES_URL, EcsimServer, free_port, postgres_schema  # noqa: E402
from policies import fifty_statement_user  # noqa: E402

AK, SK = "BENCHAKBENCHAKBENCH1", "benchskbenchskbenchskbenchskbenchskbench"
SCENARIOS = ("token-show", "signed-show", "list-100", "batch-10", "volume-show", "volume-act", "nova-show",
             "nova-act", "policy-show")


@dataclass
class Result:
    target: str
    scenario: str
    conns: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class Target:
    name: str
    rss_mb: float = 0.0
    startup_s: float = 0.0
    results: list[Result] = field(default_factory=list)


def lua_string(s: str) -> str:
    # JSON string escapes (\" \\ \n) are valid Lua escapes for the ASCII text used here.
    return json.dumps(s)


def to_ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, conns: int, duration: int, script: str | None) -> tuple[float, float, float, int]:
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--latency", url]
    if script:
        cmd[1:1] = ["-s", script]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    out = proc.stdout
    if proc.stderr.strip():
        print(proc.stderr.strip(), file=sys.stderr)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = int(non2xx.group(1)) if non2xx else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errs += sum(int(x) for x in sock.groups())
    return rps, to_ms(lat["50"]), to_ms(lat["99"]), errs


def request_script(path: Path, headers: dict[str, str], method: str = "GET", body: str | None = None) -> str:
    lines = [f"wrk.method = {lua_string(method)}"]
    lines += [f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()]
    if body is not None:
        lines.append(f"wrk.body = {lua_string(body)}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def alternating_script(path: Path, headers: dict[str, str], first: list[str], second: list[str],
                       paths: list[str] | None = None) -> str:
    """Request k acts on group k % G (at paths[g] when given); a group's visits alternate first, second. With
    G > connections no two in-flight requests touch the same resources, so every request is a valid state change."""
    groups = len(first)
    header_lines = "\n".join(f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
    path.write_text(textwrap.dedent("""
        local first = { %s }
        local second = { %s }
        local paths = { %s }
        local k = -1  -- wrk calls request() once, unsent, to verify the script
        wrk.method = "POST"
        %s
        local reported = false
        response = function(status, headers, body)
            if status >= 300 and not reported then
                reported = true
                io.stderr:write("first failure: " .. status .. " " .. body .. string.char(10))
            end
        end
        request = function()
            local g = k %% %d
            local visit = math.floor(k / %d)
            k = k + 1
            local body = (visit %% 2 == 0) and first[g + 1] or second[g + 1]
            return wrk.format(nil, paths[g + 1], nil, body)
        end
    """) % (",\n".join(lua_string(b) for b in first), ",\n".join(lua_string(b) for b in second),
            ",\n".join(lua_string(p) for p in paths or []), header_lines, groups, groups))
    return str(path)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and everything in its process group (uvicorn workers)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            pgrp = int(stat.rsplit(")", 1)[1].split()[2])
            if pgrp != pid:
                continue
            for line in Path(f"/proc/{entry}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1024


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if subprocess.run(["curl", "-s", "-o", "/dev/null", url], check=False).returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


# -- targets ------------------------------------------------------------------------------------------------------
def run_ceiling(args: argparse.Namespace, work: Path) -> Target:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "ceiling:app", "--port", str(port), "--log-level",
                             "warning", "--no-access-log", "--no-proxy-headers"], cwd=ROOT / "bench",
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    target = Target("ceiling (trivial ASGI app)")
    try:
        wait_http(url)
        for c in args.conns:
            rps, p50, p99, errs = wrk(url, c, args.duration, None)
            target.results.append(Result(target.name, "-", c, rps, p50, p99, errs))
    finally:
        proc.terminate()
        proc.wait()
    return target


def run_ecsim(name: str, store_args: list[str], args: argparse.Namespace, work: Path, seed: bool = True) -> Target:
    t0 = time.monotonic()
    extra = ["--seed-servers", str(args.servers), "--seed-volumes", str(args.servers)] if seed and args.servers \
        else []
    server = EcsimServer([*store_args, "--access-key", AK, "--secret-key", SK, *extra,
                          "--quota", f"instances={args.servers + 2000}", "--quota", "cores=100000000",
                          "--quota", "ram=100000000000"], str(work), env={"HOME": str(work)}, start_timeout=900)
    target = Target(name, startup_s=time.monotonic() - t0)
    try:
        info = server.info
        pid = info["project_id"]
        token = server.token()
        if args.servers == 0:  # nothing seeded: create what the scenarios need through the API
            from helpers import create

            for i in range(8):
                create(server.ecs(), info, f"bench-{i}", count=100)
        ids: list[str] = []
        marker = ""
        while len(ids) < 800:
            _, _, body = server.http("GET", f"/v1.1/{pid}/cloudservers/detail?limit=100{marker}", token=token)
            ids += [s["id"] for s in body["servers"]]
            marker = f"&marker={ids[-1]}"
        show = f"/v1/{pid}/cloudservers/{ids[0]}"
        cinder = f"/volume/v3/{pid}/volumes"
        nova = f"/compute/v2.1/{pid}"
        for i in range(80 if args.servers == 0 else 0):
            server.http("POST", cinder, {"volume": {"size": 1, "name": f"bench-{i}"}}, token=token)
        page = server.http("GET", f"{cinder}?status=available&limit=80", token=token)[2]
        volumes = [v["id"] for v in page["volumes"]]
        from helpers import signed_headers

        groups = [ids[i:i + 10] for i in range(0, 800, 10)]
        policy_user = fifty_statement_user(lambda m, p, b=None: server.http(m, p, b, token=token)[2], info,
                                           other_server=ids[1]) if "policy-show" in args.scenarios else {}
        scripts = {
            "token-show": request_script(work / "token.lua", {"X-Auth-Token": token}),
            "signed-show": request_script(work / "signed.lua", signed_headers(server, "GET", show)),
            "list-100": request_script(work / "list.lua", {"X-Auth-Token": token}),
            "batch-10": alternating_script(
                work / "batch.lua", {"X-Auth-Token": token, "Content-Type": "application/json"},
                [json.dumps({"os-stop": {"type": "HARD", "servers": [{"id": i} for i in g]}}) for g in groups],
                [json.dumps({"os-start": {"servers": [{"id": i} for i in g]}}) for g in groups]),
            "volume-show": request_script(work / "vshow.lua", {"X-Auth-Token": token,
                                                                "OpenStack-API-Version": "volume 3.71"}),
            "volume-act": alternating_script(
                work / "vact.lua", {"X-Auth-Token": token, "Content-Type": "application/json"},
                ['{"os-reserve": null}'] * len(volumes), ['{"os-unreserve": null}'] * len(volumes),
                [f"{cinder}/{v}/action" for v in volumes]),
            "policy-show": request_script(work / "policy.lua", signed_headers(
                server, "GET", show, ak=policy_user.get("ak"), sk=policy_user.get("sk"))),
            "nova-show": request_script(work / "nshow.lua", {"X-Auth-Token": token,
                                                              "X-OpenStack-Nova-API-Version": "2.79"}),
            "nova-act": alternating_script(
                work / "nact.lua", {"X-Auth-Token": token, "Content-Type": "application/json",
                                    "X-OpenStack-Nova-API-Version": "2.79"},
                ['{"lock": null}'] * 80, ['{"unlock": null}'] * 80,
                [f"{nova}/servers/{i}/action" for i in ids[:80]]),
        }
        urls = {"token-show": server.endpoint + show, "signed-show": server.endpoint + show,
                "policy-show": server.endpoint + show,
                "nova-show": f"{server.endpoint}{nova}/servers/{ids[0]}",
                "nova-act": f"{server.endpoint}{nova}/servers/{ids[0]}/action",
                "list-100": f"{server.endpoint}/v1.1/{pid}/cloudservers/detail?limit=100",
                "batch-10": f"{server.endpoint}/v1/{pid}/cloudservers/action",
                "volume-show": f"{server.endpoint}{cinder}/{volumes[0]}",
                "volume-act": f"{server.endpoint}{cinder}/{volumes[0]}/action"}
        # Warm up (discarded): right after a bulk load, PostgreSQL's first reads of each page still set hint bits
        # and fill its caches, which would count against whichever target is measured first. And the bulk load's
        # 2 GB still being written back to disk would slow the first fsyncs of whatever is measured next.
        os.sync()
        for scenario in ("token-show", "list-100"):
            wrk(urls[scenario], max(args.conns), max(2, args.duration // 2), scripts[scenario])
        for c in args.conns:
            for scenario in args.scenarios:
                if scenario == "batch-10":  # the script starts with a stop on every group
                    restart_stopped(server, token)
                if scenario == "volume-act":  # ... and this one with a reserve
                    for v in volumes:
                        server.http("POST", f"{cinder}/{v}/action", {"os-unreserve": None}, token=token)
                rps, p50, p99, errs = wrk(urls[scenario], c, args.duration, scripts[scenario])
                target.results.append(Result(name, scenario, c, rps, p50, p99, errs))
        target.rss_mb = rss_mb(server.proc.pid)
    finally:
        server.stop()
    return target


def restart_stopped(server: EcsimServer, token: str) -> None:
    pid = server.info["project_id"]
    _, _, body = server.http("GET", f"/v1/{pid}/cloudservers/detail?status=SHUTOFF&limit=1000", token=token)
    stopped = [{"id": s["id"]} for s in body["servers"]]
    if stopped:
        status, _, _ = server.http("POST", f"/v1/{pid}/cloudservers/action", {"os-start": {"servers": stopped}},
                                   token=token)
        assert status == 200


def run_moto(args: argparse.Namespace, work: Path) -> Target | None:
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("boto3") is None:
        print("moto is not installed (pip install 'moto[server]'): skipping the AWS emulator", file=sys.stderr)
        return None
    import boto3

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    target = Target("moto_server (EC2)")
    try:
        wait_http(url)
        ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=url, aws_access_key_id="testing",
                           aws_secret_access_key="testing")
        ids: list[str] = []
        while len(ids) < 800:
            made = ec2.run_instances(ImageId="ami-12c6146b", MinCount=100, MaxCount=100, InstanceType="t3.micro")
            ids += [i["InstanceId"] for i in made["Instances"]]
        auth = ("AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/ec2/aws4_request, "
                "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": auth,
                   "X-Amz-Date": "20240101T000000Z"}
        describe = request_script(work / "moto-describe.lua", headers, "POST",
                                  f"Action=DescribeInstances&Version=2016-11-15&InstanceId.1={ids[0]}")
        groups = [ids[i:i + 10] for i in range(0, 800, 10)]

        def body(action: str, group: list[str]) -> str:
            return f"Action={action}&Version=2016-11-15&" + "&".join(
                f"InstanceId.{n}={i}" for n, i in enumerate(group, 1))

        batch = alternating_script(work / "moto-batch.lua", headers, [body("StopInstances", g) for g in groups],
                                   [body("StartInstances", g) for g in groups])
        for c in args.conns:
            for scenario, script in (("token-show", describe), ("batch-10", batch)):
                if scenario not in args.scenarios:
                    continue
                if scenario == "batch-10":
                    ec2.start_instances(InstanceIds=ids)
                rps, p50, p99, errs = wrk(url, c, args.duration, script)
                target.results.append(Result(target.name, scenario, c, rps, p50, p99, errs))
        target.rss_mb = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait()
    return target


# -- report -------------------------------------------------------------------------------------------------------
def render(targets: list[Target], args: argparse.Namespace) -> str:
    ceiling = {r.conns: r.rps for t in targets for r in t.results if t.name.startswith("ceiling")}
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M')} on {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {args.servers:,} servers in each ecsim store; instant profile; wrk -t1, "
        f"{args.duration}s per row.",
        "",
        "| target | scenario | conns | req/s | p50 ms | p99 ms | errors | vs ceiling |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in targets:
        for r in t.results:
            ratio = f"{r.rps / ceiling[r.conns]:.0%}" if ceiling.get(r.conns) else ""
            lines.append(f"| {t.name} | {r.scenario} | {r.conns} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | "
                         f"{r.errors} | {ratio} |")
    lines += ["", "| target | startup incl. seeding (s) | resident memory after the run (MiB) |", "|---|---:|---:|"]
    lines += [f"| {t.name} | {t.startup_s:.1f} | {t.rss_mb:.0f} |" for t in targets if t.rss_mb]
    by = {(t.name, r.scenario, r.conns): r.rps for t in targets for r in t.results}
    notes = []
    for c in args.conns:
        for scenario in args.scenarios:
            one, two = by.get(("postgres, 1 worker", scenario, c)), by.get(("postgres, 2 workers", scenario, c))
            if one and two:
                notes.append(f"- {scenario}, {c} conns: 2 workers on PostgreSQL = {two / one:.2f}x one worker")
            moto = by.get(("moto_server (EC2)", scenario, c))
            mem = by.get(("memory, 1 worker", scenario, c))
            if moto and mem:
                notes.append(f"- {scenario}, {c} conns: ecsim in memory = {mem / moto:.1f}x moto_server")
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", default="ceiling,sqlite,memory,postgres,postgres-2w,moto")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--servers", type=int, default=100_000, help="servers in each ecsim store")
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--conns", default="1,8", help="comma-separated connection counts")
    ap.add_argument("--out", default=None, help="also write the table (markdown) to this file")
    ap.add_argument("--postgres", default=None, metavar="URL",
                    help="PostgreSQL targets use this store, already loaded (`ecsim seed --store URL`), and keep it; "
                    "for repeated runs (default: a fresh schema, seeded, dropped afterwards)")
    args = ap.parse_args()
    args.conns = [int(c) for c in args.conns.split(",")]
    args.scenarios = args.scenarios.split(",")
    wanted = args.targets.split(",")
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="ecsim-bench-"))
    targets: list[Target] = []
    try:
        if "ceiling" in wanted:
            targets.append(run_ceiling(args, work))
        if "sqlite" in wanted:
            targets.append(run_ecsim("sqlite file, 1 worker", ["--data-dir", str(work / "data")], args, work))
        if "memory" in wanted:
            targets.append(run_ecsim("memory, 1 worker", ["--memory"], args, work))
        if "postgres" in wanted or "postgres-2w" in wanted:
            fresh = postgres_schema(os.environ.get("ECSIM_TEST_POSTGRES", POSTGRES_URL))
            with contextlib.nullcontext(args.postgres) if args.postgres else fresh as url:
                seeded = bool(args.postgres)
                if "postgres" in wanted:
                    targets.append(run_ecsim("postgres, 1 worker", ["--store", url], args, work, seed=not seeded))
                    seeded = True
                if "postgres-2w" in wanted:
                    targets.append(run_ecsim("postgres, 2 workers", ["--store", url, "--workers", "2"], args,
                                             work, seed=not seeded))
        if "moto" in wanted:
            moto = run_moto(args, work)
            if moto is not None:
                targets.append(moto)
    finally:  # a target that fails must not lose the rows measured before it
        table = render(targets, args)
        print(table)
        if args.out:
            Path(args.out).write_text(table + "\n")
        shutil.rmtree(work, ignore_errors=True)  # each store of 100,000 servers takes about 2 GB


if __name__ == "__main__":
    main()
