"""Profile ecsim's request path in-process (no sockets): where does the time of one request go?

    python bench/hotpath.py [token-show|signed-show|policy-show|batch-10|list-100] [--n 20000]
                            [--store memory|file|postgresql://...] [--seed 100000] [--sql]

Prints the per-request cost and the top functions by cumulative time (cProfile).
"""

from __future__ import annotations

import argparse
import atexit
import cProfile
import json
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from ecsim.config import Config  # noqa: E402
from ecsim.http.app import App  # noqa: E402
from ecsim.runtime import Runtime  # noqa: E402
from policies import fifty_statement_user  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", choices=["token-show", "signed-show", "policy-show", "batch-10", "list-100"])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--store", default="file", help="memory, file, or a postgresql:// URL")
    ap.add_argument("--no-profile", action="store_true", help="only time the requests")
    ap.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative, tottime)")
    ap.add_argument("--callees", default=None, help="also print what functions matching this call")
    ap.add_argument("--sql", action="store_true", help="time each SQL statement of the state store (SQLite only)")
    ap.add_argument("--seed", type=int, default=0, help="bulk-load this many servers (with disks) first, as "
                    "`ecsim serve --seed-servers` does, and act on them")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="ecsim-prof-")
    atexit.register(shutil.rmtree, work, True)
    pg = args.store if args.store.startswith("postgres") else None
    cfg = Config(memory=args.store == "memory", data_dir=work, store=pg,
                 quota={"instances": 100000, "cores": 10**7, "ram": 10**9})
    app = App(Runtime.create(cfg))
    info = app.rt.boot
    store = app.rt.store
    if args.seed:
        from ecsim.services.seed import seed

        seed(app.rt, servers=args.seed, volumes_count=0)
    store.grouping = True
    app.rt.decisions.start_writer()  # as when serving (a SQLite file's log: a process of its own)
    pid = info.project_id

    def call(method: str, path: str, body: object = None, headers: dict | None = None, query: bytes = b""):
        raw = json.dumps(body).encode() if body is not None else b""
        h = {"content-type": "application/json", **{k.lower(): v for k, v in (headers or {}).items()}}
        resp = app.handle(method, path, query, h, raw, "127.0.0.1")
        if store.group_pending():  # as when serving: each request's writes commit as a group, then housekeeping
            store.commit_group()
            store.housekeeping()
        return resp

    tok = call("POST", "/v3/auth/tokens", {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": info.admin_user, "password": info.admin_password, "domain": {"name": info.domain_name}}}},
        "scope": {"project": {"name": info.region}}}})
    token = dict(tok.headers)[b"x-subject-token"].decode()
    server = {"server": {"imageRef": info.image_id, "flavorRef": info.flavor_id, "name": "p", "vpcid": info.vpc_id,
                         "nics": [{"subnet_id": info.subnet_id}], "root_volume": {"volumetype": "SSD"}, "count": 100}}
    for _ in range(0 if args.seed else 10):
        call("POST", f"/v1/{pid}/cloudservers", server, {"X-Auth-Token": token})
    ids: list[str] = []
    while len(ids) < 1000:  # the newest 1,000 servers, in list order, as bench/run.py picks them
        marker = f"&marker={ids[-1]}" if ids else ""
        page = call("GET", f"/v1.1/{pid}/cloudservers/detail", headers={"X-Auth-Token": token},
                    query=f"limit=100{marker}".encode())
        ids += [s["id"] for s in json.loads(page.body)["servers"]]
    show = f"/v1/{pid}/cloudservers/{ids[0]}"
    if args.scenario in ("signed-show", "policy-show"):
        from huaweicloudsdkcore.auth.credentials import BasicCredentials
        from huaweicloudsdkcore.sdk_request import SdkRequest
        from huaweicloudsdkcore.signer.signer import Signer

        ak, sk = info.access_key, info.secret_key
        if args.scenario == "policy-show":
            keys = fifty_statement_user(
                lambda m, p, b=None: json.loads(call(m, p, b, {"X-Auth-Token": token}).body or b"null"),
                {"project_id": pid, "domain_id": info.domain_id, "region": info.region}, other_server=ids[1])
            ak, sk = keys["ak"], keys["sk"]
        req = SdkRequest(method="GET", schema="http", host="127.0.0.1:8000", resource_path=show, query_params=[],
                         header_params={"Content-Type": "application/json", "X-Project-Id": pid}, body=b"")
        signed = dict(Signer(BasicCredentials(ak, sk, pid)).sign(req).header_params)

        def one(i: int) -> None:
            assert call("GET", show, headers=signed).status == 200
    elif args.scenario == "token-show":
        def one(i: int) -> None:
            assert call("GET", show, headers={"X-Auth-Token": token}).status == 200
    elif args.scenario == "list-100":
        def one(i: int) -> None:
            assert call("GET", f"/v1.1/{pid}/cloudservers/detail", headers={"X-Auth-Token": token},
                        query=b"limit=100").status == 200
    else:
        groups = [ids[i:i + 10] for i in range(0, 1000, 10)]
        page = call("GET", f"/v1/{pid}/cloudservers/detail", headers={"X-Auth-Token": token},
                    query=b"status=SHUTOFF&limit=1000")  # left stopped by an earlier run: the first round stops
        stopped = [{"id": s["id"]} for s in json.loads(page.body)["servers"]]
        if stopped:
            call("POST", f"/v1/{pid}/cloudservers/action", {"os-start": {"servers": stopped}}, {"X-Auth-Token": token})

        def one(i: int) -> None:
            g = groups[i % len(groups)]
            key = "os-stop" if (i // len(groups)) % 2 == 0 else "os-start"
            body = {key: {"servers": [{"id": x} for x in g]}}
            assert call("POST", f"/v1/{pid}/cloudservers/action", body, {"X-Auth-Token": token}).status == 200

    for i in range(200):
        one(i)
    sql_times: dict[str, list[float]] = {}
    if args.sql:
        store._conn = _TimedConnection(store._conn, sql_times)
    prof = cProfile.Profile()
    t0, c0 = time.perf_counter(), time.thread_time()
    if not args.no_profile:
        prof.enable()
    for i in range(200, 200 + args.n):
        one(i)
    prof.disable()
    dt, cpu = time.perf_counter() - t0, time.thread_time() - c0
    label = "timed" if args.no_profile else "profiled"
    print(f"{args.scenario}: {dt / args.n * 1e6:.1f} us per request ({label}), {args.n / dt:,.0f} req/s in-process, "
          f"{cpu / args.n * 1e6:.1f} us of the serving thread's CPU")
    if not args.no_profile:
        stats = pstats.Stats(prof).sort_stats(args.sort)
        stats.print_stats(25)
        if args.callees:
            stats.print_callees(args.callees)
    for sql, (count, total) in sorted(sql_times.items(), key=lambda kv: -kv[1][1]):
        print(f"{total / args.n * 1e6:7.1f} us per request  {count / args.n:5.1f} calls  {sql}")


class _TimedConnection:
    """Wraps a sqlite3 connection: time spent per statement (its first 90 characters)."""

    def __init__(self, conn, times: dict[str, list[float]]) -> None:
        self._conn, self._times = conn, times

    def _timed(self, method: str, sql: str, *args):
        t0 = time.perf_counter()
        try:
            return getattr(self._conn, method)(sql, *args)
        finally:
            entry = self._times.setdefault(" ".join(sql.split())[:90], [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - t0

    def execute(self, sql, *args):
        return self._timed("execute", sql, *args)

    def executemany(self, sql, *args):
        return self._timed("executemany", sql, *args)

    def __getattr__(self, name):
        return getattr(self._conn, name)


if __name__ == "__main__":
    main()
