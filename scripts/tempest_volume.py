"""Run Tempest's volume API tests against a fresh ecsim and record which pass.

    python scripts/tempest_volume.py [--tempest PATH] [--workdir DIR] [--out docs/tempest.md] [--regex R]

Tempest is not a dependency of ecsim: install it in its own virtualenv first (`python -m venv /tmp/tempest &&
/tmp/tempest/bin/pip install tempest`) and pass its `tempest` executable (default: `tempest` on PATH). The script
starts `ecsim serve --memory`, creates Tempest's pre-provisioned accounts through Keystone and huaweicloudsdkiam (per
concurrent worker a sub-project with a member holding EVS FullAccess and a reader holding EVS ReadOnlyAccess, plus
the admin), writes tempest.conf and accounts.yaml, runs the
tests that fit an emulator without Nova, Glance and Neutron (see shared spec, Tempest section), and writes a table
of results. Needs the test extras (`pip install -e '.[test]'`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from ecsim.testing.plugin import EcsimServer  # noqa: E402
from helpers import make_user  # noqa: E402

DEFAULT_REGEX = (r"^tempest\.api\.volume\.(test_versions|test_availability_zone|test_extensions|test_volumes_get|"
                 r"test_volume_metadata|test_volumes_list|test_volumes_negative|test_volumes_actions|"
                 r"test_volumes_extend)\.")
# Tests that need Glance (an image service ecsim does not have: its images are Huawei IMS). They must be excluded
# rather than skipped: with [service_available] glance = false, Tempest 47's volume classes fail in setup_clients
# (they read cls.images_client, which only exists with Glance).
NEEDS_GLANCE = (r"(from_image|from_deactivated_image|test_volume_upload|"
                r"VolumesExtendTest\.test_volume_extend\b)")
PASSWORD = "Passw0rd!x"

CONF = """[DEFAULT]
log_dir = {work}/logs
log_file = tempest.log

[oslo_concurrency]
lock_path = {work}/tempest_lock

[auth]
use_dynamic_credentials = false
test_accounts_file = {work}/accounts.yaml
default_credentials_domain_name = {domain}
create_isolated_networks = false

[identity]
uri_v3 = {endpoint}/identity/v3
auth_version = v3
region = {region}
v3_endpoint_type = public

[identity-feature-enabled]
api_v2 = false

[volume]
region = {region}
catalog_type = block-storage
endpoint_type = publicURL
min_microversion = 3.0
max_microversion = 3.71
volume_size = 1
build_timeout = 30
build_interval = 1

[volume-feature-enabled]
backup = false
snapshot = false
clone = false
manage_volume = false
manage_snapshot = false
extend_attached_volume = false
extend_volume_with_snapshot = false
enable_volume_image_dep_tests = false
# "all" would demand a Hosts extension (os-hosts, an admin API ecsim does not serve)
api_extensions = os-volume-actions

[service_available]
cinder = true
nova = false
# see NEEDS_GLANCE: true only so that the volume classes set up; the tests that would call Glance are excluded
glance = true
# true with pre-provisioned accounts: no network is created, and the action tests are not skipped
neutron = true
swift = false

[validation]
run_validation = false
"""

ACCOUNT = """- username: '{user}'
  project_name: '{project}'
  password: '{password}'
  domain_name: '{domain}'
  roles: [{roles}]
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tempest", default=shutil.which("tempest") or "tempest")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--regex", default=DEFAULT_REGEX)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--out", default=None, help="write the results table (markdown) here")
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="ecsim-tempest-"))
    work.mkdir(parents=True, exist_ok=True)
    server = EcsimServer(["--memory"], str(work), env={"HOME": str(work)})
    try:
        info = server.info
        accounts = [(info["admin_user"], info["admin_password"], info["region"], "admin")]
        for copy in range(args.concurrency):  # one project per concurrent worker: lists see only its volumes
            project = f"{info['region']}_tempest{copy}"
            status, _, body = server.http("POST", "/v3/projects", {"project": {
                "name": project, "parent_id": info["project_id"]}}, token=server.token(domain_scope=True))
            assert status == 201, body
            for role, policy in (("member", "EVS FullAccess"), ("reader", "EVS ReadOnlyAccess")):
                user = make_user(server, f"tempest-{role}-{copy}", system=[policy], password=PASSWORD,
                                 project_id=body["project"]["id"])
                accounts.append((user["name"], PASSWORD, project, role))
        ws = work / "workspace"
        env = {**os.environ, "HOME": str(work)}  # Tempest registers workspaces under ~/.tempest
        subprocess.run([args.tempest, "init", str(ws)], check=True, capture_output=True, env=env)
        (ws / "accounts.yaml").write_text("".join(
            ACCOUNT.format(user=u, password=p, project=proj, domain=info["domain_name"], roles=f"'{r}'")
            for u, p, proj, r in accounts))
        (ws / "etc" / "tempest.conf").write_text(CONF.format(work=ws, endpoint=server.endpoint,
                                                             region=info["region"], domain=info["domain_name"]))
        run = subprocess.run([args.tempest, "run", "--concurrency", str(args.concurrency), "--regex", args.regex,
                              "--exclude-regex", NEEDS_GLANCE, "--subunit"], cwd=ws, capture_output=True, env=env)
        results = subunit_results(run.stdout, Path(args.tempest).parent)
    finally:
        server.stop()
    report = render(results, args.regex, NEEDS_GLANCE, tempest_version(args.tempest))
    print(report)
    if args.out:
        Path(args.out).write_text(report)
    print(f"workspace (tempest.log, ecsim log): {work}", file=sys.stderr)


# Runs in Tempest's virtualenv, which has python-subunit and testtools: one "id,status" line per test.
_READ_SUBUNIT = """
import sys, subunit, testtools
out = []
result = testtools.StreamToDict(lambda t: out.append((t["id"], t["status"])))
result.startTestRun()
subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout").run(result)
result.stopTestRun()
print("\\n".join(f"{i},{s}" for i, s in out))
"""


def subunit_results(stream: bytes, bindir: Path) -> list[tuple[str, str]]:
    """(test id, status) from Tempest's subunit stream."""
    out = subprocess.run([str(bindir / "python"), "-c", _READ_SUBUNIT], input=stream, capture_output=True,
                         check=True).stdout.decode()
    final: dict[str, str] = {}
    for line in out.splitlines():
        test_id, _, status = line.rpartition(",")
        if status != "exists" and (test_id.startswith("tempest.") or test_id.startswith("setUpClass")):
            final[re.sub(r"\[.*\]$", "", test_id)] = status
    return sorted(final.items())


def render(results: list[tuple[str, str]], regex: str, excluded: str, version: str) -> str:
    counts: dict[str, int] = {}
    for _, status in results:
        counts[status] = counts.get(status, 0) + 1
    lines = [
        "# Tempest volume API tests against ecsim",
        "",
        f"Run by `python scripts/tempest_volume.py` (Tempest {version}), regex `{regex}`, excluding the tests "
        f"that need Glance: `{excluded}`.",
        "",
        "Summary: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())),
        "",
        "| test | result |",
        "|---|---|",
    ]
    lines += [f"| {test_id.removeprefix('tempest.api.volume.')} | {status} |" for test_id, status in sorted(results)]
    return "\n".join(lines) + "\n"


def tempest_version(tempest: str) -> str:
    try:
        return subprocess.run([tempest, "--version"], capture_output=True, text=True).stdout.split()[-1]
    except (OSError, IndexError):
        return "?"


if __name__ == "__main__":
    os.environ.setdefault("HOME", tempfile.gettempdir())
    main()
