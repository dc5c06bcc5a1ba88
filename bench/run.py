"""ecsim benchmark: wrk against running servers, every figure measured in the same run as its baseline.

    python bench/run.py [--duration 10] [--servers 1000] [--out docs/benchmarks.md]

Starts a trivial ASGI app on the same server stack (the ceiling) and ecsim (SQLite file store, one worker), creates
the servers through the API, then runs wrk (Debian package `wrk`) for each scenario at 1 and 8 connections:
  token-show   GET a server with X-Auth-Token
  signed-show  GET a server with an AK/SK signature, signed once and replayed inside the 15-minute window
  batch-10     batch stop / start of 10 servers (alternating; every request is a real state change and a job)
and prints req/s, p50, p99, errors and the ratio to the ceiling.
"""

from __future__ import annotations

import argparse
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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from ecsim.testing.plugin import EcsimServer, free_port  # noqa: E402

AK, SK = "BENCHAKBENCHAKBENCH1", "benchskbenchskbenchskbenchskbenchskbench"


@dataclass
class Result:
    name: str
    conns: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


def lua_string(s: str) -> str:
    # JSON string escapes (\" \\ \n) are valid Lua escapes for the ASCII text used here.
    return json.dumps(s)


def wrk(url: str, conns: int, duration: int, script: str | None) -> tuple[float, float, float, int, int]:
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--latency", url]
    if script:
        cmd[1:1] = ["-s", script]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    out = proc.stdout
    if proc.stderr.strip():
        print(proc.stderr.strip(), file=sys.stderr)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = int(non2xx.group(1)) if non2xx else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errs += sum(int(x) for x in sock.groups())
    return rps, to_ms(lat["50"]), to_ms(lat["99"]), errs, total


def to_ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def header_script(path: Path, headers: dict[str, str], method: str = "GET", body: str | None = None) -> str:
    lines = [f"wrk.method = {lua_string(method)}"]
    for k, v in headers.items():
        lines.append(f"wrk.headers[{lua_string(k)}] = {lua_string(v)}")
    if body is not None:
        lines.append(f"wrk.body = {lua_string(body)}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def batch_script(path: Path, token: str, bodies_stop: list[str], bodies_start: list[str]) -> str:
    """Request k acts on group k % G; a group's visits alternate stop, start. With G > connections no two
    in-flight requests touch the same servers, so every request is a valid state change."""
    groups = len(bodies_stop)
    table_stop = ",\n".join(lua_string(b) for b in bodies_stop)
    table_start = ",\n".join(lua_string(b) for b in bodies_start)
    path.write_text(textwrap.dedent(f"""
        local stops = {{ {table_stop} }}
        local starts = {{ {table_start} }}
        local k = -1  -- wrk calls request() once, unsent, to verify the script
        wrk.method = "POST"
        wrk.headers["Content-Type"] = "application/json"
        wrk.headers["X-Auth-Token"] = {lua_string(token)}
        local reported = false
        response = function(status, headers, body)
            if status >= 300 and not reported then
                reported = true
                io.stderr:write("first failure: " .. status .. " " .. body .. string.char(10))
            end
        end
        request = function()
            local g = k % {groups}
            local visit = math.floor(k / {groups})
            k = k + 1
            local body = (visit % 2 == 0) and stops[g + 1] or starts[g + 1]
            return wrk.format(nil, nil, nil, body)
        end
    """))
    return str(path)


def restart_stopped(server: EcsimServer, token: str) -> None:
    pid = server.info["project_id"]
    _, _, body = server.http("GET", f"/v1/{pid}/cloudservers/detail?status=SHUTOFF&limit=1000", token=token)
    stopped = [{"id": s["id"]} for s in body["servers"]]
    if stopped:
        status, _, _ = server.http("POST", f"/v1/{pid}/cloudservers/action", {"os-start": {"servers": stopped}},
                                   token=token)
        assert status == 200


def start_ceiling() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "ceiling:app", "--port", str(port), "--log-level", "warning",
         "--no-access-log"], cwd=ROOT / "bench", stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(200):
        try:
            subprocess.run(["curl", "-sf", url], check=True, capture_output=True)
            break
        except subprocess.CalledProcessError:
            time.sleep(0.05)
    return proc, url


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--servers", type=int, default=1000, help="servers to create before measuring")
    ap.add_argument("--conns", default="1,8", help="comma-separated connection counts")
    ap.add_argument("--out", default=None, help="also write the table (markdown) to this file")
    ap.add_argument("--memory", action="store_true", help="measure the in-memory store instead of a SQLite file")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    conns = [int(c) for c in args.conns.split(",")]
    work = Path(tempfile.mkdtemp(prefix="ecsim-bench-"))
    ceiling, ceiling_url = start_ceiling()
    store = ["--memory"] if args.memory else ["--data-dir", str(work / "data")]
    server = EcsimServer([*store, "--access-key", AK, "--secret-key", SK,
                          "--quota", f"instances={args.servers + 100}", "--quota", "cores=1000000",
                          "--quota", "ram=100000000"], str(work), env={"HOME": str(work)})
    results: list[Result] = []
    try:
        info = server.info
        pid = info["project_id"]
        ecs = server.ecs()
        from helpers import create

        ids: list[str] = []
        while len(ids) < args.servers:
            ids += create(ecs, info, f"bench-{len(ids)}", count=min(100, args.servers - len(ids)))[1]
        token = server.token()
        show_path = f"/v1/{pid}/cloudservers/{ids[0]}"
        from helpers import signed_headers

        scripts = {
            "token-show": header_script(work / "token.lua", {"X-Auth-Token": token}),
            "signed-show": header_script(work / "signed.lua", signed_headers(server, "GET", show_path)),
        }
        groups = [ids[i:i + 10] for i in range(0, min(len(ids), 800), 10)]
        stop_bodies = [json.dumps({"os-stop": {"type": "HARD", "servers": [{"id": i} for i in g]}}) for g in groups]
        start_bodies = [json.dumps({"os-start": {"servers": [{"id": i} for i in g]}}) for g in groups]
        scripts["batch-10"] = batch_script(work / "batch.lua", token, stop_bodies, start_bodies)
        urls = {"token-show": server.endpoint + show_path, "signed-show": server.endpoint + show_path,
                "batch-10": f"{server.endpoint}/v1/{pid}/cloudservers/action"}
        for c in conns:
            rps, p50, p99, errs, total = wrk(ceiling_url, c, args.duration, None)
            results.append(Result("ceiling (trivial ASGI)", c, rps, p50, p99, errs, total))
            for name in ("token-show", "signed-show", "batch-10"):
                if name == "batch-10":  # the script starts with a stop on every group: start what is off
                    restart_stopped(server, token)
                rps, p50, p99, errs, total = wrk(urls[name], c, args.duration, scripts[name])
                results.append(Result(name, c, rps, p50, p99, errs, total))
    finally:
        server.stop()
        ceiling.terminate()
        ceiling.wait()
    table = render(results, args)
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n")


def render(results: list[Result], args: argparse.Namespace) -> str:
    ceilings = {r.conns: r.rps for r in results if r.name.startswith("ceiling")}
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M')} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; ecsim: {'in-memory' if args.memory else 'SQLite file'} store, "
        f"1 worker, instant profile, "
        f"{args.servers} servers; wrk -t1, {args.duration}s per row.",
        "",
        "| scenario | conns | req/s | p50 ms | p99 ms | errors | vs ceiling |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ratio = r.rps / ceilings[r.conns] if ceilings.get(r.conns) else 0
        lines.append(f"| {r.name} | {r.conns} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} | "
                     f"{ratio:.0%} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
