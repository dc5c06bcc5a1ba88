"""Run Tempest's compute (Nova v2.1) API tests against a fresh ecsim and record which pass.

    python scripts/tempest_compute.py [--tempest PATH] [--workdir DIR] [--out docs/tempest_compute.md] [--regex R]

The compute counterpart of scripts/tempest_volume.py (same prerequisites: Tempest in its own virtualenv, ecsim's
test extras). It starts `ecsim serve --memory`, creates per concurrent worker two sub-projects (primary and alt,
so that multi-tenant tests see another project) each with a member holding ECS FullAccess and EVS FullAccess, a
reader per worker (ECS and EVS ReadOnlyAccess), plus the admin, writes tempest.conf (shared spec nova.md §7.3)
and accounts.yaml, runs the tests that fit an emulator without Glance and Neutron, and writes a table of results
with the failing assertion of each failure (full tracebacks in the workdir's failures.txt).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from tempest_common import PASSWORD, EcsimServer, add_project, counts, make_user, run, tempest_version

DEFAULT_REGEX = (r"^tempest\.api\.compute\.(servers\.(test_server_actions|test_server_group|test_servers_negative|"
                 r"test_servers|test_delete_server|test_list_server_filters|test_list_servers_negative|"
                 r"test_create_server|test_server_metadata|test_server_metadata_negative|test_multiple_create|"
                 r"test_multiple_create_negative|test_servers_microversions|test_server_tags|test_availability_zone|"
                 r"test_server_addresses|test_server_addresses_negative|test_disk_config)|flavors\.\w+|limits\.\w+|"
                 r"keypairs\.\w+|volumes\.test_attach_volume|volumes\.test_attach_volume_negative|test_versions|"
                 r"test_quotas)\.")
ALT_IMAGE = "95df4f75-bd05-5aa6-9d36-bdf8cb33977f"  # Ubuntu 20.04 (another built-in image than the default)
FLAVOR, FLAVOR_ALT = "s6.small.1", "s6.medium.2"
NOTES = "<!-- notes (kept when the script rewrites this file) -->"
POLICIES = ["ECS FullAccess", "EVS FullAccess"]
# every compute class asks for a project_reader (unused with [enforce_scope] nova = false, but it must exist)
READER_POLICIES = ["ECS ReadOnlyAccess", "EVS ReadOnlyAccess"]

CONF = """[compute]
catalog_type = compute
region = {region}
endpoint_type = publicURL
image_ref = {image}
image_ref_alt = {image_alt}
flavor_ref = {flavor}
flavor_ref_alt = {flavor_alt}
min_microversion = 2.1
max_microversion = 2.79
build_timeout = 60
build_interval = 1

[compute-feature-enabled]
resize = true
enable_instance_password = true
scheduler_enabled_filters = ServerGroupAffinityFilter,ServerGroupAntiAffinityFilter
disk_config = true
change_password = false
console_output = true
pause = false
suspend = false
shelve = false
shelve_migrate = false
snapshot = false
rescue = false
cold_migration = false
live_migration = false
interface_attach = false
metadata_service = false
config_drive = false
personality = false
vnc_console = false
spice_console = false
serial_console = false
attach_encrypted_volume = false
volume_multiattach = false
swap_volume = false

[enforce_scope]
nova = false

[volume]
region = {region}
catalog_type = block-storage
endpoint_type = publicURL
min_microversion = 3.0
max_microversion = 3.71
# the default image's minDisk (40): a boot volume of 1 GB is refused (by Nova too)
volume_size = 40
build_timeout = 60
build_interval = 1

[service_available]
nova = true
cinder = true
glance = false
# true with pre-provisioned accounts and no fixed_network_name: no Neutron call is made, and the classes with
# create_default_network (servers, server groups, negatives, metadata, attach volume) are not skipped
neutron = {neutron}
swift = false

[validation]
run_validation = false
# sent as adminPass by the attach-volume tests: Tempest's default "password" fails Huawei's complexity rule
image_ssh_password = {password}
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tempest", default=shutil.which("tempest") or "/work/tempest-venv/bin/tempest")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--regex", default=DEFAULT_REGEX)
    ap.add_argument("--concurrency", type=int, default=3)
    ap.add_argument("--neutron", default="true", choices=["true", "false"],
                    help="[service_available] neutron: false skips every create_default_network class")
    ap.add_argument("--out", default=None, help="write the results table (markdown) here")
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="ecsim-tempest-compute-"))
    work.mkdir(parents=True, exist_ok=True)
    server = EcsimServer(["--memory"], str(work), env={"HOME": str(work)})
    try:
        info = server.info
        accounts = [(info["admin_user"], info["admin_password"], info["region"], "admin")]
        readers = []
        for n in range(2 * args.concurrency):  # primary + alt per worker, each in its own project
            project = f"{info['region']}_tempest{n}"
            project_id = add_project(server, project)
            for role, policies in (("member", POLICIES), ("reader", READER_POLICIES)):
                if role == "member" or n < args.concurrency:
                    user = make_user(server, f"tempest-{role}-{n}", system=policies, password=PASSWORD,
                                     project_id=project_id)
                    (accounts if role == "member" else readers).append((user["name"], PASSWORD, project, role))
        accounts += readers  # after the members: Tempest's alt is the first free non-admin account in file order
        image_alt = ALT_IMAGE if info["image_id"] != ALT_IMAGE else "31ac2d5d-7fe9-5f5f-b41c-a448357fcdec"
        # nothing to exclude: Tempest skips by itself what needs Glance or a disabled feature
        results = run(args.tempest, work, server, accounts, CONF, concurrency=args.concurrency, regex=args.regex,
                      image=info["image_id"], image_alt=image_alt, flavor=FLAVOR, flavor_alt=FLAVOR_ALT,
                      neutron=args.neutron, password=PASSWORD)
    finally:
        server.stop()
    (work / "failures.txt").write_text("".join(f"==== {r['id']}\n{r['traceback']}\n" for r in results
                                               if r["status"] == "fail"))
    report = render(results, args.regex, tempest_version(args.tempest), args.concurrency)
    print(report)
    if args.out:  # hand-written notes after the NOTES marker survive a rewrite
        out = Path(args.out)
        old = out.read_text() if out.exists() else ""
        out.write_text(report + ("\n" + old[old.index(NOTES):] if NOTES in old else ""))
    print(f"workspace (tempest.log, ecsim log, failures.txt with full tracebacks): {work}", file=sys.stderr)


def summary(row: dict) -> str:
    """The gist of a failure (the exception line, or Tempest's 'Details:' of an HTTP error) or a skip reason."""
    if row["status"] == "skip":
        return row["reason"].strip().splitlines()[0][:160] if row["reason"].strip() else ""
    if row["status"] != "fail":
        return ""
    lines = [x.strip() for x in row["traceback"].strip().splitlines() if x.strip()]
    exc = next((i for i in range(len(lines) - 1, -1, -1) if re.match(r"^[\w.]+(Error|Exception|Failure|"
                                                                       r"Mismatch|Conflict|NotFound|Forbidden|"
                                                                       r"BadRequest|ServerFault|Timeout|"
                                                                       r"Unauthorized|Body)\w*:", lines[i])), None)
    text = " ".join(lines[exc:exc + 3]) if exc is not None else (lines[-1] if lines else "")
    return text.replace("|", "\\|")[:300]


def render(results: list[dict], regex: str, version: str, concurrency: int) -> str:
    lines = [
        "# Tempest compute API tests against ecsim",
        "",
        f"Run by `python scripts/tempest_compute.py --concurrency {concurrency}` (Tempest {version}), "
        f"regex `{regex}`.",
        "",
        "Summary: " + counts(results),
        "",
        "The detail column is the failing assertion (or skip reason) as Tempest reported it; the causes are in the "
        "notes below the table.",
        "",
        "| test | result | detail |",
        "|---|---|---|",
    ]
    lines += [f"| {r['id'].removeprefix('tempest.api.compute.')} | {r['status']} | {summary(r)} |" for r in results]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    os.environ.setdefault("HOME", tempfile.gettempdir())
    main()
