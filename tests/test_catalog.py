"""The catalog is the acceptance list: every row of shared/seeds/permissions.csv must be in it, exactly."""

from __future__ import annotations

import filecmp
import importlib
from pathlib import Path

import pytest

from ecsim.catalog import all_operations
from ecsim.http.router import Router
from helpers import SEED_TABLE as DATA
from helpers import seed_rows

SHARED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "permissions.csv"


def split(value: str) -> tuple[str, ...]:
    return tuple(v for v in value.split(";") if v)


@pytest.mark.skipif(not SHARED.exists(), reason="shared/seeds not present beside the checkout")
def test_copy_of_seed_table_is_identical():
    assert filecmp.cmp(DATA, SHARED, shallow=False)


def test_every_seed_row_is_in_the_catalog_exactly():
    ops = {op.key(): op for op in all_operations()}
    rows = seed_rows()
    assert len(rows) == 54
    for row in rows:
        selector = row["selector"].removeprefix("body:") or None
        op = ops.get((row["method"], row["path"], selector))
        assert op is not None, f"missing catalog entry for {row['method']} {row['path']} {selector}"
        assert op.actions == split(row["actions"]), op.name
        assert op.dependencies == split(row["dependencies"]), op.name
        assert op.source == f"seed:{row['seed']}", op.name


def test_catalog_seed_entries_all_come_from_the_table():
    keys = {(r["method"], r["path"], r["selector"].removeprefix("body:") or None) for r in seed_rows()}
    for op in all_operations():
        if op.from_seed:
            assert op.key() in keys, f"{op.name} claims a seed source but is not in permissions.csv"


def test_catalog_keys_and_names_are_unique():
    """One entry per (method, path, selector) where it is mounted (Cinder's discovery documents sit under /volume
    only, so their bare paths may repeat Keystone's)."""
    ops = all_operations()
    assert len({(op.key(), op.mounts) for op in ops}) == len(ops)
    assert len({op.name for op in ops}) == len(ops)


def test_every_handler_resolves_and_router_builds():
    served = [op for op in all_operations() if op.handler]
    for op in served:
        module, _, func = op.handler.partition(":")
        assert callable(getattr(importlib.import_module(module), func)), op.name
    router = Router(served)
    m = router.match("GET", "/v1/abc/cloudservers/detail")
    assert m is not None and m.ops[0].name == "ecs.list_servers_details"
    m = router.match("GET", "/v1/abc/cloudservers/0e4f")
    assert m is not None and m.ops[0].name == "ecs.show_server" and m.params == {"project_id": "abc",
                                                                                  "server_id": "0e4f"}
    assert {o.selector for o in router.match("POST", "/v1/p/cloudservers/action").ops} == {
        "os-start", "os-stop", "reboot"}
    assert router.match("GET", "/identity/v3").ops[0].name == "keystone.version"


def test_every_entry_names_its_family_source_and_scope():
    for op in all_operations():
        assert op.family in {"ecs", "evs", "ims", "nova", "glance", "cinder", "keystone", "iam", "iam5", "control"}
        assert op.source.split(":")[0] in {"seed", "table", "ecsim"}, op.name
        assert op.scope in {"project", "domain", "token", "public", "control"}, op.name
        assert op.method in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}
