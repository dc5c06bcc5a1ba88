"""What the Tempest scripts (tempest_volume.py, tempest_compute.py) share: the ecsim test machinery, the
tempest.conf sections about logging and identity, pre-provisioned accounts, the workspace, the run and the
reading of its subunit stream."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from ecsim.testing.plugin import EcsimServer  # noqa: E402,F401 (for the scripts)
from helpers import make_user  # noqa: E402,F401 (for the scripts)

PASSWORD = "Passw0rd!x"

# The sections every run shares; each script appends its service's sections.
CONF_HEAD = """[DEFAULT]
log_dir = {work}/logs
log_file = tempest.log
# request and response headers and bodies in tempest.log, to tell what ecsim answered
debug = true

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
"""

ACCOUNT = """- username: '{user}'
  project_name: '{project}'
  password: '{password}'
  domain_name: '{domain}'
  roles: [{roles}]
"""


def add_project(server: Any, name: str) -> str:
    """A sub-project of the region's project (its own default network and security group come with it)."""
    status, _, body = server.http("POST", "/v3/projects", {"project": {
        "name": name, "parent_id": server.info["project_id"]}}, token=server.token(domain_scope=True))
    assert status == 201, body
    return body["project"]["id"]


def run(tempest: str, work: Path, server: Any, accounts: list[tuple[str, str, str, str]], conf: str, *,
        concurrency: int, regex: str, exclude: str | None = None, **fields: str) -> list[dict]:
    """Create a workspace with accounts.yaml and tempest.conf (CONF_HEAD, then `conf`, both formatted with the
    workspace, the server's endpoint, region and domain, and `fields`), run the tests, and read the results."""
    info = server.info
    ws = work / "workspace"
    env = {**os.environ, "HOME": str(work)}  # Tempest registers workspaces under ~/.tempest
    subprocess.run([tempest, "init", str(ws)], check=True, capture_output=True, env=env)
    (ws / "accounts.yaml").write_text("".join(
        ACCOUNT.format(user=u, password=p, project=proj, domain=info["domain_name"], roles=f"'{r}'")
        for u, p, proj, r in accounts))
    (ws / "etc" / "tempest.conf").write_text((CONF_HEAD + "\n" + conf).format(
        work=ws, endpoint=server.endpoint, region=info["region"], domain=info["domain_name"], **fields))
    cmd = [tempest, "run", "--concurrency", str(concurrency), "--regex", regex, "--subunit"]
    if exclude:
        cmd += ["--exclude-regex", exclude]
    done = subprocess.run(cmd, cwd=ws, capture_output=True, env=env)
    return subunit_details(done.stdout, Path(tempest).parent)


# Runs in Tempest's virtualenv: one JSON line per test with its status, skip reason and traceback.
_READ_SUBUNIT = """
import json, sys, subunit, testtools
def emit(t):
    text = {k: v.as_text() for k, v in t["details"].items() if k in ("reason", "traceback")}
    print(json.dumps({"id": t["id"], "status": t["status"], "reason": text.get("reason", ""),
                      "traceback": text.get("traceback", "")}))
result = testtools.StreamToDict(emit)
result.startTestRun()
subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout").run(result)
result.stopTestRun()
"""


def subunit_details(stream: bytes, bindir: Path) -> list[dict]:
    """Each test's final {id, status, reason, traceback}, by id (Tempest's tags stripped from the ids)."""
    out = subprocess.run([str(bindir / "python"), "-c", _READ_SUBUNIT], input=stream, capture_output=True,
                         check=True).stdout.decode()
    final: dict[str, dict] = {}
    for line in out.splitlines():
        row = json.loads(line)
        if row["status"] != "exists" and row["id"].startswith(("tempest.", "setUpClass")):
            row["id"] = re.sub(r"\[.*\]$", "", row["id"])
            final[row["id"]] = row
    return sorted(final.values(), key=lambda r: r["id"])


def counts(results: list[dict]) -> str:
    tally: dict[str, int] = {}
    for r in results:
        tally[r["status"]] = tally.get(r["status"], 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(tally.items()))


def tempest_version(tempest: str) -> str:
    try:
        return subprocess.run([tempest, "--version"], capture_output=True, text=True).stdout.split()[-1]
    except (OSError, IndexError):
        return "?"
